"""`flask demo generate`: deterministic synthetic posts and threaded comments for benchmarks.

Rows go in with bulk inserts and explicit ids (so replies can point at their parents without a
round trip). HTML still comes from the one pipeline, but each distinct text is rendered once.
"""
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import yaml
from sqlalchemy import func, insert, select, text

from app import markup
from app.content.publishing import apply_post_body
from app.content.slugs import slugify
from app.extensions import db
from app.models import (
    Category,
    Comment,
    CommentStatus,
    Post,
    PostStatus,
    ResponseStatus,
    Role,
    Tag,
    User,
    post_tags,
    utcnow,
)

PHRASES = Path(__file__).parent / "data" / "phrases.yml"
CHUNK = 5000


@dataclass
class Generated:
    posts: int
    comments: int
    pending: int


def generate(*, posts: int, comments_per_post: int, pending: int, seed: int,
             progress: Callable[[str, int], None] | None = None) -> Generated:
    """Add `posts` published posts with `comments_per_post` comments each; `pending` of them wait."""
    rng = random.Random(seed)
    words = yaml.safe_load(PHRASES.read_text(encoding="utf-8"))
    progress = progress or (lambda stage, n: None)
    authors = _authors(rng, words)
    staff = db.session.scalar(select(User).where(User.role.in_((Role.MODERATOR, Role.ADMIN))).order_by(User.id))
    categories = _categories()
    tags = _tags(words)
    bodies = _bodies(rng, words)
    now = utcnow()

    first_post = (db.session.scalar(select(func.max(Post.id))) or 0) + 1
    post_rows, tag_rows, published = [], [], []
    for n in range(posts):
        post_id = first_post + n
        topic = rng.choice(words["topics"])
        title = rng.choice(words["title_patterns"]).format(topic=topic)
        body = bodies[rng.randrange(len(bodies))]
        when = now - timedelta(minutes=rng.randrange(60, 2 * 365 * 24 * 60))
        post_rows.append({
            "id": post_id, "slug": f"{slugify(title, max_length=60)}-{post_id}", "title": title,
            "summary": body.summary, "lang": "de", "body_md": body.body_md, "body_html": body.body_html,
            "toc": body.toc, "reading_minutes": body.reading_minutes, "status": PostStatus.PUBLISHED,
            "published_at": when, "created_at": when, "updated_at": when, "comments_open": True,
            "author_id": rng.choice(authors).id, "category_id": rng.choice(categories).id,
        })
        published.append(when)
        for tag in rng.sample(tags, 2):
            tag_rows.append({"post_id": post_id, "tag_id": tag.id})
    _bulk(Post.__table__, post_rows, lambda n: progress("posts", n))
    _bulk(post_tags, tag_rows)

    comment_rows = _comments(rng, words, first_post, published, comments_per_post, staff, now, progress)
    pending_ids = _choose_pending(rng, comment_rows, pending)
    settled = now - timedelta(days=14)
    written = {row["id"]: row["created_at"] for row in comment_rows}
    post_dates = {first_post + n: when for n, when in enumerate(published)}
    for row in comment_rows:
        if row["id"] in pending_ids:
            row["status"], row["status_reason"], row["approved_at"] = CommentStatus.PENDING, "new_author", None
            row["moderated_at"] = None
            # A queue waits hours, not the years a post's whole thread may span: written in the
            # last two days (after what it answers), so the generated queue is a believable one.
            recent = now - timedelta(minutes=rng.randrange(5, 2 * 24 * 60))
            after = max(written.get(row["parent_id"], post_dates[row["post_id"]]), post_dates[row["post_id"]])
            row["created_at"] = min(max(recent, after + timedelta(minutes=1)), now)
        elif row["response_status"] == ResponseStatus.NEEDS_ANSWER and row["created_at"] < settled:
            # Like a real blog: older conversations among readers are settled, not waiting for the team.
            row["response_status"] = ResponseStatus.NO_ANSWER_NEEDED
    _bulk(Comment.__table__, comment_rows, lambda n: progress("comments", n))
    _sync_sequences()
    db.session.commit()
    return Generated(posts=posts, comments=len(comment_rows), pending=len(pending_ids))


