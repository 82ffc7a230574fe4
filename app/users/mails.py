"""Mails to staff about their account: an invitation and a password-reset link.

Queued in the caller's transaction (the caller commits, then calls `outbox.settle()`); written in
the site's language, as the recipient's is not known. Links are built on SITE_URL only.
"""
from flask import current_app, render_template
from flask_babel import force_locale, gettext as _

from app import mail
from app.models import User
from app.urls import site_url
from app.users import tokens


def queue_invite(user: User, *, inviter: User) -> None:
    """Mail `user` a link to set their own password (valid INVITE_HOURS)."""
    config = current_app.config
    link = site_url("auth.accept_invite", token=tokens.issue(user, tokens.INVITE))
    with force_locale(config["DEFAULT_LANGUAGE"]):
        subject = _("Your account on %(site)s", site=config["SITE_NAME"])
        body = render_template("mail/invite.txt", user=user, inviter=inviter, link=link,
                               hours=config["INVITE_HOURS"], site_name=config["SITE_NAME"])
    mail.queue(user.email, subject, body)


def queue_password_reset(user: User) -> None:
    """Mail `user` a link to choose a new password (valid PASSWORD_RESET_MINUTES)."""
    config = current_app.config
    link = site_url("auth.reset_password", token=tokens.issue(user, tokens.RESET))
    with force_locale(config["DEFAULT_LANGUAGE"]):
        subject = _("Choose a new password – %(site)s", site=config["SITE_NAME"])
        body = render_template("mail/password_reset.txt", user=user, link=link,
                               minutes=config["PASSWORD_RESET_MINUTES"], site_name=config["SITE_NAME"])
    mail.queue(user.email, subject, body)
