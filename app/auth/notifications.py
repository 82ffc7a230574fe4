"""Each staff member's own mail settings (queue digest), on the auth blueprint."""
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired

from app.auth.permissions import Permission, can, login_required
from app.auth.routes import bp
from app.extensions import db
from app.moderation import staff_notices

DIGEST_LABELS = {
    "off": _l("No digest"),
    "hourly": _l("Hourly: new comments and readers waiting too long, at most once an hour"),
    "daily": _l("Daily: a summary once a day"),
}


class NotificationsForm(FlaskForm):
    class Meta:
        locales = False  # messages come from our own catalog

    digest = RadioField(_l("Queue digest by e-mail"),
                        choices=[SelectChoice(value, label) for value, label in DIGEST_LABELS.items()],
                        validators=[InputRequired(_l("Please choose one of the options."))])
    # Mails at once (app/moderation/staff_notices.py), kept per person in a Setting row.
    direct = BooleanField(_l("Mail me at once when a comment is assigned or escalated to me, or a colleague "
                             "mentions me (@username) in a note"))
    targets = BooleanField(_l("Mail me when a reader nobody is assigned to is about to wait, or has waited, "
                              "longer than the response target"))


@bp.route("/account/notifications", methods=["GET", "POST"])
@login_required
def notifications():
    chosen = staff_notices.prefs(current_user)
    form = NotificationsForm(digest=current_user.digest or "off", direct=chosen.direct, targets=chosen.targets)
    if form.validate_on_submit():
        if current_user.digest == "off" and form.digest.data != "off":
            current_user.digest_sent_at = None  # the first digest covers one interval, not the months it was off
        current_user.digest = form.digest.data
        if can(current_user, Permission.MODERATE):  # the only ones shown these choices
            staff_notices.save_prefs(current_user, staff_notices.Prefs(direct=form.direct.data,
                                                                       targets=form.targets.data))
        db.session.commit()
        flash(_("Your notification settings have been saved."), "success")
        return redirect(url_for("auth.notifications"))
    message = None
    if form.digest.errors:  # also WTForms' own "Not a valid choice", in our words
        form.digest.errors = [_("Please choose one of the options.")]
    elif form.errors:
        message = _("The form was incomplete; please try again.")
    status = 400 if request.method == "POST" else 200
    return render_template("auth/notifications.html", form=form, message=message,
                           moderates=can(current_user, Permission.MODERATE)), status
