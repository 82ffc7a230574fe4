"""`flask demo comments`: the hand-written discussions under the demo posts (app/demo/data/comments.yml).

Times in the data are counted back from the moment the demo is loaded (`ago: 3d 4h`), not fixed
dates: with fixed dates a new install showed every waiting reader as two years overdue and the
statistics (the last weeks) empty. The audit trail is written as the team would have made it —
the moderator approved each reader comment a little after it came in, answers are "reply"
events — so the work per team member and the response times have something to show.
"""
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import yaml
from sqlalchemy import select

from app import markup
from app.extensions import db
from app.models import Comment, CommentStatus, Post, ResponseStatus, Topic, User, utcnow
from app.moderation.service import record

DATA = Path(__file__).parent / "data" / "comments.yml"
MODERATOR = "moderator"  # the demo account that approves reader comments (see `flask demo accounts`)
# Minutes from a reader comment to its approval, taken in turn: a spread like a real queue's,
# so the median and the 90th percentile on the statistics page differ.
APPROVAL_DELAYS = (14, 6, 32, 9, 51, 18, 4, 75, 23, 11, 38, 7, 120, 16)
_AGO = re.compile(r"\s*(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m)?\s*")


def parse_ago(text) -> timedelta:
    """A duration like "3d 4h 20m", "2h" or "45m"; anything else is a ValueError naming the text."""
    match = _AGO.fullmatch(str(text))
    if not match or not any(match.groups()):
        raise ValueError(f"ago: {text!r} is not like '3d 4h 20m'")
    days, hours, minutes = (int(g or 0) for g in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes)


@dataclass
class _Load:
    now: datetime
    staff: dict[str, User]
    approvals: int = 0  # reader comments approved so far: picks the next delay


def load_demo_comments(path: Path = DATA, now: datetime | None = None) -> tuple[int, int]:
    """Add the threads to posts that have no comments yet; returns (posts filled, comments added)."""
    threads = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    load = _Load(now or utcnow(), {u.username: u for u in db.session.scalars(select(User))})
    posts_filled = added = 0
    for slug, entries in threads.items():
        post = db.session.scalar(select(Post).where(Post.slug == slug))
        if post is None or post.published_at is None:
            continue
        if db.session.scalar(select(Comment.id).where(Comment.post_id == post.id).limit(1)) is not None:
            continue  # already has comments: running `make run` twice keeps what is there
        for entry in entries:
            added += _add(post, entry, None, load)
        posts_filled += 1
    db.session.commit()
    return posts_filled, added


def _written(entry: dict, post: Post, parent: Comment | None, now: datetime) -> datetime:
    """When the entry was written: `ago` before now, yet after the post and after what it answers."""
    created = now - parse_ago(entry["ago"])
    # Only a post dated later than the data expects (or a clock set back) needs these; they keep
    # the thread's order rather than its spacing.
    earliest = max(post.published_at, parent.created_at if parent else post.published_at) + timedelta(minutes=1)
    return min(max(created, earliest), now)


def _add(post: Post, entry: dict, parent: Comment | None, load: _Load) -> int:
    user = load.staff.get(entry.get("staff")) if entry.get("staff") else None
    created = _written(entry, post, parent, load.now)
    status = CommentStatus(entry.get("status", "approved"))
    approved_at = None
    if status == CommentStatus.APPROVED:
        approved_at = created if user else _approval(entry, created, load)
    comment = Comment(
        post_id=post.id, parent_id=parent.id if parent else None, depth=parent.depth + 1 if parent else 0,
        author_name=user.display_name if user else entry["author"],
        author_email=(user.email if user else entry["email"]).lower(), author_url=entry.get("website"),
        user_id=user.id if user else None, lang=post.lang, body_md=entry["body"].strip(),
        body_html=markup.render_comment(entry["body"].strip()), status=status,
        status_reason="staff" if user else "demo", created_at=created, is_official=user is not None,
        approved_at=approved_at, moderated_at=approved_at,
        response_status=None if user else (ResponseStatus.NEEDS_ANSWER if entry.get("needs_answer", True)
                                           else ResponseStatus.NO_ANSWER_NEEDED),
        topic=Topic(entry["topic"]) if entry.get("topic") else None,
    )
    db.session.add(comment)
    db.session.flush()
    comment.root_id = parent.root_id if parent else comment.id
    _event(comment, "submit", user, None, status if user else CommentStatus.PENDING, created)
    if approved_at is not None and user is None:
        _event(comment, "approve", load.staff.get(MODERATOR), CommentStatus.PENDING, status, approved_at)
    if user and parent is not None and parent.user_id is None and parent.answered_at is None:
        parent.answered_at, parent.response_status = created, ResponseStatus.ANSWERED
        _event(parent, "reply", user, None, None, created, reason=f"answered in comment {comment.id}")
    return 1 + sum(_add(post, reply, comment, load) for reply in entry.get("replies") or [])


def _approval(entry: dict, created: datetime, load: _Load) -> datetime:
    """A reader comment's approval: a while after it came in, but before anyone could reply to it."""
    delay = timedelta(minutes=APPROVAL_DELAYS[load.approvals % len(APPROVAL_DELAYS)])
    load.approvals += 1
    first_reply = min((load.now - parse_ago(r["ago"]) for r in entry.get("replies") or []), default=load.now)
    return max(created, min(created + delay, first_reply, load.now))


def _event(comment: Comment, action: str, actor: User | None, from_status, to_status, at: datetime,
           reason: str = "demo data") -> None:
    record(comment, action, actor=actor, from_status=from_status, to_status=to_status, reason=reason).at = at
