"""The editor's forms: they carry the CSRF token and the typed values; the rules live in app.content.editing."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectChoice, SelectField, StringField, TextAreaField

from app.models import PostStatus

STATUS_LABELS = {
    PostStatus.DRAFT: _l("Draft"),
    PostStatus.REVIEW: _l("In review"),
    PostStatus.SCHEDULED: _l("Scheduled"),
    PostStatus.PUBLISHED: _l("Published"),
}
LANGUAGE_LABELS = {"de": _l("German"), "en": _l("English")}


class PostForm(FlaskForm):
    """Every field of a post; choices are set by the view (statuses the user may pick, categories)."""

    title = StringField(_l("Title"))
    slug = StringField(_l("Address (slug)"))
    summary = TextAreaField(_l("Summary"))
    category = SelectField(_l("Category"), choices=[], validate_choice=False)
    tags = StringField(_l("Tags"))
    lang = SelectField(_l("Language"), choices=[SelectChoice(code, label) for code, label in LANGUAGE_LABELS.items()],
                       validate_choice=False, default="de")
    comments_open = BooleanField(_l("Comments open"), default=True)
    status = SelectField(_l("Status"), choices=[], validate_choice=False, default=PostStatus.DRAFT)
    published_at = StringField(_l("Publication date and time"))
    body = TextAreaField(_l("Text (Markdown)"))
    version = HiddenField()


class PreviewForm(FlaskForm):
    """The live preview's request: Markdown in."""

    body = TextAreaField()


class ActionForm(FlaskForm):
    """A button that changes something (restore, preview link, comments): CSRF and the version seen."""

    version = HiddenField()
