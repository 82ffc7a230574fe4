"""Signing in and out. Messages never tell whether an account exists.

Every sign-in is a row on the server (`users.sessions`): logout, a new password and deactivation
end it, so a copied cookie stops working. Failed attempts are limited per client address and
per account for browsers the account has never signed in from, and per browser for those it
has (a signed device cookie): a stranger can slow guessing down for everyone else, never lock
the owner out of their own browser. With two-factor sign-in on, the right password only leads to
a second step (a code), throttled the same way; the sign-in is stored once the code is right.
"""
import secrets
import time
from datetime import timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _, ngettext
from flask_login import current_user, login_user, logout_user
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import func, select
from werkzeug.exceptions import MethodNotAllowed, TooManyRequests
from werkzeug.security import check_password_hash, generate_password_hash

from app.auth.forms import ForgotPasswordForm, LoginForm, PasswordForm, TwoFactorCodeForm
from app.auth.permissions import Permission, can, login_required
from app.comments.browser_state import fresh_session
from app.extensions import db, limiter
from app.models import User
from app.urls import safe_next
from app.users import sessions, two_factor
from app.users.service import set_password

bp = Blueprint("auth", __name__)

# Compared against when the user does not exist, so a wrong name takes as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not a real password")

DEVICE_COOKIE = "dialog_device"
DEVICE_DAYS = 365
DEVICE_ACCOUNTS = 10  # accounts remembered per browser

# Between a right password and the code: only the account's id (and where to go) in the signed session.
PENDING = "two_factor_pending"
PENDING_SECONDS = 300


def _login_failed(response) -> bool:
    return response.status_code != 302


def _attempted_name() -> str:
    return (request.form.get("username") or "").strip().lower()[:64]


def _device() -> dict:
    """This browser's device cookie: {"d": random id, "u": [user names that signed in here]}."""
    try:
        data = _device_signer().loads(request.cookies.get(DEVICE_COOKIE, ""), max_age=DEVICE_DAYS * 86400)
    except BadSignature:
        return {}
    return data if isinstance(data, dict) and isinstance(data.get("u"), list) else {}


def _known_device() -> bool:
    """This browser signed in to the account it now tries (its own, tighter limit applies)."""
    return _attempted_name() in _device().get("u", [])


def _account_key() -> str:
    return "login-account:" + _attempted_name()


def _device_key() -> str:
    return "login-device:" + str(_device().get("d", ""))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT_CLIENT"], methods=["POST"], deduct_when=_login_failed,
               exempt_when=_known_device)
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT_ACCOUNT"], methods=["POST"], key_func=_account_key,
               deduct_when=_login_failed, exempt_when=_known_device)
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT_DEVICE"], methods=["POST"], key_func=_device_key,
               deduct_when=_login_failed, exempt_when=lambda: not _known_device())
def login():
    form = LoginForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next"), fallback="")
        if current_user.is_authenticated:
            return redirect(_landing(form.next.data))
    if form.validate_on_submit():
        user = db.session.scalar(select(User).where(func.lower(User.username) == form.username.data.strip().lower()))
        valid = (user.check_password(form.password.data) if user
                 else check_password_hash(_DUMMY_HASH, form.password.data))
        if valid and user.is_active:
            fresh_session()
            remember, target = bool(form.remember.data), safe_next(form.next.data, fallback="")
            if two_factor.enabled(user):  # not signed in yet: the code comes first
                session[PENDING] = {"u": user.id, "name": user.username, "t": int(time.time()),
                                    "r": remember, "next": target}
                return redirect(url_for("auth.two_factor_step"))
            return _finish_sign_in(user, remember=remember, target=target)
        form.password.errors.append(_("User name or password is wrong."))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


def _pending() -> dict:
    """The half-finished sign-in of this browser (password right, code still missing), if recent."""
    data = session.get(PENDING)
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        return {}
    if not 0 <= time.time() - data.get("t", 0) <= PENDING_SECONDS:
        return {}
    return data


def _pending_known_device() -> bool:
    return str(_pending().get("name", "")).lower() in _device().get("u", [])


def _pending_account_key() -> str:
    return f"two-factor-account:{_pending().get('u', '')}"


@bp.route("/login/two-factor", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["TWO_FACTOR_RATE_LIMIT_CLIENT"], methods=["POST"],
               deduct_when=_login_failed, exempt_when=_pending_known_device)
@limiter.limit(lambda: current_app.config["TWO_FACTOR_RATE_LIMIT_ACCOUNT"], methods=["POST"],
               key_func=_pending_account_key, deduct_when=_login_failed, exempt_when=_pending_known_device)
@limiter.limit(lambda: current_app.config["TWO_FACTOR_RATE_LIMIT_DEVICE"], methods=["POST"], key_func=_device_key,
               deduct_when=_login_failed, exempt_when=lambda: not _pending_known_device())
