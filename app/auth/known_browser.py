"""A way in while strangers keep an account's sign-in throttled: a link mailed to the account's
address makes the browser that opens it one the account knows (its own limit, not the account's).

Without it, someone guessing from many addresses could keep the owner out of every new browser
for as long as they keep guessing. The answer never says whether the account exists.
"""
from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import force_locale, gettext as _, lazy_gettext as _l
from flask_wtf import FlaskForm
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import func, select
from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, Length

from app import mail, outbox
from app.auth.routes import _account_key, _remember_device, bp
from app.extensions import db, limiter
from app.models import User
from app.urls import site_url

LINK_MINUTES = 30


class KnownBrowserForm(FlaskForm):
    username = StringField(_l("User name"), validators=[DataRequired(_l("Please enter your user name.")),
                                                        Length(max=64)])


class ConfirmBrowserForm(FlaskForm):
    token = HiddenField()


@bp.post("/login/known-browser")
@limiter.limit("3 per hour", key_func=_account_key)  # one account's mailbox is not flooded …
@limiter.limit("10 per hour")  # … nor everybody's from one address
def known_browser_request():
    """Mail the account a link that lets this (or any) browser sign in outside the account's throttle."""
    form = KnownBrowserForm()
    if form.validate_on_submit():
        name = form.username.data.strip().lower()
        user = db.session.scalar(select(User).where(func.lower(User.username) == name, User.active))
        if user is not None and user.email and user.password_hash:
            link = site_url("auth.known_browser", token=_signer().dumps({"u": user.username}))
            with force_locale(current_app.config["DEFAULT_LANGUAGE"]):
                subject = _("Sign in from a new browser – %(site)s", site=current_app.config["SITE_NAME"])
                body = render_template("mail/known_browser.txt", user=user, link=link, minutes=LINK_MINUTES,
                                       site_name=current_app.config["SITE_NAME"])
            mail.queue(user.email, subject, body)
            db.session.commit()
            outbox.settle()  # the drainer sends it: nobody waits for the mail server
    flash(_("If an account with this user name exists, we have sent a link to its e-mail address. "
            "Open it in this browser to sign in."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/login/known-browser/<token>", methods=["GET", "POST"])
def known_browser(token: str):
    """GET shows one button (mail scanners open links); POST marks this browser as the account's."""
    try:
        data = _signer().loads(token, max_age=LINK_MINUTES * 60)
    except BadSignature:
        data = None
    form = ConfirmBrowserForm()
    if not isinstance(data, dict) or not isinstance(data.get("u"), str):
        return render_template("auth/known_browser.html", form=form, invalid=True), 404
    if request.method == "POST" and form.validate_on_submit():
        response = redirect(url_for("auth.login"))
        _remember_device(response, data["u"])
        flash(_("This browser is now one you sign in from. Please sign in."), "success")
        return response
    return render_template("auth/known_browser.html", form=form)


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="known-browser")
