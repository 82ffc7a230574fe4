"""The moderation queue: which comments a view shows, and what each item needs beside it.

Every page is a bounded set of queries (the page, its count, parents, trust counts, claim
holders, commenter statuses, waiting readers per post), whatever the length of the queue.
"""
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, false, func, or_, select
from sqlalchemy.orm import joinedload

from app.comments import service as comment_service
from app.comments.policy import CommentPolicy
from app.extensions import db
from app.models import (
    Category,
    Comment,
    CommenterKind,
    CommenterStatus,
    CommentStatus,
    ModerationEvent,
    Post,
    ResponseStatus,
    User,
)
from app.moderation import commenters, targets

S, R = CommentStatus, ResponseStatus
VIEWS = ("pending", "needs_answer", "escalated", "flagged", "spam", "rejected", "all")
NEWEST_FIRST = {"spam", "rejected", "all"}  # archives; the working views show the oldest first


@dataclass
class QueueFilter:
    view: str = "pending"
    category: str = ""  # slug
    post: str = ""  # slug
    assigned: str = ""  # "me" | "unassigned" | ""
    breaching: bool = False
    q: str = ""
    group: bool = False

    def __post_init__(self):
        self.view = self.view if self.view in VIEWS else "pending"
        self.assigned = self.assigned if self.assigned in ("me", "unassigned") else ""
        self.q = (self.q or "").strip()[:200]

    def args(self, **changes) -> dict:
        """Query-string arguments for links that keep the other filters."""
        values = {"view": self.view, "category": self.category, "post": self.post, "assigned": self.assigned,
                  "breaching": "1" if self.breaching else "", "q": self.q, "group": "1" if self.group else ""}
        values.update(changes)
        return {k: v for k, v in values.items() if v}


@dataclass
class Targets:
    """First-answer targets per category, as the queue needs them."""

    default_minutes: int
    hours: tuple[int, int]
    tz: ZoneInfo
    by_category: dict[int, tuple[int, bool]] = field(default_factory=dict)

    @classmethod
    def load(cls, config, tz: ZoneInfo) -> "Targets":
        rows = db.session.execute(select(Category.id, Category.response_target_minutes, Category.business_hours_only))
        return cls(int(config["RESPONSE_TARGET_MINUTES"]), tuple(config["BUSINESS_HOURS"]), tz,
                   {cid: (minutes, business) for cid, minutes, business in rows})

    def rule(self, category_id: int | None) -> tuple[int, tuple[int, int] | None]:
        minutes, business = self.by_category.get(category_id, (self.default_minutes, False))
        return minutes, self.hours if business else None

    def due(self, comment: Comment, category_id: int | None) -> datetime:
        minutes, hours = self.rule(category_id)
        return targets.due_at(comment.created_at, minutes, self.tz, hours)

    def breaching(self, now: datetime):
        """SQL: readers still waiting past their category's target (one cutoff per category)."""
        conditions = []
        for category_id in [*list(self.by_category), None]:
            minutes, hours = self.rule(category_id)
            cutoff = targets.overdue_before(now, minutes, self.tz, hours)
            in_category = Post.category_id.is_(None) if category_id is None else Post.category_id == category_id
            conditions.append(and_(in_category, Comment.created_at < cutoff))
        return and_(Comment.response_status == R.NEEDS_ANSWER, Comment.status.in_((S.PENDING, S.APPROVED)),
                    or_(*conditions) if conditions else false())


def view_condition(view: str):
    return {
        # New comments, and readers' edits of published ones (published text stays until decided).
        # The same condition as the partial index ix_comments_queue_pending (models/comment.py).
        "pending": or_(Comment.status == S.PENDING, Comment.pending_since.is_not(None)),
        "needs_answer": and_(Comment.response_status == R.NEEDS_ANSWER, Comment.status.in_((S.PENDING, S.APPROVED))),
        "escalated": and_(Comment.response_status == R.ESCALATED, Comment.status.in_((S.PENDING, S.APPROVED))),
        "flagged": Comment.flag_count > 0,  # reports are resolved (count back to 0) when a comment is removed
        "spam": Comment.status == S.SPAM,
        "rejected": Comment.status == S.REJECTED,
        "all": Comment.id.is_not(None),
    }[view]


