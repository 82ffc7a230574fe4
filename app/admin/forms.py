"""Forms for the staff-account pages. The account rules themselves live in app.users.service."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from app.auth.permissions import ROLE_LABELS
from app.models import Role


def _role_field():
    return SelectField(_l("Role"), choices=[SelectChoice(role.value, label) for role, label in ROLE_LABELS.items()],
                       default=Role.AUTHOR.value)


class _PasswordChoice:
    """Either a typed password or a generated one, never both (nothing typed is silently dropped)."""

    generate: BooleanField

    def password_value(self) -> str:
        return self._password_field().data or ""

    def _password_field(self) -> PasswordField:
        raise NotImplementedError

    def check_password_choice(self, required: bool) -> bool:
        typed = bool(self.password_value())
        if typed and self.generate.data:
            self._password_field().errors.append(_l("Either type a password or let one be generated, not both."))
            return False
        if required and not typed and not self.generate.data:
            self._password_field().errors.append(_l("Please type a password or let one be generated."))
            return False
        return True


class UserCreateForm(FlaskForm, _PasswordChoice):
    username = StringField(_l("User name"), validators=[DataRequired(_l("Please enter a user name.")), Length(max=64)])
    display_name = StringField(_l("Display name"), validators=[Optional(), Length(max=120)])
    email = EmailField(_l("E-mail address"), validators=[DataRequired(_l("Please enter an e-mail address.")),
                                                          Length(max=254)])
    role = _role_field()
    password = PasswordField(_l("Password"), validators=[Optional()])
    generate = BooleanField(_l("Generate a password (shown once after saving)"))

    def _password_field(self):
        return self.password

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        return self.check_password_choice(required=True) and ok


class UserEditForm(FlaskForm, _PasswordChoice):
    display_name = StringField(_l("Display name"), validators=[DataRequired(_l("Please enter a display name.")),
                                                               Length(max=120)])
    email = EmailField(_l("E-mail address"), validators=[DataRequired(_l("Please enter an e-mail address.")),
                                                          Length(max=254)])
    role = _role_field()
    active = BooleanField(_l("Active (may sign in)"))
    new_password = PasswordField(_l("New password"), validators=[Optional()])
    generate = BooleanField(_l("Generate a new password (shown once after saving)"))

    def _password_field(self):
        return self.new_password

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        return self.check_password_choice(required=False) and ok


class UserInviteForm(FlaskForm):
    """A new staff member who chooses their own password through a mailed link."""

    username = StringField(_l("User name"), validators=[DataRequired(_l("Please enter a user name.")), Length(max=64)])
    display_name = StringField(_l("Display name"), validators=[Optional(), Length(max=120)])
    email = EmailField(_l("E-mail address"), validators=[DataRequired(_l("Please enter an e-mail address.")),
                                                          Length(max=254)])
    role = _role_field()
