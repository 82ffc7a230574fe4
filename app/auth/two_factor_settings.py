"""Each staff member's own two-factor sign-in (/account/two-factor): turn it on with the app, off with
password and code. The rules and the codes live in `users.two_factor`.

While it is being set up, the new secret travels in the form, signed for this account and for a
short time, so a wrong code shows the same QR code again and nothing is stored before it is confirmed.
"""
from flask import current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeTimedSerializer

from app.auth.forms import TwoFactorDisableForm, TwoFactorEnableForm
from app.auth.permissions import login_required
from app.auth.routes import _sign_in, bp
from app.extensions import db
from app.users import sessions, two_factor

SETUP_MINUTES = 30  # time to scan the code and type the first one


@bp.get("/account/two-factor")
@login_required
def two_factor_settings():
    user = current_user._get_current_object()
    if two_factor.enabled(user):
        return render_template("auth/two_factor.html", disable_form=TwoFactorDisableForm(),
                               codes_left=two_factor.recovery_codes_left(user))
    form = TwoFactorEnableForm()
    form.setup.data = _setup_signer().dumps({"u": user.id, "s": two_factor.new_secret()})
    return _setup_page(form)


@bp.post("/account/two-factor/enable")
@login_required
def enable_two_factor():
    user = current_user._get_current_object()
    if two_factor.enabled(user):
        return redirect(url_for("auth.two_factor_settings"))
    form = TwoFactorEnableForm()
    secret = _setup_secret(form.setup.data, user.id)
    if secret is None:  # an old or foreign form: start over with a new secret
        form.setup.data = _setup_signer().dumps({"u": user.id, "s": two_factor.new_secret()})
        form.code.data = ""
        return _setup_page(form, message=_("The setup took too long. Please scan this new code and try again."),
                           status=400)
    if form.validate_on_submit():
        codes = two_factor.enable(user, secret, form.code.data)
        if codes is not None:
            sessions.end_all(user)  # other sign-ins were made without the code: they end …
            remembered = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies
            _sign_in(user, remember=remembered)  # … this browser's goes on (this commits)
            response = make_response(render_template("auth/recovery_codes.html", codes=codes))
            response.headers["Cache-Control"] = "no-store"  # shown once, never from a cache
            return response
        db.session.rollback()
        form.code.errors.append(_("This code is not right. Please enter the code your app shows now."))
    return _setup_page(form, status=400)


@bp.post("/account/two-factor/disable")
@login_required
def disable_two_factor():
    user = current_user._get_current_object()
    if not two_factor.enabled(user):
        return redirect(url_for("auth.two_factor_settings"))
    form = TwoFactorDisableForm()
    if form.validate_on_submit():
        if not user.check_password(form.password.data):
            form.password.errors.append(_("The password is wrong."))
        elif not two_factor.verify(user, form.code.data):
            db.session.rollback()
            form.code.errors.append(_("This code is wrong or was used already."))
        else:
            two_factor.disable(user, actor=user)
            db.session.commit()
            flash(_("Two-factor sign-in is off. Your password alone signs you in now."), "success")
            return redirect(url_for("auth.two_factor_settings"))
    return render_template("auth/two_factor.html", disable_form=form,
                           codes_left=two_factor.recovery_codes_left(user)), 400


def _setup_page(form: TwoFactorEnableForm, *, message: str | None = None, status: int = 200):
    secret = _setup_secret(form.setup.data, current_user.id)
    uri = two_factor.provisioning_uri(secret, current_user, current_app.config["SITE_NAME"])
    response = make_response(render_template(
        "auth/two_factor_setup.html", form=form, message=message, qr=two_factor.qr_data_uri(uri),
        secret=" ".join(secret[i:i + 4] for i in range(0, len(secret), 4))), status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _setup_secret(token: str | None, user_id: int) -> str | None:
    try:
        data = _setup_signer().loads(token or "", max_age=SETUP_MINUTES * 60)
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("u") != user_id or not isinstance(data.get("s"), str):
        return None
    return data["s"]


def _setup_signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="two-factor-setup")