def build(f: QueueFilter, actor: User, now: datetime, goals: Targets):
    """The SELECT behind a queue view (joined to its post for category filters and ordering)."""
    stmt = select(Comment).join(Post, Post.id == Comment.post_id).where(view_condition(f.view))
    if f.category:
        stmt = stmt.join(Category, Category.id == Post.category_id).where(Category.slug == f.category)
    if f.post:
        stmt = stmt.where(Post.slug == f.post)
    if f.assigned == "me":
        stmt = stmt.where(Comment.assigned_to_id == actor.id)
    elif f.assigned == "unassigned":
        stmt = stmt.where(Comment.assigned_to_id.is_(None))
    if f.breaching:
        stmt = stmt.where(goals.breaching(now))
    if f.q:
        like = f"%{escape_like(f.q.lower())}%"
        stmt = stmt.where(or_(func.lower(Comment.author_name).like(like, escape="\\"),
                              func.lower(Comment.author_email).like(like, escape="\\"),
                              func.lower(Comment.body_md).like(like, escape="\\")))
    if f.group:
        return stmt.order_by(Post.published_at.desc(), Post.id, Comment.created_at, Comment.id)
    if f.view in NEWEST_FIRST:
        return stmt.order_by(Comment.created_at.desc(), Comment.id.desc())
    return stmt.order_by(Comment.created_at, Comment.id)


@dataclass
class QueueItem:
    comment: Comment
    parent: Comment | None
    approved_before: int
    waiting_from_address: int  # other comments of this address in the queue
    links: int
    waiting: timedelta | None  # for readers still waiting for an answer
    due: datetime | None
    overdue: bool
    claim_holder: User | None
    # A status the team gave the author's address or client (moderation.commenters), in force now
    commenter: CommenterStatus | None = None


def page(f: QueueFilter, actor: User, *, number: int, per_page: int, now: datetime, goals: Targets,
         claim_minutes: int):
    """One page of the queue with everything its items show."""
    unfiltered = not (f.category or f.post or f.assigned or f.breaching or f.q)
    pagination = db.paginate(
        build(f, actor, now, goals).options(joinedload(Comment.post).joinedload(Post.category),
                                             joinedload(Comment.assigned_to)),
        page=number, per_page=per_page, error_out=False, count=not unfiltered,
    )
    if unfiltered:  # counted on the comments' indexes alone, not on the page's join
        pagination.total = view_count(f.view)
    comments = pagination.items
    parent_ids = {c.parent_id for c in comments if c.parent_id}
    parents = {c.id: c for c in db.session.scalars(select(Comment).where(Comment.id.in_(parent_ids)))} \
        if parent_ids else {}
    history = comment_service.address_history({c.author_email for c in comments if c.user_id is None})
    stale = now - timedelta(minutes=claim_minutes)
    holder_ids = {c.claimed_by_id for c in comments if c.claimed_by_id and c.claimed_at and c.claimed_at >= stale}
    holders = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(holder_ids)))} if holder_ids else {}
    readers = [c for c in comments if c.user_id is None]
    statuses = commenters.active_for_many({c.author_email for c in readers}, {c.ip_hash for c in readers}, now)
    items = []
    for c in comments:
        waiting = c.response_status == R.NEEDS_ANSWER and c.status in (S.PENDING, S.APPROVED)
        due = goals.due(c, c.post.category_id) if waiting else None
        live_claim = c.claimed_by_id in holders and c.claimed_at >= stale
        past = history.get(c.author_email, comment_service.History())
        items.append(QueueItem(
            comment=c, parent=parents.get(c.parent_id), approved_before=past.approved,
            waiting_from_address=max(0, past.waiting - (1 if c.status == S.PENDING else 0)),
            links=CommentPolicy.count_links(c.body_md), waiting=(now - c.created_at) if waiting else None,
            due=due, overdue=bool(due and due < now), claim_holder=holders.get(c.claimed_by_id) if live_claim else None,
            commenter=_strongest(statuses, c) if c.user_id is None else None,
        ))
    return pagination, items


def _strongest(statuses: dict, c: Comment) -> CommenterStatus | None:
    """The stronger of the statuses of the comment's address and client (banned over pre-moderated)."""
    found = [s for key in ((CommenterKind.EMAIL, c.author_email), (CommenterKind.IP, c.ip_hash))
             if (s := statuses.get(key)) is not None]
    return max(found, key=lambda s: commenters.STRENGTH.get(s.level, 0)) if found else None


