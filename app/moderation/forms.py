from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional


def choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as the select choices WTForms wants."""
    return [SelectChoice(str(value), label) for value, label in pairs]


class ActionForm(FlaskForm):
    """One decision on one comment: the status the moderator saw travels along (no double action)."""

    expected = HiddenField()
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=500)])
    next = HiddenField()


class ReplyForm(FlaskForm):
    body = TextAreaField(_l("Official answer"), validators=[
        DataRequired(_l("Please write the answer.")), Length(max=10_000, message=_l("The answer is too long."))])
    as_team = SelectField(_l("Sign as"), choices=[SelectChoice("team", ""), SelectChoice("me", "")], default="team")
    expect_unanswered = HiddenField(default="1")
    preview = BooleanField()
    next = HiddenField()


class EditForm(FlaskForm):
    body = TextAreaField(_l("Text"), validators=[DataRequired(_l("The text cannot be empty."))])
    reason = StringField(_l("Why (for the audit log)"), validators=[Optional(), Length(max=500)])


class NoteForm(FlaskForm):
    body = TextAreaField(_l("Internal note"), validators=[DataRequired(_l("Please write the note.")),
                                                          Length(max=5000)])


class EscalateForm(FlaskForm):
    to = StringField(_l("Hand over to"), validators=[DataRequired(_l("Please say who takes over.")), Length(max=80)])
    note = TextAreaField(_l("Note for them"), validators=[DataRequired(_l("Please add a note.")), Length(max=5000)])


class AssignForm(FlaskForm):
    assignee = SelectField(_l("Assign to"), choices=[], validate_choice=False)


class ResponseStatusForm(FlaskForm):
    response_status = SelectField(_l("Answer status"), choices=[], validate_choice=False)


class TopicForm(FlaskForm):
    topic = SelectField(_l("Topic"), choices=[], validate_choice=False)


class BulkForm(FlaskForm):
    action = SelectField(_l("With the selected"), choices=[], validate_choice=False)
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=500)])
    next = HiddenField()


class CannedForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(_l("Please give it a title.")), Length(max=120)])
    lang = SelectField(_l("Language"), choices=[SelectChoice("de", "Deutsch"), SelectChoice("en", "English")])
    body_md = TextAreaField(_l("Text"), validators=[DataRequired(_l("Please write the text.")), Length(max=10_000)])
