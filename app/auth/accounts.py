"""Links mailed to staff: accepting an invitation (a first password) and "forgot password".

The forgot form answers the same whatever was typed (the mail is queued in the request, sent by
the drainer, so nobody can time whether an account exists). The links are signed, expire and
die once a password is set (`users.tokens`); opening one (GET) changes nothing, as mail scanners
open links.
"""
from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app import outbox
from app.auth.forms import ForgotPasswordForm, SetPasswordForm
from app.auth.routes import _finish_sign_in, bp
from app.comments.browser_state import fresh_session
from app.extensions import db, limiter
from app.users import sessions, tokens
from app.users.mails import queue_password_reset
from app.users.service import MIN_PASSWORD_LENGTH, UserError, audit, find_for_reset, set_password


def _forgot_account_key() -> str:
    return "forgot-account:" + (request.form.get("login") or "").strip().lower()[:254]


@bp.route("/login/forgot", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["FORGOT_PASSWORD_RATE_LIMIT"], methods=["POST"])
@limiter.limit("3 per hour", methods=["POST"], key_func=_forgot_account_key)  # one mailbox is not flooded
def forgot_password():
    """Ask for a reset link by user name or address; the answer never says whether the account exists."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        user = find_for_reset(form.login.data)
        if user is not None:
            queue_password_reset(user)
        db.session.commit()  # also when nothing was queued: both answers take the same path
        outbox.settle()
        flash(_("If an account with this user name or address exists, we have sent a link to choose a new "
                "password to its e-mail address. It is valid for %(minutes)s minutes.",
                minutes=current_app.config["PASSWORD_RESET_MINUTES"]), "info")
        return redirect(url_for("auth.login"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/forgot.html", form=form), status


@bp.route("/login/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """Choose a new password through the mailed link; every sign-in of the account ends."""
    try:
        user = tokens.redeem(token, tokens.RESET)
    except tokens.TokenError as exc:
        return _dead_link("reset", exc.reason)
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            set_password(user, form.new.data)  # ends every sign-in of the account
        except UserError as exc:
            form.new.errors.append(str(exc))
        else:
            db.session.commit()
            # Not signed in here: with two-factor on, the code is still asked for at the login.
            flash(_("Your password has been changed and you were signed out everywhere. Please sign in with "
                    "the new password."), "success")
            return redirect(url_for("auth.login"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/set_password.html", form=form, user=user, purpose="reset",
                           min_password_length=MIN_PASSWORD_LENGTH), status


@bp.route("/account/invite/<token>", methods=["GET", "POST"])
def accept_invite(token: str):
    """An invited staff member chooses their first password, and is signed in."""
    try:
        user = tokens.redeem(token, tokens.INVITE)
    except tokens.TokenError as exc:
        return _dead_link("invite", exc.reason)
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            set_password(user, form.new.data)
        except UserError as exc:
            form.new.errors.append(str(exc))
        else:
            audit(user, "user.invite_accept", actor=user)
            if current_user.is_authenticated:  # someone else was signed in in this browser: that sign-in ends
                sessions.end(current_user.login_token)
            db.session.commit()
            fresh_session()  # whoever was signed in in this browser before: a fresh session for the new member
            flash(_("Welcome! Your password is set and you are signed in."), "success")
            return _finish_sign_in(user, remember=False, target="")
    status = 400 if request.method == "POST" else 200
    return render_template("auth/set_password.html", form=form, user=user, purpose="invite",
                           min_password_length=MIN_PASSWORD_LENGTH), status


def _dead_link(purpose: str, reason: str):
    """A clear page for a link that cannot be used (and what to do instead), never an error."""
    status = 404 if reason == "invalid" else 410
    return render_template("auth/dead_link.html", purpose=purpose, reason=reason), status
