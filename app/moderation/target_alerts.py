"""Response-target alerts: a warning `TARGET_WARNING_MINUTES` before a reader's first-answer target
is due, and the breach itself, each sent once per comment.

The outbox's drainer runs `maybe_check()` (at most every `CHECK_SECONDS` per process). One query
finds the readers still waiting whose target is due within the warning time and who have not had
that notice yet (per category, the due computation of `queue.Targets`); each notice is claimed
with a conditional UPDATE of `target_warned_at` / `target_breached_at` (… WHERE it IS NULL), so two
processes never both send it; the webhooks (`target.warning`, `target.breached`) and the mails
(`staff_notices.target_notice`) are written in the same transaction, so a failed commit sends
nothing and the next round tries again.

A target whose due time passed more than `BACKLOG` ago (the check was not running: first start
after an upgrade, a long outage) is marked without notices: a flood of stale alerts helps nobody;
the queue's "over the target" view and the digest still list them.
"""
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, false, func, or_, select, update

from app.extensions import db
from app.i18n import site_timezone
from app.models import Comment, CommentStatus, Post, ResponseStatus, utcnow
from app.moderation import staff_notices, targets
from app.moderation.queue import Targets
from app.webhooks import service as webhooks

S, R = CommentStatus, ResponseStatus
CHECK_SECONDS = 30.0
BACKLOG = timedelta(hours=24)
LIMIT = 200  # comments per check; the rest waits for the next
_LAST = "dialog.target_alerts_at"


@dataclass
class Checked:
    warned: int = 0
    breached: int = 0
    skipped: int = 0  # marked without notices (older than BACKLOG)


def maybe_check() -> Checked | None:
    """The drainer's call: a check unless this process made one in the last CHECK_SECONDS."""
    last = current_app.extensions.get(_LAST)
    if last is not None and time.monotonic() - last < CHECK_SECONDS:
        return None
    current_app.extensions[_LAST] = time.monotonic()
    return check()


def _candidates(now: datetime, goals: Targets, warning: timedelta):
    """SQL: waiting readers due for a notice (warning or breach) per their category's target."""
    conditions = []
    for category_id in [*list(goals.by_category), None]:
        minutes, hours = goals.rule(category_id)
        breach_cutoff = targets.overdue_before(now, minutes, goals.tz, hours)
        in_category = Post.category_id.is_(None) if category_id is None else Post.category_id == category_id
        due = Comment.created_at < breach_cutoff
        if minutes > warning.total_seconds() / 60:  # a target shorter than the warning time gets no warning
            warn_cutoff = targets.overdue_before(now + warning, minutes, goals.tz, hours)
            due = or_(due, and_(Comment.target_warned_at.is_(None), Comment.created_at < warn_cutoff))
        conditions.append(and_(in_category, due))
    return and_(Comment.response_status == R.NEEDS_ANSWER, Comment.status.in_((S.PENDING, S.APPROVED)),
                Comment.target_breached_at.is_(None), or_(*conditions) if conditions else false())


def check(now: datetime | None = None) -> Checked:
    """Send the warnings and breach notices that are due at `now`; one transaction."""
    now = now or utcnow()
    config = current_app.config
    goals = Targets.load(config, site_timezone())
    warning = timedelta(minutes=int(config["TARGET_WARNING_MINUTES"]))
    rows = db.session.execute(
        select(Comment, Post.category_id).join(Post, Post.id == Comment.post_id)
        .where(_candidates(now, goals, warning)).order_by(Comment.created_at, Comment.id).limit(LIMIT)).all()
    result = Checked()
    for comment, category_id in rows:
        due = goals.due(comment, category_id)
        if due <= now:
            kind = "breached"
            claimed = _claim(comment, Comment.target_breached_at.is_(None), target_breached_at=now,
                             target_warned_at=func.coalesce(Comment.target_warned_at, now))
        elif comment.target_warned_at is None:
            kind = "warning"
            claimed = _claim(comment, Comment.target_warned_at.is_(None), Comment.target_breached_at.is_(None),
                             target_warned_at=now)
        else:
            continue
        if not claimed:  # another process sent it
            continue
        if due < now - BACKLOG:
            result.skipped += 1
            continue
        webhooks.emit(f"target.{kind}", comment, now=now, due_at=due)
        staff_notices.target_notice(comment, f"target_{kind}", due)
        if kind == "breached":
            result.breached += 1
        else:
            result.warned += 1
    db.session.commit()  # the drainer sends the mails and webhooks next (app/outbox.py)
    return result


def _claim(comment: Comment, *conditions, **values) -> bool:
    """The conditional UPDATE that makes a notice this process's to send (not a status column:
    the one gate's columns are untouched)."""
    return bool(db.session.execute(
        update(Comment).where(Comment.id == comment.id, Comment.response_status == R.NEEDS_ANSWER, *conditions)
        .values(**values).execution_options(synchronize_session=False)).rowcount)
