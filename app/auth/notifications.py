"""Each staff member's own mail settings (queue digest), on the auth blueprint."""
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import RadioField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired

from app.auth.permissions import Permission, can, login_required
from app.auth.routes import bp
from app.extensions import db

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


@bp.route("/account/notifications", methods=["GET", "POST"])
@login_required
def notifications():
    form = NotificationsForm(digest=current_user.digest or "off")
    if form.validate_on_submit():
        if current_user.digest == "off" and form.digest.data != "off":
            current_user.digest_sent_at = None  # the first digest covers one interval, not the months it was off
        current_user.digest = form.digest.data
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
