"""Webhooks in the back office (admins, MANAGE_SITE): register URLs per event, see the secret and
each hook's delivery log, send a test, enable, disable, delete (the rules: service.py)."""
from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.permissions import Permission, permission_required
from app.extensions import db
from app.models import WEBHOOK_EVENTS, Webhook
from app.webhooks import service
from app.webhooks.forms import ActionForm, WebhookForm

bp = Blueprint("webhooks", __name__, url_prefix="/admin/webhooks")
manage_site = permission_required(Permission.MANAGE_SITE)


def _allow_private() -> bool:
    return bool(current_app.config["WEBHOOK_ALLOW_PRIVATE"])


def _hook_or_404(hook_id: int) -> Webhook:
    return db.session.get(Webhook, hook_id) or abort(404)


def _typed(form: WebhookForm) -> service.HookInput:
    return service.HookInput(name=form.name.data or "", url=form.url.data or "", events=list(form.events.data or []))


def _form_errors(form: WebhookForm, errors: dict) -> None:
    for name, message in errors.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = [*list(field.errors or ()), str(message)]


def _list(form: WebhookForm | None = None, status: int = 200):
    return render_template("admin/webhooks.html", hooks=service.hooks(), form=form or WebhookForm(formdata=None),
                           labels=service.EVENT_LABELS, events=WEBHOOK_EVENTS, actions=ActionForm(formdata=None),
                           allow_private=_allow_private()), status


def _page(hook: Webhook, form: WebhookForm | None = None, status: int = 200):
    if form is None:
        form = WebhookForm(formdata=None, name=hook.name, url=hook.url, events=list(hook.events or []))
    return render_template("admin/webhook.html", hook=hook, form=form, deliveries=service.deliveries(hook),
                           labels=service.EVENT_LABELS, actions=ActionForm(formdata=None),
                           log_size=service.LOG_SIZE, window=service.REPLAY_WINDOW), status


@bp.get("")
@manage_site
def index():
    return _list()


@bp.post("")
@manage_site
def create():
    form = WebhookForm()
    if not form.validate_on_submit():
        flash(_("Nothing was saved. Please check the marked fields."), "warning")
        return _list(form, 400)
    try:
        hook = service.create(_typed(form), current_user, allow_private=_allow_private())
    except service.WebhookError as exc:
        db.session.rollback()
        _form_errors(form, exc.errors)
        flash(_("Nothing was saved. Please check the marked fields."), "warning")
        return _list(form, 400)
    db.session.commit()
    flash(_("Webhook saved. Its secret is shown below: the receiver checks each delivery's signature with it."),
          "success")
    return redirect(url_for("webhooks.hook", hook_id=hook.id))


@bp.route("/<int:hook_id>", methods=["GET", "POST"])
@manage_site
def hook(hook_id: int):
    hook = _hook_or_404(hook_id)
    form = WebhookForm()
    if not form.is_submitted():
        return _page(hook)
    if not form.validate():
        flash(_("Nothing was saved. Please check the marked fields."), "warning")
        return _page(hook, form, 400)
    try:
        service.update_hook(hook, _typed(form), current_user, allow_private=_allow_private())
    except service.WebhookError as exc:
        db.session.rollback()
        _form_errors(form, exc.errors)
        flash(_("Nothing was saved. Please check the marked fields."), "warning")
        return _page(_hook_or_404(hook_id), form, 400)
    db.session.commit()
    flash(_("Webhook saved."), "success")
    return redirect(url_for("webhooks.hook", hook_id=hook_id))


def _action_ok() -> bool:
    if ActionForm().validate_on_submit():
        return True
    flash(_("The form was incomplete; please try again."), "warning")
    return False


@bp.post("/<int:hook_id>/enable")
@manage_site
def enable(hook_id: int):
    return _set_active(hook_id, True, _("Webhook enabled."))


@bp.post("/<int:hook_id>/disable")
@manage_site
def disable(hook_id: int):
    return _set_active(hook_id, False, _("Webhook disabled: nothing is sent to it until it is enabled again."))


def _set_active(hook_id: int, active: bool, message: str):
    hook = _hook_or_404(hook_id)
    if _action_ok():
        service.set_active(hook, active, current_user)
        db.session.commit()
        flash(message, "success")
    return redirect(url_for("webhooks.hook", hook_id=hook_id))


@bp.post("/<int:hook_id>/test")
@manage_site
def send_test(hook_id: int):
    hook = _hook_or_404(hook_id)
    if _action_ok():
        try:
            service.send_test(hook, current_user)
        except service.WebhookError as exc:
            flash(str(exc), "warning")
            return redirect(url_for("webhooks.hook", hook_id=hook_id))
        db.session.commit()
        flash(_("A test delivery is on its way; reload this page in a moment to see the receiver's answer."), "info")
    return redirect(url_for("webhooks.hook", hook_id=hook_id))


@bp.post("/<int:hook_id>/secret")
@manage_site
def rotate_secret(hook_id: int):
    hook = _hook_or_404(hook_id)
    if _action_ok():
        service.rotate_secret(hook, current_user)
        db.session.commit()
        flash(_("A new secret was generated; the old one no longer signs deliveries. Give the new one to the "
                "receiver."), "success")
    return redirect(url_for("webhooks.hook", hook_id=hook_id))


@bp.post("/<int:hook_id>/delete")
@manage_site
def delete(hook_id: int):
    hook = _hook_or_404(hook_id)
    if not _action_ok():
        return redirect(url_for("webhooks.hook", hook_id=hook_id))
    name = hook.name or hook.url
    service.remove(hook, current_user)
    db.session.commit()
    flash(_("Webhook “%(name)s” deleted.", name=name), "success")
    return redirect(url_for("webhooks.index"))