def _comments(rng, words, first_post, published, per_post, staff, now, progress) -> list[dict]:
    rendered: dict[str, str] = {}  # each distinct text through the pipeline once

    def html(text: str) -> str:
        if text not in rendered:
            rendered[text] = markup.render_comment(text)
        return rendered[text]

    next_id = (db.session.scalar(select(func.max(Comment.id))) or 0) + 1
    people = [(f"{first} {last}", f"{slugify(first)}.{slugify(last)}@example.org")
              for first in words["first_names"] for last in words["last_names"]]
    rows = []
    for index, when in enumerate(published):
        post_id = first_post + index
        thread: list[dict] = []
        minutes = 0
        for _ in range(per_post):
            minutes += rng.randrange(1, 240)
            created = min(when + timedelta(minutes=minutes), now)
            # About half are replies, to a recent comment more often than to an old one.
            parent = (thread[-1 - min(int(rng.expovariate(0.5)), len(thread) - 1)]
                      if thread and rng.random() < 0.5 else None)
            by_staff = staff is not None and parent is not None and rng.random() < 0.12
            if by_staff:
                name, email, text_ = staff.display_name, (staff.email or "").lower(), rng.choice(words["staff_replies"])
            else:
                name, email = rng.choice(people)
                text_ = rng.choice(words["replies"] if parent else words["comments"])
            row = {
                "id": next_id, "post_id": post_id, "parent_id": parent["id"] if parent else None,
                "root_id": parent["root_id"] if parent else next_id, "depth": parent["depth"] + 1 if parent else 0,
                "author_name": name, "author_email": email, "author_url": None,
                "user_id": staff.id if by_staff else None, "lang": "de", "body_md": text_, "body_html": html(text_),
                "status": CommentStatus.APPROVED, "status_reason": "staff" if by_staff else "demo",
                "is_official": by_staff, "ip_hash": None, "created_at": created, "edited_at": None,
                "approved_at": created, "moderated_at": created, "flag_count": 0,
                "response_status": None if by_staff else ResponseStatus.NEEDS_ANSWER, "answered_at": None,
            }
            if by_staff and parent["answered_at"] is None and parent["user_id"] is None:
                parent["answered_at"], parent["response_status"] = created, ResponseStatus.ANSWERED
            next_id += 1
            thread.append(row)
            rows.append(row)
        if index % 1000 == 999:
            progress("threads", 1000)
    return rows


def _choose_pending(rng, rows: list[dict], pending: int) -> set[int]:
    """Pending comments are leaves written by readers: nothing approved may hang below them."""
    parents = {row["parent_id"] for row in rows if row["parent_id"]}
    leaves = [row["id"] for row in rows if row["id"] not in parents and row["user_id"] is None]
    return set(rng.sample(leaves, min(pending, len(leaves))))


@dataclass
class _Body:
    body_md: str
    body_html: str
    toc: list
    reading_minutes: int
    summary: str


def _bodies(rng, words, count: int = 60) -> list[_Body]:
    bodies = []
    for _ in range(count):
        sections = []
        for heading in rng.sample(words["headings"], rng.randrange(2, 5)):
            paragraphs = rng.sample(words["paragraphs"], rng.randrange(1, 4))
            sections.append(f"## {heading}\n\n" + "\n\n".join(paragraphs))
        lead = rng.choice(words["paragraphs"])
        body_md = lead + "\n\n" + "\n\n".join(sections) + "\n"
        post = Post()
        apply_post_body(post, body_md)
        bodies.append(_Body(body_md, post.body_html, post.toc, post.reading_minutes, post.summary))
    return bodies


def _authors(rng, words) -> list[User]:
    authors = list(db.session.scalars(select(User).where(User.role.in_((Role.AUTHOR, Role.EDITOR)))))
    if not authors:
        user = User(username="redaktion", display_name="Redaktion", role=Role.AUTHOR)
        db.session.add(user)
        db.session.flush()
        authors = [user]
    return authors


def _categories() -> list[Category]:
    categories = list(db.session.scalars(select(Category).order_by(Category.position)))
    if not categories:
        for position, name in enumerate(["Netzkultur", "Kundenservice", "Netz & Technik", "Recht & Politik"]):
            db.session.add(Category(name=name, slug=slugify(name), description="", position=position))
        db.session.flush()
        categories = list(db.session.scalars(select(Category)))
    return categories


def _tags(words) -> list[Tag]:
    existing = {t.slug: t for t in db.session.scalars(select(Tag))}
    for topic in words["topics"]:
        slug = slugify(topic)
        if slug not in existing:
            existing[slug] = Tag(name=topic, slug=slug)
            db.session.add(existing[slug])
    db.session.flush()
    return sorted(existing.values(), key=lambda t: t.slug)


def _bulk(table, rows: list[dict], progress: Callable[[int], None] | None = None) -> None:
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start:start + CHUNK]
        db.session.execute(insert(table), chunk)
        if progress:
            progress(len(chunk))


def _sync_sequences() -> None:
    """Explicit ids bypass PostgreSQL's sequences; move them past what was inserted."""
    if db.engine.dialect.name != "postgresql":
        return
    for table in ("posts", "comments"):
        db.session.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 1) FROM {table}))"
        ))
