"""Reading long threads: one page of threads in a fixed number of queries, assembled in O(n).

A page is a set of top-level comments (roots) with everything below them. The roots with
something a reader may see are paged in SQL; then every comment of those threads is loaded in
one query and the tree is built from parent ids in Python. Comments a reader may not see are
dropped, except as a "removed" placeholder when visible replies hang below them.
"""
from dataclasses import dataclass, field
from functools import lru_cache

from sqlalchemy import bindparam, distinct, func, or_, select, union
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import Comment, CommentStatus, Post, ResponseStatus

ORDERS = ("oldest", "newest")
SHOW = ("all", "answered", "open")  # whole threads, or only those with an answered / a still open question
MAX_PAGE = 1_000_000  # beyond it a page number is the last page (the offset stays a database integer)


@dataclass
class ThreadItem:
    comment: Comment
    depth: int  # display depth (capped)
    placeholder: bool = False  # removed or hidden, shown only to keep the thread's shape
    own_pending: bool = False  # the reader's own comment, not yet approved
    staff_pending: bool = False  # waiting for moderation, shown to moderators only (include_pending)
    reply_to: Comment | None = None  # set when nested deeper than the display allows
    has_replies: bool = False
    answer: Comment | None = None  # the team's first official answer to this comment
    opens: bool = False  # template: start a nested list before this item
    closes: int = 0  # template: nested lists to close before this item


@dataclass
class ThreadPage:
    items: list[ThreadItem]
    page: int
    pages: int
    threads: int  # threads with something to show
    approved: int  # approved comments on the whole post
    order: str
    show: str = "all"
    trailing_closes: int = 0
    by_id: dict = field(default_factory=dict)
    roots: list[int] = field(default_factory=list)  # the page's threads in order (items: those loaded)

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


# A reader's own comments show to them while waiting (spam too: a bot must not see a difference),
# never once they are rejected or deleted.
OWN_WAITING = (CommentStatus.PENDING, CommentStatus.SPAM)


def _visible(own_ids: set[int], include_pending: bool = False):
    condition = Comment.status.in_((CommentStatus.APPROVED, CommentStatus.PENDING)) if include_pending \
        else Comment.status == CommentStatus.APPROVED
    if not own_ids:
        return condition
    return or_(condition, Comment.id.in_(own_ids) & Comment.status.in_(OWN_WAITING))


def _shown_to(comment: Comment, own_ids: set[int], include_pending: bool = False) -> bool:
    return comment.status == CommentStatus.APPROVED or (comment.id in own_ids and comment.status in OWN_WAITING) \
        or (include_pending and comment.status == CommentStatus.PENDING)


def _questions(post_id, show: str):
    """The threads holding an approved reader question in the wanted answer state."""
    wanted = ResponseStatus.ANSWERED if show == "answered" else ResponseStatus.NEEDS_ANSWER
    return select(Comment.root_id).where(Comment.post_id == post_id, Comment.status == CommentStatus.APPROVED,
                                         Comment.response_status == wanted)


@lru_cache(maxsize=32)
def _page_statements(has_own: bool, include_pending: bool, show: str, order: str):
    """How many comments and threads, and one page of the roots: built once per kind of page, run
    with parameters. The threads everyone sees and the reader's own are read apart and joined
    (UNION): an OR of the two would make PostgreSQL read every comment of the post from the table,
    where the index (post, status, thread) alone answers each part."""
    post_id = bindparam("post_id")
    shown = Comment.status.in_((CommentStatus.APPROVED, CommentStatus.PENDING)) if include_pending \
        else Comment.status == CommentStatus.APPROVED
    visible_roots = select(Comment.root_id).where(Comment.post_id == post_id, shown)
    if has_own:
        visible_roots = union(visible_roots, select(Comment.root_id).where(
            Comment.post_id == post_id, Comment.id.in_(bindparam("own", expanding=True)),
            Comment.status.in_(OWN_WAITING)))
    else:
        visible_roots = visible_roots.distinct()
    listed = visible_roots.subquery()
    threads = select(listed.c.root_id)
    if show != "all":
        threads = threads.where(listed.c.root_id.in_(_questions(post_id, show)))
    threads = threads.subquery()
    root_order = threads.c.root_id.asc() if order == "oldest" else threads.c.root_id.desc()
    approved = select(func.count()).select_from(Comment).where(
        Comment.post_id == post_id, Comment.status == CommentStatus.APPROVED).scalar_subquery()
    count = select(approved, select(func.count()).select_from(threads).scalar_subquery())
    # One page of roots, each row with the counts (a window over all threads, before the LIMIT): one
    # statement for a page that exists; `count` only for a page past the end, or no threads at all.
    roots = (select(threads.c.root_id, func.count().over().label("threads"), approved.label("approved"))
             .order_by(root_order).limit(bindparam("limit")).offset(bindparam("offset")))
    return count, roots


