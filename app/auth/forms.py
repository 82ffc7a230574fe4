from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from app.users.service import MIN_PASSWORD_LENGTH


class LoginForm(FlaskForm):
    username = StringField(_l("User name"), validators=[DataRequired(_l("Please enter your user name."))])
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Please enter your password."))])
    remember = BooleanField(_l("Stay signed in on this device"))
    next = HiddenField()


def _new_password_field():
    """The password rules of every form that sets one (change, invitation, reset)."""
    return PasswordField(_l("New password"), validators=[
        DataRequired(_l("Please enter a new password.")),
        Length(min=MIN_PASSWORD_LENGTH,
               message=_l("The new password needs at least %(n)s characters.", n=MIN_PASSWORD_LENGTH))])


def _repeat_field():
    return PasswordField(_l("Repeat the new password"), validators=[
        DataRequired(_l("Please repeat the new password.")), EqualTo("new", _l("The two new passwords differ."))])


class PasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"),
                            validators=[DataRequired(_l("Please enter your current password."))])
    new = _new_password_field()
    repeat = _repeat_field()


class SetPasswordForm(FlaskForm):
    """An invited member's first password, or a new one after "forgot password"."""

    new = _new_password_field()
    repeat = _repeat_field()


class ForgotPasswordForm(FlaskForm):
    login = StringField(_l("User name or e-mail address"),
                        validators=[DataRequired(_l("Please enter your user name or e-mail address.")),
                                    Length(max=254)])


class TwoFactorCodeForm(FlaskForm):
    """The second sign-in step: a code from the app, or a recovery code."""

    code = StringField(_l("Code"), validators=[DataRequired(_l("Please enter the code.")), Length(max=32)])


class TwoFactorEnableForm(FlaskForm):
    setup = HiddenField()  # the new secret, signed for this account (shown as QR code and text)
    code = StringField(_l("Code from the app"), validators=[DataRequired(_l("Please enter the code.")),
                                                            Length(max=32)])


class TwoFactorDisableForm(FlaskForm):
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Please enter your password."))])
    code = StringField(_l("Code from the app or a recovery code"),
                       validators=[DataRequired(_l("Please enter the code.")), Length(max=32)])
