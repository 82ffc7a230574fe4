"""What goes into the search indexes, read from the database (no Whoosh here).

The reader index holds posts that are published or scheduled (`indexable_post`) and the approved
comments under them; a scheduled post stays out of results until due (`scheduled_post_ids`), and
every hit is checked again with the models' own visibility rules (`Post.is_visible`,
`Comment.is_visible`) before it is shown. The staff index holds every comment, whatever its
status. Documents are read with column queries (no ORM objects), so a rebuild can stream the
whole database; index updates read through their own connection (`conn`), so they see the newest
committed rows whatever the caller's session holds. The checks on hits use the request's session.
"""
import html
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, case, func, literal, select

from app.extensions import db
from app.models import Category, Comment, CommentStatus, Post, PostStatus, Tag, User, post_tags

CHUNK = 500  # ids per IN (...) list
STREAM = 2000  # rows fetched per round trip while rebuilding


def indexable_post():
    """SQL: a post readers see now, or will see by itself once due (left out of results until then)."""
    return and_(Post.status.in_((PostStatus.PUBLISHED, PostStatus.SCHEDULED)), Post.published_at.is_not(None))


# --- text ------------------------------------------------------------------------------------

_HEADERLINK = re.compile(r'<a class="headerlink"[^>]*>.*?</a>', re.DOTALL)
_BLOCK = re.compile(r"</?(?:p|div|h[1-6]|li|ul|ol|dl|dt|dd|br|hr|tr|td|th|table|thead|tbody|blockquote|pre|"
                    r"figure|figcaption|section|article|details|summary)\b[^>]*>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def text_of(fragment: str) -> str:
    """The visible text of stored, already sanitised HTML (post or comment body), on one line.

    A regex is enough here: the HTML was cleaned by `app.markup` when it was saved, and the text
    only feeds the analyzers and the (escaped) snippets. It is much faster than parsing, which
    matters when a rebuild reads every post.
    """
    text = _HEADERLINK.sub("", fragment or "")
    text = _BLOCK.sub(" ", text)
    text = html.unescape(_TAG.sub("", text))
    return " ".join(_CONTROL.sub(" ", text).split())


# --- documents -------------------------------------------------------------------------------

@dataclass
class Doc:
    """One searchable thing, language-tagged; `whoosh/schema.py` turns it into index fields."""

    kind: str  # post | comment
    id: int
    post_id: int
    lang: str
    title: str  # posts only
    body: str
    meta: str  # category, tags and author of a post; the author's name of a comment
    date: datetime  # published (post) or written (comment): the "newest first" order
    category: str = ""  # category slug (a comment's is its post's)
    official: bool = False
    answered: bool = False
    status: str = CommentStatus.APPROVED  # staff index only


def _post_select() -> Select:
    return (select(Post.id, Post.title, Post.summary, Post.lang, Post.body_html, Post.published_at,
                   Category.slug, Category.name, User.display_name)
            .outerjoin(Category, Category.id == Post.category_id)
            .outerjoin(User, User.id == Post.author_id)
            .where(indexable_post()))


def _post_docs(rows, tags: dict[int, list[str]]) -> Iterator[Doc]:
    for pid, title, summary, lang, body_html, published, cat_slug, cat_name, author in rows:
        body = text_of(body_html)
        if summary and not body.startswith(summary.rstrip(" …")):
            body = f"{summary} {body}"
        meta = " ".join(filter(None, [cat_name, *tags.get(pid, ()), author]))
        yield Doc(kind="post", id=pid, post_id=pid, lang=lang or "de", title=title or "", body=body, meta=meta,
                  date=published, category=cat_slug or "")


def _tags_for(conn, post_ids: list[int] | None) -> dict[int, list[str]]:
    stmt = select(post_tags.c.post_id, Tag.name).join(Tag, Tag.id == post_tags.c.tag_id)
    if post_ids is not None:
        stmt = stmt.where(post_tags.c.post_id.in_(post_ids))
    tags: dict[int, list[str]] = {}
    for pid, name in conn.execute(stmt):
        tags.setdefault(pid, []).append(name)
    return tags


def reader_posts(conn, ids: Iterable[int]) -> list[Doc]:
    """Documents for these posts, leaving out the ones readers may never see (drafts, deleted)."""
    docs = []
    for chunk in _chunks(ids):
        rows = conn.execute(_post_select().where(Post.id.in_(chunk))).all()
        docs.extend(_post_docs(rows, _tags_for(conn, chunk)))
    return docs


def _comment_select() -> Select:
    return (select(Comment.id, Comment.post_id, Comment.lang, Comment.body_html, Comment.author_name,
                   Comment.is_official, Comment.answered_at, Comment.created_at, Comment.status, Category.slug)
            .join(Post, Post.id == Comment.post_id)
            .outerjoin(Category, Category.id == Post.category_id))


def _comment_docs(rows) -> Iterator[Doc]:
    for cid, pid, lang, body_html, author, official, answered_at, created, status, cat in rows:
        yield Doc(kind="comment", id=cid, post_id=pid, lang=lang or "de", title="", body=text_of(body_html),
                  meta=author or "", date=created, category=cat or "",
                  official=bool(official), answered=answered_at is not None, status=status)


def _reader_comment_select() -> Select:
    return _comment_select().where(Comment.status == CommentStatus.APPROVED, indexable_post())


def reader_comments(conn, ids: Iterable[int] = (), post_ids: Iterable[int] = ()) -> list[Doc]:
    """Approved comments (by id, or all of some posts) under posts readers see or will see."""
    docs = []
    for chunk in _chunks(ids):
        docs.extend(_comment_docs(conn.execute(_reader_comment_select().where(Comment.id.in_(chunk)))))
    for chunk in _chunks(post_ids):
        docs.extend(_comment_docs(conn.execute(
            _reader_comment_select().where(Comment.post_id.in_(chunk)).order_by(Comment.id))))
    return docs


def staff_comments(conn, ids: Iterable[int]) -> list[Doc]:
    """Every comment with these ids that still exists, whatever its status."""
    docs = []
    for chunk in _chunks(ids):
        docs.extend(_comment_docs(conn.execute(_comment_select().where(Comment.id.in_(chunk)))))
    return docs


def existing_posts(conn, ids: Iterable[int]) -> set[int]:
    found = set()
    for chunk in _chunks(ids):
        found.update(conn.scalars(select(Post.id).where(Post.id.in_(chunk))))
    return found


# --- full rebuild ----------------------------------------------------------------------------

def count_all(conn) -> tuple[int, int, int]:
    """(reader posts, reader comments, all comments): the work a rebuild will do."""
    posts = conn.scalar(select(func.count()).select_from(Post).where(indexable_post()))
    approved = conn.scalar(select(func.count()).select_from(Comment).join(Post, Post.id == Comment.post_id)
                                 .where(Comment.status == CommentStatus.APPROVED, indexable_post()))
    comments = conn.scalar(select(func.count()).select_from(Comment))
    return posts, approved, comments


def all_reader_posts(conn) -> Iterator[Doc]:
    tags = _tags_for(conn, None)
    rows = conn.execute(_post_select().order_by(Post.id).execution_options(yield_per=STREAM))
    yield from _post_docs(rows, tags)


def all_reader_comments(conn) -> Iterator[Doc]:
    rows = conn.execute(_reader_comment_select().order_by(Comment.id).execution_options(yield_per=STREAM))
    yield from _comment_docs(rows)


def all_staff_comments(conn) -> Iterator[Doc]:
    rows = conn.execute(_comment_select().order_by(Comment.id).execution_options(yield_per=STREAM))
    yield from _comment_docs(rows)


# --- hits: checked against the database again before anything is shown -------------------------

@dataclass
class PostRow:
    id: int
    slug: str
    title: str
    lang: str
    text: str
    summary: str
    published_at: datetime
    category: str | None


@dataclass
class CommentRow:
    id: int
    post_id: int
    post_slug: str
    post_title: str
    lang: str
    text: str
    author_name: str
    created_at: datetime
    status: str
    is_official: bool
    answered: bool
    body_md: str = ""


def scheduled_post_ids(now: datetime) -> list[int]:
    """Posts in the index whose date has not come yet: their documents are left out of searches."""
    return list(db.session.scalars(select(Post.id).where(indexable_post(), Post.published_at > now)))


def shown_doc_ids(doc_ids: Iterable[str], now: datetime | None) -> set[str]:
    """The index ids ("p12", "c345") among `doc_ids` that may be shown, read as ids only (cheap in bulk).

    With `now`: what readers may see then (the same rules as `visible_posts` and `comments_by_id`);
    without: comments that still exist (staff search). Searches check their hits with this
    before counting them, so a stale index entry never makes a page come up short.
    """
    doc_ids = list(doc_ids)
    shown: set[str] = set()
    # The rules are in the SELECT list, not the WHERE clause, for the reason given in `visible_posts`.
    post_ok = case((Post.visible(now), 1), else_=0) if now is not None else literal(1)
    comment_ok = case((and_(Comment.status == CommentStatus.APPROVED, Post.visible(now)), 1), else_=0) \
        if now is not None else literal(1)
    for chunk in _chunks(int(d[1:]) for d in doc_ids if d[0] == "p"):
        rows = db.session.execute(select(Post.id, post_ok).where(Post.id.in_(chunk)))
        shown.update(f"p{pid}" for pid, ok in rows if ok)
    for chunk in _chunks(int(d[1:]) for d in doc_ids if d[0] == "c"):
        rows = db.session.execute(select(Comment.id, comment_ok).join(Post, Post.id == Comment.post_id)
                                  .where(Comment.id.in_(chunk)))
        shown.update(f"c{cid}" for cid, ok in rows if ok)
    return shown


def visible_posts(ids: list[int], now: datetime) -> dict[int, PostRow]:
    """The posts among `ids` that readers may see now (`Post.is_visible`, the pages' own rule)."""
    if not ids:
        return {}
    rows = db.session.execute(select(Post, Category.name).outerjoin(Category, Category.id == Post.category_id)
                              .where(Post.id.in_(ids))).all()
    # Visibility is checked on the loaded rows: with `Post.visible(now)` in the WHERE clause,
    # SQLite (without statistics) walked every visible post instead of looking up a page of ids.
    return {p.id: PostRow(p.id, p.slug, p.title, p.lang, text_of(p.body_html), p.summary, p.published_at, category)
            for p, category in rows if p.is_visible(now)}


def comments_by_id(ids: list[int], now: datetime | None) -> dict[int, CommentRow]:
    """Comments among `ids`; with `now`, only those readers may see (approved, under a visible post)."""
    if not ids:
        return {}
    rows = db.session.execute(select(Comment, Post).join(Post, Post.id == Comment.post_id)
                              .where(Comment.id.in_(ids))).all()  # checked below, see visible_posts
    return {c.id: _comment_row(c, p) for c, p in rows if now is None or (c.is_visible and p.is_visible(now))}


def _comment_row(c: Comment, p: Post) -> CommentRow:
    return CommentRow(c.id, c.post_id, p.slug, p.title, c.lang, text_of(c.body_html), c.author_name, c.created_at,
                      c.status, bool(c.is_official), c.answered_at is not None, c.body_md)


def first_answers(question_ids: list[int]) -> dict[int, CommentRow]:
    """The first approved official answer to each of these comments."""
    if not question_ids:
        return {}
    rows = db.session.execute(select(Comment, Post).join(Post, Post.id == Comment.post_id)
                              .where(Comment.parent_id.in_(question_ids)).order_by(Comment.parent_id, Comment.id))
    answers: dict[int, CommentRow] = {}
    for c, p in rows:
        if c.is_official and c.is_visible and c.parent_id not in answers:
            answers[c.parent_id] = _comment_row(c, p)
    return answers


def _chunks(ids: Iterable[int]) -> Iterator[list[int]]:
    unique = sorted({int(i) for i in ids})
    for start in range(0, len(unique), CHUNK):
        yield unique[start:start + CHUNK]