def load_page(post: Post, *, page: int = 1, order: str = "oldest", own_ids: set[int] = frozenset(),
              per_page: int = 50, max_depth: int = 5, show: str = "all", include_pending: bool = False,
              known=None) -> ThreadPage:
    """One page of threads of `post` for a reader who wrote `own_ids` (shown to them while pending);
    `include_pending`: for moderators, pending comments too, marked in place (the same queries).
    `known(roots)`: the roots among them whose threads the caller has already rendered (their
    comments are not loaded)."""
    own_ids = set(own_ids)
    order = order if order in ORDERS else "oldest"
    show = show if show in SHOW else "all"
    count, page_roots = _page_statements(bool(own_ids), include_pending, show, order)
    values = {"post_id": post.id, **({"own": sorted(own_ids)} if own_ids else {})}
    page = min(max(page, 1), MAX_PAGE)  # an OFFSET past any integer would be a database error
    rows = db.session.execute(page_roots, {**values, "limit": per_page, "offset": (page - 1) * per_page}).all()
    # No rows: no threads, or a page past the end; then the counts alone, and the last page.
    approved, threads = (rows[0].approved, rows[0].threads) if rows else db.session.execute(count, values).one()
    pages = max(1, -(-threads // per_page))
    if page > pages:
        page = pages
        if threads:
            rows = db.session.execute(page_roots, {**values, "limit": per_page, "offset": (page - 1) * per_page}).all()
    roots = [row.root_id for row in rows]
    skip = known(roots) if known and roots else set()
    wanted = [root for root in roots if root not in skip]
    comments = db.session.scalars(_IN_THREADS, {"roots": wanted}).all() if wanted else []
    items = assemble(comments, wanted, own_ids, max_depth, include_pending=include_pending)
    trailing = items[-1].depth if items else 0
    return ThreadPage(items=items, page=page, pages=pages, threads=threads, approved=approved, order=order,
                      show=show, trailing_closes=trailing, by_id={item.comment.id: item for item in items},
                      roots=list(roots))


def roots_of(comment_ids: set[int]) -> set[int]:
    """The threads these comments are in."""
    if not comment_ids:
        return set()
    return set(db.session.scalars(_ROOTS_OF, {"ids": list(comment_ids)}))


# Statements of every post page, built once with parameters (building costs more than running them).
_IN_THREADS = (select(Comment).options(joinedload(Comment.user))
               .where(Comment.root_id.in_(bindparam("roots", expanding=True))).order_by(Comment.id))
_ROOTS_OF = select(Comment.root_id).where(Comment.id.in_(bindparam("ids", expanding=True)))


# A reply that is not deleted (pending, approved, even spam) means someone answered: the one
# definition, in SQL for the service and in Python for a loaded thread.
COUNTS_AS_REPLY = Comment.status != CommentStatus.DELETED


def counts_as_reply(comment: Comment) -> bool:
    return comment.status != CommentStatus.DELETED


def assemble(comments: list[Comment], roots: list[int], own_ids: set[int], max_depth: int,
             include_pending: bool = False) -> list[ThreadItem]:
    """Depth-first thread order from comments sorted by id (a reply always has a larger id than its parent)."""
    by_id = {c.id: c for c in comments}
    children: dict[int, list[Comment]] = {}
    for c in comments:
        if c.parent_id is not None:
            children.setdefault(c.parent_id, []).append(c)
    shown: set[int] = set()
    for c in reversed(comments):  # children before parents: a parent is shown if anything below it is
        if _shown_to(c, own_ids, include_pending) or c.id in shown:
            shown.add(c.id)
            if c.parent_id is not None:
                shown.add(c.parent_id)

    items: list[ThreadItem] = []
    previous_depth = -1
    stack = [by_id[r] for r in reversed(roots) if r in by_id]
    while stack:
        c = stack.pop()
        if c.id not in shown:
            continue
        visible = _shown_to(c, own_ids, include_pending)
        depth = min(c.depth, max_depth)
        mine = c.id in own_ids and c.status in OWN_WAITING
        item = ThreadItem(
            comment=c, depth=depth, placeholder=not visible,
            own_pending=visible and mine and c.status != CommentStatus.APPROVED,
            staff_pending=visible and not mine and c.status == CommentStatus.PENDING,
            reply_to=by_id.get(c.parent_id) if c.depth > max_depth else None,
            has_replies=any(counts_as_reply(r) for r in children.get(c.id, [])),
            answer=next((r for r in children.get(c.id, []) if r.is_official and r.status == CommentStatus.APPROVED),
                        None),
        )
        if previous_depth >= 0:
            item.opens = depth > previous_depth
            item.closes = max(0, previous_depth - depth)
        previous_depth = depth
        items.append(item)
        stack.extend(reversed(children.get(c.id, [])))
    return items


def approved_counts(post_ids: list[int]) -> dict[int, int]:
    """Approved comments per post, for lists of posts (one query)."""
    if not post_ids:
        return {}
    rows = db.session.execute(
        select(Comment.post_id, func.count()).where(Comment.post_id.in_(post_ids),
                                                    Comment.status == CommentStatus.APPROVED)
        .group_by(Comment.post_id)
    )
    return dict(rows.all())


def page_of(comment: Comment, own_ids: set[int], per_page: int) -> int:
    """The thread page (oldest first) on which a comment appears, for permalinks."""
    before = db.session.scalar(
        select(func.count(distinct(Comment.root_id)))
        .where(Comment.post_id == comment.post_id, _visible(set(own_ids)), Comment.root_id < comment.root_id)
    )
    return before // per_page + 1


def thread_in_order(post: Post) -> list[Comment]:
    """Every approved comment of a post in thread order, with its depth (for the JSON API)."""
    comments = db.session.scalars(
        select(Comment).where(Comment.post_id == post.id).order_by(Comment.id)
    ).all()
    roots = [c.id for c in comments if c.parent_id is None]
    return assemble(comments, roots, set(), max_depth=10**6)


def latest_approved(post: Post, limit: int) -> list[Comment]:
    """The newest approved comments of a post (for its comment feed)."""
    return list(db.session.scalars(
        select(Comment).where(Comment.post_id == post.id, Comment.status == CommentStatus.APPROVED)
        .order_by(Comment.id.desc()).limit(limit)
    ))
