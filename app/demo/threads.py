"""`flask demo comments`: the hand-written discussions under the demo posts (app/demo/data/comments.yml)."""
from datetime import timedelta
from pathlib import Path

import yaml
from sqlalchemy import select

from app import markup
from app.extensions import db
from app.models import Comment, CommentStatus, Post, ResponseStatus, User, utcnow
from app.moderation.service import record

DATA = Path(__file__).parent / "data" / "comments.yml"


def load_demo_comments(path: Path = DATA) -> tuple[int, int]:
    """Add the threads to posts that have no comments yet; returns (posts filled, comments added)."""
    threads = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    staff = {u.username: u for u in db.session.scalars(select(User))}
    now = utcnow()
    posts_filled = added = 0
    for slug, entries in threads.items():
        post = db.session.scalar(select(Post).where(Post.slug == slug))
        if post is None or post.published_at is None:
            continue
        if db.session.scalar(select(Comment.id).where(Comment.post_id == post.id).limit(1)) is not None:
            continue  # already has comments: running `make run` twice keeps what is there
        for entry in entries:
            added += _add(post, entry, None, staff, now)
        posts_filled += 1
    db.session.commit()
    return posts_filled, added


def _add(post: Post, entry: dict, parent: Comment | None, staff: dict, now) -> int:
    user = staff.get(entry.get("staff")) if entry.get("staff") else None
    created = min(post.published_at + timedelta(minutes=int(entry.get("minutes_after_publication", 60))),
                  now - timedelta(minutes=5))
    status = CommentStatus(entry.get("status", "approved"))
    comment = Comment(
        post_id=post.id, parent_id=parent.id if parent else None, depth=parent.depth + 1 if parent else 0,
        author_name=user.display_name if user else entry["author"],
        author_email=(user.email if user else entry["email"]).lower(), author_url=entry.get("website"),
        user_id=user.id if user else None, lang=post.lang, body_md=entry["body"].strip(),
        body_html=markup.render_comment(entry["body"].strip()), status=status,
        status_reason="staff" if user else "demo", created_at=created, is_official=user is not None,
        approved_at=created + timedelta(minutes=20) if status == CommentStatus.APPROVED and not user else
        (created if user else None),
        response_status=None if user else ResponseStatus.NEEDS_ANSWER,
    )
    comment.moderated_at = comment.approved_at
    if user and parent is not None and parent.answered_at is None:
        parent.answered_at, parent.response_status = created, ResponseStatus.ANSWERED
    db.session.add(comment)
    db.session.flush()
    comment.root_id = parent.root_id if parent else comment.id
    record(comment, "submit", actor=user, from_status=None, to_status=status, reason="demo data")
    return 1 + sum(_add(post, reply, comment, staff, now) for reply in entry.get("replies") or [])
