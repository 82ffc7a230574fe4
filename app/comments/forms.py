import re

from flask import current_app
from flask_babel import format_number, lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, RadioField, StringField, TextAreaField, URLField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from app.converters import MAX_ID

EMAIL = re.compile(r"^[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']{2,}$")
WEBSITE = re.compile(r"^https?://[^\s/?#<>\"']+\.[^\s<>\"']+$", re.IGNORECASE)


_ID = re.compile(r"[0-9]{1,18}")


def is_id(value) -> bool:
    """A database id as sent by a form: ASCII digits only, small enough for any integer column
    (PostgreSQL's INTEGER: 18 digits made it raise "out of range")."""
    return isinstance(value, str) and bool(_ID.fullmatch(value)) and int(value) <= MAX_ID


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class CommentForm(FlaskForm):
    """A reader's comment or reply. Names and websites are plain text; only http(s) sites are linked."""

    class Meta:
        locales = False  # messages come from our own catalog

    name = StringField(_l("Name"), filters=[_strip], validators=[
        DataRequired(_l("Please enter your name.")),
        Length(max=80, message=_l("Please keep your name under 80 characters."))])
    email = EmailField(_l("E-mail address"), filters=[_strip], validators=[
        DataRequired(_l("Please enter your e-mail address.")),
        Length(max=254, message=_l("This e-mail address is too long.")),
        Regexp(EMAIL, message=_l("Please enter a valid e-mail address, such as name@example.org."))])
    website = URLField(_l("Website"), filters=[_strip], validators=[
        Optional(), Length(max=300, message=_l("This address is too long.")),
        Regexp(WEBSITE, message=_l("Please enter a web address starting with http:// or https://."))])
    body = TextAreaField(_l("Your comment"), validators=[DataRequired(_l("Please write a comment."))])
    consent = BooleanField(validators=[
        DataRequired(_l("Please agree to the privacy notice so we may store your comment."))])
    notify = BooleanField(_l("E-mail me when my comment is published and when someone answers it"))
    parent_id = HiddenField()
    ts = HiddenField()
    homepage = StringField(_l("Leave this field empty"))  # honeypot: people never see it, bots fill it

    def validate_body(self, field):
        limit = current_app.config["COMMENT_MAX_LENGTH"]
        if field.data and len(field.data) > limit:
            raise ValidationError(_l("Please keep your comment under %(limit)s characters (it has %(length)s).",
                                     limit=format_number(limit), length=format_number(len(field.data))))

    def validate_parent_id(self, field):
        if field.data and not is_id(field.data):
            raise ValidationError(_l("The comment you want to answer does not exist."))

    @property
    def parent(self) -> int | None:
        return int(self.parent_id.data) if is_id(self.parent_id.data) else None


class EditCommentForm(FlaskForm):
    body = TextAreaField(_l("Your comment"), validators=[DataRequired(_l("Please write a comment."))])

    validate_body = CommentForm.validate_body


class ConfirmForm(FlaskForm):
    """Just the CSRF token: confirming is a POST, so link scanners cannot confirm for people."""


REPORT_REASONS = [
    SelectChoice("spam", _l("Spam or advertising")),
    SelectChoice("offensive", _l("Insulting or hateful")),
    SelectChoice("personal_data", _l("Personal data of someone")),
    SelectChoice("off_topic", _l("Off topic")),
    SelectChoice("other", _l("Something else")),
]


class ReportForm(FlaskForm):
    """A reader reports a published comment to the team."""

    reason = RadioField(_l("What is wrong with it?"), choices=REPORT_REASONS,
                        validators=[DataRequired(_l("Please choose a reason."))])
    details = TextAreaField(_l("Details (optional)"), validators=[
        Optional(), Length(max=1000, message=_l("Please keep it under 1,000 characters."))])
