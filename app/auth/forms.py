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


class PasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"),
                            validators=[DataRequired(_l("Please enter your current password."))])
    new = PasswordField(_l("New password"), validators=[
        DataRequired(_l("Please enter a new password.")),
        Length(min=MIN_PASSWORD_LENGTH,
               message=_l("The new password needs at least %(n)s characters.", n=MIN_PASSWORD_LENGTH))])
    repeat = PasswordField(_l("Repeat the new password"), validators=[
        DataRequired(_l("Please repeat the new password.")), EqualTo("new", _l("The two new passwords differ."))])
