"""Mails to commenters who asked for them (double opt-in), queued in the outbox.

Nothing is sent about a comment before it is approved: the opt-in confirmation goes out with
the news that the comment is published, so the form cannot be used to mail strangers.
"""
from flask import current_app, render_template
from flask_babel import force_locale, gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from app import mail
from app.extensions import db
from app.models import Comment, OutboxMail, Post, Subscription, utcnow
from app.urls import site_url as absolute_url

_SALT = "subscription"


def token_for(subscription: Subscription, action: str) -> str:
    return _serializer().dumps({"s": subscription.id, "a": action})


def subscription_from_token(token: str, action: str) -> Subscription | None:
    """The subscription a signed link points to, or None when the link is forged or for another action."""
    try:
        data = _serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("a") != action or not isinstance(data.get("s"), int):
        return None
    return db.session.get(Subscription, data["s"])


def comment_published(comment: Comment) -> list[OutboxMail]:
    """Queue what an approval causes: the author's confirmation/notice, the parent's reply notice."""
    post = db.session.get(Post, comment.post_id)
    queued = []
    own = db.session.scalar(select(Subscription).where(Subscription.comment_id == comment.id))
    if own is not None and own.unsubscribed_at is None and own.confirmation_sent_at is None:
        if _confirmed_before(own.email):
            own.confirmed_at = utcnow()  # this address already said yes once
            queued.append(_send(own, "published", post, comment))
        else:
            queued.append(_send(own, "confirm", post, comment))
        own.confirmation_sent_at = utcnow()
    if comment.parent_id:
        parent = db.session.get(Comment, comment.parent_id)
        theirs = db.session.scalars(
            select(Subscription).where(Subscription.comment_id == parent.id)
        ).all()
        for subscription in theirs:
            if subscription.active and subscription.email != comment.author_email:
                queued.append(_send(subscription, "reply", post, comment))
    return queued


def _confirmed_before(email: str) -> bool:
    return db.session.scalar(
        select(Subscription.id).where(Subscription.email == email, Subscription.confirmed_at.is_not(None)).limit(1)
    ) is not None


def _send(subscription: Subscription, kind: str, post: Post, comment: Comment) -> OutboxMail:
    db.session.flush()  # the subscription needs its id for the signed links
    unsubscribe = absolute_url("comments.unsubscribe", token=token_for(subscription, "unsubscribe"))
    context = {
        "post": post,
        "comment": comment,
        "site_name": current_app.config["SITE_NAME"],
        "team_name": current_app.config["TEAM_NAME"],
        "comment_url": absolute_url("comments.permalink", slug=post.slug, comment_id=comment.id),
        "confirm_url": absolute_url("comments.confirm", token=token_for(subscription, "confirm")),
        "unsubscribe_url": unsubscribe,
    }
    with force_locale(subscription.lang):
        if kind == "confirm":
            subject = _("Your comment on “%(title)s” is published – confirm notifications", title=post.title)
        elif kind == "published":
            subject = _("Your comment on “%(title)s” is published", title=post.title)
        elif comment.is_official:
            subject = _("%(team)s answered your comment on “%(title)s”", team=context["team_name"], title=post.title)
        else:
            subject = _("New reply to your comment on “%(title)s”", title=post.title)
        body = render_template(f"mail/{kind}.txt", **context)
    headers = {"List-Unsubscribe": f"<{unsubscribe}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    return mail.queue(subscription.email, subject, body, headers, comment_id=comment.id)


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)