def counts(actor: User, now: datetime, goals: Targets) -> dict[str, int]:
    """How many comments each working view holds (for the tabs)."""
    result = {view: view_count(view) for view in ("pending", "needs_answer", "escalated", "flagged")}
    result["breaching"] = db.session.scalar(
        select(func.count()).select_from(Comment).join(Post, Post.id == Comment.post_id).where(goals.breaching(now)))
    result["mine"] = db.session.scalar(select(func.count()).select_from(Comment).where(
        Comment.assigned_to_id == actor.id, Comment.status.in_((S.PENDING, S.APPROVED)),
        or_(Comment.response_status.is_(None), Comment.response_status != R.ANSWERED)))
    return result


def view_count(view: str) -> int:
    """How many comments a view holds, from the indexes alone."""
    if view == "pending":  # two index counts: SQLite's plan for the OR would collect and deduplicate row ids
        return db.session.scalar(select(
            select(func.count()).select_from(Comment).where(Comment.status == S.PENDING).scalar_subquery()
            + select(func.count()).select_from(Comment).where(Comment.pending_since.is_not(None)).scalar_subquery()))
    return db.session.scalar(select(func.count()).select_from(Comment).where(view_condition(view)))


def in_view(comment_id: int, view: str) -> bool:
    """Whether a comment still belongs to a view (after a decision made in place)."""
    return db.session.scalar(select(Comment.id).where(Comment.id == comment_id, view_condition(view))) is not None


def waiting_per_post(post_ids: set[int]) -> dict[int, int]:
    """Readers still waiting for an answer, per post (for the grouped view)."""
    if not post_ids:
        return {}
    rows = db.session.execute(
        select(Comment.post_id, func.count()).where(Comment.post_id.in_(post_ids), view_condition("needs_answer"))
        .group_by(Comment.post_id))
    return dict(rows.all())


def waiting_per_thread(root_ids: set[int]) -> dict[int, int]:
    """Readers still waiting for an answer, per thread (one query for the threads on a page)."""
    if not root_ids:
        return {}
    rows = db.session.execute(
        select(Comment.root_id, func.count()).where(Comment.root_id.in_(root_ids), view_condition("needs_answer"))
        .group_by(Comment.root_id))
    return dict(rows.all())


def escape_like(text: str) -> str:
    """Text searched with LIKE … ESCAPE '\\': its own %, _ and backslashes match only themselves."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# --- what colleagues did meanwhile (the open queue's live updates) ------------------------------

# Audit-trail actions that change what a queue item shows.
LIVE_ACTIONS = ("submit", "approve", "reject", "spam", "delete", "restore", "reply", "undo", "claim", "release",
                "assign", "escalate", "response_status", "hide", "unhide", "edit_submitted", "edit_accepted",
                "edit_rejected", "dismiss_reports", "import")


def last_event_id() -> int:
    """The audit trail's newest id: where an open queue starts asking from."""
    return db.session.scalar(select(func.max(ModerationEvent.id))) or 0


def changes_since(since: int, *, limit: int, now: datetime, claim_minutes: int) -> tuple[list[dict], int | None]:
    """The newest change per comment after audit-trail id `since` (one query), with the comment's
    state now: its status, who holds a live claim, its answer status. Also the last event id read
    when `limit` cut the list short (the next question starts there), else None."""
    stale = now - timedelta(minutes=claim_minutes)
    actor, holder = User.__table__.alias("actor"), User.__table__.alias("holder")
    rows = db.session.execute(
        select(ModerationEvent.id, ModerationEvent.comment_id, ModerationEvent.action, ModerationEvent.actor_id,
               actor.c.display_name, Comment.status, Comment.response_status, Comment.pending_since,
               holder.c.display_name, Comment.claimed_at)
        .join(Comment, Comment.id == ModerationEvent.comment_id)
        .outerjoin(actor, actor.c.id == ModerationEvent.actor_id)
        .outerjoin(holder, holder.c.id == Comment.claimed_by_id)
        .where(ModerationEvent.id > since, ModerationEvent.action.in_(LIVE_ACTIONS))
        .order_by(ModerationEvent.id).limit(limit)
    ).all()
    latest: dict[int, dict] = {}
    for event_id, comment_id, action, actor_id, actor_name, status, response, pending_since, holder_name, \
            claimed_at in rows:
        latest[comment_id] = {
            "event": event_id, "comment": comment_id, "action": action, "actor_id": actor_id, "actor": actor_name,
            "status": status, "response_status": response, "edit_waiting": pending_since is not None,
            "claimed_by": holder_name if claimed_at is not None and claimed_at >= stale else None,
        }
    read_up_to = rows[-1][0] if len(rows) == limit else None
    return sorted(latest.values(), key=lambda change: change["event"]), read_up_to
