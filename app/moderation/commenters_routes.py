"""Commenter statuses from the queue: pre-moderate or ban a reader by address and/or client (the
IP hash, resolved from a comment on the server: it never reaches the HTML), the list, lifting.
Every route needs the MODERATE permission; the work is in `moderation.commenters`."""
from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField
from wtforms.fields.choices import SelectChoice

from app.auth.permissions import Permission, permission_required
from app.extensions import db
from app.models import Comment, CommenterKind, CommenterLevel, CommenterStatus, utcnow
from app.moderation import commenters
from app.moderation.forms import ActionForm
from app.moderation.routes import _comment_or_404, _render_detail
from app.urls import safe_next

bp = Blueprint("commenters", __name__, url_prefix="/moderation/commenters")
moderate = permission_required(Permission.MODERATE)

PREFIX = "commenter"  # the comment's page holds other forms with a "reason" field
SCOPES = {"email": (CommenterKind.EMAIL,), "ip": (CommenterKind.IP,), "both": (CommenterKind.EMAIL, CommenterKind.IP)}
SCOPE_LABELS = {"email": _l("by address"), "ip": _l("by client (IP hash)"), "both": _l("by address and client")}
LEVEL_LABELS = {CommenterLevel.PREMODERATE: _l("pre-moderate: every comment waits for review"),
                CommenterLevel.BANNED: _l("ban: comments go to spam")}
KIND_LABELS = {CommenterKind.EMAIL: _l("address"), CommenterKind.IP: _l("client")}
LEVEL_SHORT = {CommenterLevel.PREMODERATE: _l("pre-moderated"), CommenterLevel.BANNED: _l("banned")}


class CommenterStatusForm(FlaskForm):
    # Choices are checked by the service, with its own messages (WTForms' would be untranslated).
    scope = SelectField(_l("Whom"), choices=[SelectChoice(k, v) for k, v in SCOPE_LABELS.items()], default="email",
                        validate_choice=False)
    level = SelectField(_l("Status"), choices=[SelectChoice(str(k), v) for k, v in LEVEL_LABELS.items()],
                        default=str(CommenterLevel.PREMODERATE), validate_choice=False)
    reason = StringField(_l("Reason (colleagues see it)"))
    expires_days = StringField(_l("Ends after days (empty: until lifted)"))
    next = HiddenField()


@bp.app_context_processor
def commenter_labels():
    return {"commenter_kind_labels": KIND_LABELS, "commenter_level_labels": LEVEL_SHORT}


@bp.app_template_global()
def commenter_panel(comment: Comment) -> dict:
    """What `moderation/_commenter_status.html` shows on a comment's page: the form (as typed, after
    a refused save) and the statuses of the comment's address and client, expired ones too."""
    form = g.get("commenter_form") or CommenterStatusForm(formdata=None, prefix=PREFIX)
    reader = comment.user_id is None
    return {"form": form, "reader": reader, "has_client": bool(comment.ip_hash), "now": utcnow(),
            "statuses": commenters.for_commenter(comment.author_email, comment.ip_hash) if reader else []}


@bp.get("/")
@moderate
def index():
    now = utcnow()
    number = min(max(1, request.args.get("page", 1, type=int)), 1_000_000)
    pagination = commenters.list_statuses(now, page=number)
    return render_template("moderation/commenters.html", pagination=pagination, statuses=pagination.items,
                           latest=commenters.latest_comments(pagination.items), counts=commenters.counts(now),
                           now=now, lift_form=ActionForm())


@bp.post("/comments/<int:comment_id>")
@moderate
def set_from_comment(comment_id: int):
    """Pre-moderate or ban the author of a comment, by its address and/or its client."""
    comment = _comment_or_404(comment_id)
    form = CommenterStatusForm(prefix=PREFIX)
    errors: dict[str, object] = {}
    if not form.validate():
        errors["form"] = _("The form was incomplete; please try again.")
    elif comment.user_id is not None:
        errors["scope"] = _("This is a team member's comment: statuses are for readers.")
    elif form.scope.data not in SCOPES:
        errors["scope"] = _("Please choose by address, by client or both.")
    elif form.level.data not in set(CommenterLevel):
        errors["level"] = _("Unknown level.")
    now = utcnow()
    expires_at = None
    if not errors:
        try:
            expires_at = commenters.expiry(form.expires_days.data, now)
        except commenters.CommenterError as exc:
            errors[exc.field] = exc.message
        targets = [(kind, comment.author_email if kind == CommenterKind.EMAIL else comment.ip_hash)
                   for kind in SCOPES[form.scope.data]]
        try:
            commenters.check(targets, form.level.data, form.reason.data)
        except commenters.CommenterError as exc:
            errors.setdefault(exc.field, exc.message)
    if errors:
        return _refused(comment_id, form, errors)
    saved = commenters.set_statuses(targets, form.level.data, form.reason.data, expires_at, current_user, now=now,
                                    note=f"comment {comment.id}")
    db.session.commit()
    flash(_("%(name)s is now %(level)s (%(whom)s).", name=comment.author_name,
            level=LEVEL_SHORT[saved[0].level], whom=SCOPE_LABELS[form.scope.data]), "success")
    return redirect(url_for("moderation.comment", comment_id=comment_id, _anchor="commenter-status"))


@bp.post("/<int:status_id>/lift")
@moderate
def lift(status_id: int):
    status = db.session.get(CommenterStatus, status_id) or abort(404)
    form = ActionForm()
    if not form.validate():
        abort(400, description=_("The form was incomplete; please try again."))
    commenters.lift(status, current_user)
    db.session.commit()
    flash(_("Status lifted."), "success")
    return redirect(safe_next(form.next.data, fallback=url_for("commenters.index")))


def _refused(comment_id: int, form: CommenterStatusForm, errors: dict) -> tuple:
    """The comment's page again with the form as typed and the messages at their fields; nothing saved."""
    db.session.rollback()
    for name, message in errors.items():
        if name in form:
            form[name].errors = [*list(form[name].errors or ()), message]
    g.commenter_form = form
    why = "; ".join(str(m) for m in errors.values())
    return _render_detail(_comment_or_404(comment_id), 400, message=_("The status was not saved: %(why)s", why=why))
