"""The webhook form (admins). The rules (http(s), public addresses, known events) are the service's."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectMultipleField, StringField
from wtforms.validators import Length
from wtforms.widgets import CheckboxInput, ListWidget

from app.models import WEBHOOK_EVENTS
from app.webhooks.service import EVENT_LABELS, MAX_NAME, MAX_URL


class WebhookForm(FlaskForm):
    class Meta:
        locales = False  # messages come from our own catalog

    name = StringField(_l("Name"), validators=[Length(max=MAX_NAME, message=_l("At most %(max)d characters."))])
    url = StringField(_l("Address (URL)"), validators=[Length(max=MAX_URL, message=_l("At most %(max)d characters."))])
    # validate_choice off: an unknown event gets the service's message, not WTForms' "Not a valid choice"
    events = SelectMultipleField(_l("Events"), choices=[SelectChoice(e, EVENT_LABELS[e]) for e in WEBHOOK_EVENTS],
                                 validate_choice=False, widget=ListWidget(prefix_label=False),
                                 option_widget=CheckboxInput())


class ActionForm(FlaskForm):
    """The buttons (enable, disable, test, new secret, delete): only the CSRF token."""