def two_factor_step():
    """The second sign-in step: a code from the authenticator app or a recovery code."""
    if current_user.is_authenticated:
        return redirect(_landing(""))
    pending = _pending()
    user = db.session.get(User, pending["u"]) if pending else None
    if user is None or not user.is_active or not two_factor.enabled(user):
        session.pop(PENDING, None)  # a page, not a redirect to the login: that stays for pages that need one
        return render_template("auth/two_factor_step.html", form=None), 400 if request.method == "POST" else 200
    form = TwoFactorCodeForm()
    if form.validate_on_submit():
        used = two_factor.verify(user, form.code.data)
        if used:
            session.pop(PENDING, None)
            response = _finish_sign_in(user, remember=bool(pending.get("r")),
                                       target=safe_next(str(pending.get("next") or ""), fallback=""))
            if used == "recovery":
                left = two_factor.recovery_codes_left(user)
                flash(ngettext("You signed in with a recovery code; %(num)s is left.",
                               "You signed in with a recovery code; %(num)s are left.", left), "info")
            return response
        db.session.rollback()
        form.code.errors.append(_("This code is wrong or was used already. Please enter the current code "
                                  "from your app, or a recovery code."))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/two_factor_step.html", form=form), status


@bp.route("/logout", methods=["GET", "POST"])
def logout():
    if request.method != "POST":  # signing out changes state: never on a GET (link prefetchers)
        raise MethodNotAllowed(valid_methods=["POST"])
    if current_user.is_authenticated:
        sessions.end(current_user.login_token)  # on the server: a copy of the cookie opens nothing now
        db.session.commit()
    session.clear()
    logout_user()  # after clearing: it leaves the note that deletes the remember cookie
    flash(_("You are signed out."), "success")
    return redirect(url_for("blog.index"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = PasswordForm()
    if form.validate_on_submit():
        if not current_user.check_password(form.current.data):
            form.current.errors.append(_("The current password is wrong."))
        else:
            user = current_user._get_current_object()
            set_password(user, form.new.data)  # ends every sign-in of the account …
            remembered = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies
            _sign_in(user, remember=remembered)  # … but this browser's goes on, as a new one
            flash(_("Your password has been changed."), "success")
            return redirect(_landing(""))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/password.html", form=form), status


@bp.errorhandler(TooManyRequests)
def too_many_logins(error):
    headers = [(k, v) for k, v in error.get_headers() if k.lower() == "retry-after"]
    if request.endpoint == "auth.two_factor_step":
        form = TwoFactorCodeForm()
        form.code.errors = [_("Too many wrong codes. Please wait a few minutes and try again.")]
        return render_template("auth/two_factor_step.html", form=form), 429, headers
    if request.endpoint == "auth.forgot_password":
        form = ForgotPasswordForm()
        form.login.errors = [_("Too many requests from here. Please wait a while and try again.")]
        return render_template("auth/forgot.html", form=form), 429, headers
    form = LoginForm()
    form.password.errors = [_("Too many failed attempts. Please wait a minute and try again.")]
    return render_template("auth/login.html", form=form, throttled=True), 429, headers


def _finish_sign_in(user: User, *, remember: bool, target: str):
    """Sign in, mark the browser as the account's, and go where the user wanted to."""
    _sign_in(user, remember=remember)
    response = redirect(_landing(target))
    _remember_device(response, user.username)
    return response


def _sign_in(user: User, *, remember: bool) -> None:
    """A new sign-in on the server, then in this browser's cookies."""
    config = current_app.config
    lifetime = timedelta(seconds=config["REMEMBER_COOKIE_DURATION"]) if remember \
        else timedelta(hours=config["LOGIN_SESSION_HOURS"])
    sessions.start(user, lifetime=lifetime)
    db.session.commit()
    login_user(user, remember=remember)


def _remember_device(response, username: str) -> None:
    """Mark this browser as one the account signs in from (its guesses are then counted apart)."""
    device = _device()
    names = [n for n in device.get("u", []) if n != username.lower()] + [username.lower()]
    value = _device_signer().dumps({"d": device.get("d") or secrets.token_urlsafe(12), "u": names[-DEVICE_ACCOUNTS:]})
    response.set_cookie(DEVICE_COOKIE, value, max_age=DEVICE_DAYS * 86400, httponly=True, samesite="Lax",
                        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")), path=url_for("auth.login"))


def _device_signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="login-device")


def _landing(target: str) -> str:
    """Where staff go after signing in: where they wanted to, else their main work page."""
    if target:
        return target
    if can(current_user, Permission.MODERATE):
        return url_for("moderation.queue")
    return url_for("blog.index")
