"""Signing in and out. Messages never tell whether an account exists."""
from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy import func, select
from werkzeug.exceptions import MethodNotAllowed, TooManyRequests
from werkzeug.security import check_password_hash, generate_password_hash

from app.auth.forms import LoginForm, PasswordForm
from app.auth.permissions import Permission, can, login_required
from app.extensions import db, limiter
from app.models import User
from app.urls import safe_next

bp = Blueprint("auth", __name__)

# Compared against when the user does not exist, so a wrong name takes as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not a real password")


def _login_failed(response) -> bool:
    return response.status_code != 302


def _account_key() -> str:
    return "login-account:" + (request.form.get("username") or "").strip().lower()


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT_CLIENT"], methods=["POST"], deduct_when=_login_failed)
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT_ACCOUNT"], methods=["POST"], key_func=_account_key,
               deduct_when=_login_failed)
def login():
    form = LoginForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next"), fallback="")
        if current_user.is_authenticated:
            return redirect(_landing(form.next.data))
    if form.validate_on_submit():
        user = db.session.scalar(select(User).where(func.lower(User.username) == form.username.data.strip().lower()))
        valid = user.check_password(form.password.data) if user else check_password_hash(_DUMMY_HASH, form.password.data)
        if valid and user.is_active:
            own = session.get("own_comments")
            session.clear()  # a fresh session (and CSRF token) for the signed-in user
            if own:
                session["own_comments"] = own
            login_user(user, remember=form.remember.data)
            return redirect(_landing(safe_next(form.next.data, fallback="")))
        form.password.errors.append(_("User name or password is wrong."))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["GET", "POST"])
def logout():
    if request.method != "POST":  # signing out changes state: never on a GET (link prefetchers)
        raise MethodNotAllowed(valid_methods=["POST"])
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
            current_user.set_password(form.new.data)
            db.session.commit()
            login_user(current_user._get_current_object())  # this session goes on; all others end
            flash(_("Your password has been changed."), "success")
            return redirect(_landing(""))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/password.html", form=form), status


@bp.errorhandler(TooManyRequests)
def too_many_logins(error):
    form = LoginForm()
    form.password.errors = [_("Too many failed attempts. Please wait a few minutes and try again.")]
    return render_template("auth/login.html", form=form), 429


def _landing(target: str) -> str:
    """Where staff go after signing in: where they wanted to, else their main work page."""
    if target:
        return target
    if can(current_user, Permission.MODERATE):
        return url_for("moderation.queue")
    return url_for("blog.index")
