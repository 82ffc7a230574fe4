"""Privacy requests (the privacy blueprint, under /moderation/privacy): export and erase what is stored
about a commenter.

The address travels in a query string only for the look-up (GET, so the page can be reloaded and
linked); export and erasure are POSTs, and after an erasure the redirect carries no address.
"""
import json

from flask import Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.validators import Length

from app.auth.permissions import Permission, permission_required
from app.models import utcnow
from app.privacy import bp, service as privacy
from app.urls import absolute_url

moderate = permission_required(Permission.MODERATE)


class ExportForm(FlaskForm):
    email = HiddenField()


class EraseForm(FlaskForm):
    email = HiddenField()
    confirm = StringField(_l("Type the address again to confirm"), validators=[Length(max=privacy.MAX_LENGTH)])


def _page(email: str = "", findings: privacy.Findings | None = None, message: str | None = None,
          status: int = 200, erase_form: EraseForm | None = None):
    export_form = ExportForm(formdata=None, email=email)
    erase_form = erase_form or EraseForm(formdata=None, email=email)
    return render_template("privacy/requests.html", email=email, findings=findings, message=message,
                           export_form=export_form, erase_form=erase_form,
                           retention_days=current_app.config["IP_HASH_RETENTION_DAYS"]), status


def _invalid(typed: str):
    message = _("Please enter an e-mail address.") if not typed.strip() else \
        _("Please enter a valid e-mail address, such as name@example.org.")
    return _page(typed.strip()[:privacy.MAX_LENGTH], message=message, status=400)


@bp.get("", endpoint="requests")
@moderate
def privacy_lookup():
    """The form, and with ?email=… everything stored about that address."""
    if "email" not in request.args:
        return _page()
    typed = request.args.get("email", "")
    email = privacy.normalize(typed)
    if email is None:
        return _invalid(typed)
    return _page(email, privacy.lookup(email))


def _posted_email(form):
    """The normalised address from a privacy form, or the page answering why it cannot be used."""
    if not form.validate():
        return None, _page(message=_("The form was incomplete; please try again."), status=400)
    email = privacy.normalize(form.email.data)
    if email is None:
        return None, _invalid(form.email.data or "")
    return email, None


@bp.post("/export", endpoint="export")
@moderate
def privacy_export():
    email, refused = _posted_email(ExportForm())
    if refused:
        return refused
    findings = privacy.lookup(email)
    if not findings.comments and not findings.subscriptions and not findings.mails:
        return _page(email, findings, message=_("Nothing is stored about this address."), status=404)
    now = utcnow()
    data = privacy.export(findings, site_name=current_app.config["SITE_NAME"],
                          retention_days=current_app.config["IP_HASH_RETENTION_DAYS"], now=now,
                          post_url=lambda post: absolute_url("blog.post", slug=post.slug))
    body = json.dumps(data, ensure_ascii=False, indent=2)
    filename = f"privacy-export-{now:%Y%m%d-%H%M%S}.json"
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "no-store",
    })


@bp.post("/erase", endpoint="erase")
@moderate
def privacy_erase():
    form = EraseForm()
    email, refused = _posted_email(form)
    if refused:
        return refused
    findings = privacy.lookup(email)
    if (form.confirm.data or "").strip().lower() != email:
        return _page(email, findings, status=400, erase_form=form,
                     message=_("The address typed to confirm does not match. Nothing has been erased."))
    if findings.empty:
        return _page(email, findings, message=_("Nothing is stored about this address."), status=404)
    try:
        result = privacy.erase(email, current_user)
    except privacy.PrivacyError as exc:
        return _page(email, privacy.lookup(email), message=str(exc.message), status=409)
    flash(_("Erased: %(comments)s comments, %(subscriptions)s subscriptions, %(mails)s mails, the address in "
            "%(mentions)s other texts.", comments=result.comments, subscriptions=result.subscriptions,
            mails=result.mails, mentions=result.mentions), "success")
    return redirect(url_for("privacy.requests"))
