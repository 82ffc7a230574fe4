"""Queue digests: a mail to each moderator who asked for one, hourly or daily (`flask moderation digest`).

A digest lists the comments that arrived in the queue since the person's last digest and every
reader who has waited longer than the response target, with links into the queue. Nothing to
report, no mail, but the clock still moves on: the next digest covers the time from now.
Mails are rendered in the site's default language and go through the outbox (queue → commit →
deliver), one recipient per unit of work, so one broken address never holds up the others.
Each list is read as its first `MAX_ITEMS` rows plus a count: a backlog of thousands costs the
same statements as one of three (the overdue list once per run, the new comments per recipient).
"""
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app, render_template
from flask_babel import force_locale, gettext as _
from sqlalchemy import func, select

from app import mail
from app.auth.permissions import ROLE_PERMISSIONS, Permission, can
from app.extensions import db
from app.i18n import site_timezone
from app.models import Comment, CommentStatus, OutboxMail, Post, User, utcnow
from app.moderation.queue import Targets
from app.urls import absolute_url

INTERVALS = {"hourly": timedelta(hours=1), "daily": timedelta(hours=24)}
CHOICES = ("off", "hourly", "daily")
# cron starts a few seconds early or late; without this slack an hourly job would skip every other hour
GRACE = timedelta(seconds=30)
MAX_ITEMS = 50  # per list in one mail; the rest is a link to the queue


def is_due(user: User, now: datetime) -> bool:
    interval = INTERVALS.get(user.digest)
    if interval is None:
        return False
    return user.digest_sent_at is None or now - user.digest_sent_at >= interval - GRACE


def subscribers() -> list[User]:
    """Active staff who may moderate, have an address and want a digest (due or not)."""
    roles = [role for role, perms in ROLE_PERMISSIONS.items() if Permission.MODERATE in perms]
    users = db.session.scalars(
        select(User).where(User.active, User.role.in_(roles), User.digest.in_(tuple(INTERVALS)))
        .order_by(User.id)
    )
    return [u for u in users if can(u, Permission.MODERATE)]


EXCERPT = 160
# Enough of a text for its excerpt even when it starts with blank lines; a 10,000-character comment
# is not read whole to show 160 characters of it.
EXCERPT_SOURCE = EXCERPT * 4


@dataclass(frozen=True)
class Item:
    """One comment as a digest lists it (plain values: they outlive the commits between recipients)."""

    id: int
    author_name: str
    excerpt: str
    post_title: str
    created_at: datetime
    due: datetime | None = None

    @classmethod
    def of(cls, row, due: datetime | None = None) -> "Item":
        """From a row of `_listed`."""
        text = " ".join(row.excerpt_source.split())
        excerpt = text if len(text) <= EXCERPT else text[:EXCERPT - 1].rstrip() + "…"
        return cls(row.id, row.author_name, excerpt, row.post_title, row.created_at, due)


def _listed(*conditions, limit: int):
    """The first `limit` comments matching `conditions`, oldest first: only the columns a digest shows."""
    return db.session.execute(
        select(Comment.id, Comment.author_name, Comment.created_at, Post.title.label("post_title"),
               Post.category_id, func.substr(Comment.body_md, 1, EXCERPT_SOURCE).label("excerpt_source"))
        .join(Post, Post.id == Comment.post_id).where(*conditions)
        .order_by(Comment.created_at, Comment.id).limit(limit)
    ).all()


def _count(*conditions) -> int:
    return db.session.scalar(
        select(func.count()).select_from(Comment).join(Post, Post.id == Comment.post_id).where(*conditions))


@dataclass
class Digest:
    user: User
    since: datetime
    now: datetime
    new_pending: list[Item] = field(default_factory=list)
    new_pending_total: int = 0
    breaching: list[Item] = field(default_factory=list)
    breaching_total: int = 0

    @property
    def empty(self) -> bool:
        return not self.new_pending_total and not self.breaching_total


@dataclass
class Overdue:
    """The readers waiting past their target: the first `MAX_ITEMS` of them and how many there are."""

    items: list[Item]
    total: int


def overdue(now: datetime, goals: Targets) -> Overdue:
    """Readers still waiting past their category's target, longest waiting first (two statements)."""
    condition = goals.breaching(now)
    rows = _listed(condition, limit=MAX_ITEMS)
    return Overdue([Item.of(r, goals.due(r, r.category_id)) for r in rows], _count(condition))


def build(user: User, now: datetime, breaching: Overdue) -> Digest:
    """What `user` hears about: new pending comments since their last digest, and the overdue list."""
    since = user.digest_sent_at or now - INTERVALS.get(user.digest, INTERVALS["daily"])
    new = (Comment.status == CommentStatus.PENDING, Comment.created_at >= since, Comment.created_at < now)
    return Digest(user=user, since=since, now=now, new_pending=[Item.of(r) for r in _listed(*new, limit=MAX_ITEMS)],
                  new_pending_total=_count(*new), breaching=breaching.items[:MAX_ITEMS],
                  breaching_total=breaching.total)


def render(digest: Digest) -> tuple[str, str]:
    """(subject, body) in the site's default language."""
    config = current_app.config
    with force_locale(config["DEFAULT_LANGUAGE"]):
        subject = _("%(site)s moderation: %(new)s new, %(overdue)s over the response target",
                    site=config["SITE_NAME"], new=digest.new_pending_total, overdue=digest.breaching_total)
        body = render_template(
            "mail/digest.txt", digest=digest, user=digest.user, site_name=config["SITE_NAME"],
            team_name=config["TEAM_NAME"],
            queue_url=absolute_url("moderation.queue", view="pending"),
            overdue_url=absolute_url("moderation.queue", view="needs_answer", breaching="1"),
            settings_url=absolute_url("auth.notifications"),
            comment_url=lambda c: absolute_url("moderation.comment", comment_id=c.id),
        )
    return subject, body


@dataclass
class Outcome:
    user: User
    # sent | queued (delivery failed; `mail send-pending` retries) | nothing | not_due | no_address | dry_run
    status: str
    digest: Digest | None = None
    subject: str = ""
    body: str = ""


def run(now: datetime | None = None, *, dry_run: bool = False) -> list[Outcome]:
    """Send every due digest; with `dry_run`, render them but change nothing."""
    now = now or utcnow()
    goals = Targets.load(current_app.config, site_timezone())
    breaching = overdue(now, goals)
    outcomes = []
    for user in subscribers():
        if not is_due(user, now):
            outcomes.append(Outcome(user, "not_due"))
            continue
        if not user.email:
            outcomes.append(Outcome(user, "no_address"))
            continue
        digest = build(user, now, breaching)
        if digest.empty:
            outcomes.append(Outcome(user, "dry_run" if dry_run else "nothing", digest))
            if not dry_run:
                user.digest_sent_at = now
                db.session.commit()
            continue
        subject, body = render(digest)
        if dry_run:
            outcomes.append(Outcome(user, "dry_run", digest, subject, body))
            continue
        message: OutboxMail = mail.queue(user.email, subject, body)
        user.digest_sent_at = now
        db.session.commit()
        sent = mail.deliver([message])
        outcomes.append(Outcome(user, "sent" if sent else "queued", digest, subject, body))
    return outcomes
