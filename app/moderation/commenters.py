"""Statuses the team gives one commenter from the queue: pre-moderate everything, or ban (spam), by
address and/or by client (the keyed IP hash), with a reason and an optional end.

One row per address or client (`uq_commenter_statuses_kind_value`): setting again replaces level,
reason and end. Lifting removes the row. Every change writes an `AdminEvent` (before → after);
the caller commits. An expired status no longer applies (`active_for`) but stays listed, marked
expired, until someone lifts it or sets it again. The policy reads the statuses through the
comment service (`Submission.banned`, `Submission.premoderated`).
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import AdminEvent, Comment, CommenterKind, CommenterLevel, CommenterStatus, User, utcnow

MAX_DAYS = 3650  # ten years; "until lifted" is an empty field
MAX_REASON = 500
# The stronger level wins when an address and a client both have one.
STRENGTH = {CommenterLevel.BANNED: 2, CommenterLevel.PREMODERATE: 1}


class CommenterError(ValueError):
    """A status that cannot be saved; `message` is for the moderator, `field` the form field it belongs to."""

    def __init__(self, message, field: str | None = None):
        super().__init__(str(message))
        self.message, self.field = message, field


@dataclass(frozen=True)
class Active:
    """What applies to one commenter now: the strongest level and the statuses behind it."""

    level: str | None = None
    statuses: tuple[CommenterStatus, ...] = ()

    @property
    def banned(self) -> bool:
        return self.level == CommenterLevel.BANNED

    @property
    def premoderated(self) -> bool:
        return self.level == CommenterLevel.PREMODERATE


def is_active(status: CommenterStatus, now: datetime) -> bool:
    return status.expires_at is None or status.expires_at > now


def expiry(days: str | int | None, now: datetime) -> datetime | None:
    """The end of a status `days` from now (typed into the form); empty: until lifted."""
    text = str(days if days is not None else "").strip()
    if not text:
        return None
    try:
        number = int(text)
    except ValueError:
        raise CommenterError(_l("Please enter the number of days as a whole number, or leave it empty."),
                             field="expires_days") from None
    if not 1 <= number <= MAX_DAYS:
        raise CommenterError(_l("Please enter a number of days from %(low)s to %(high)s, or leave it empty.",
                                low=1, high=MAX_DAYS), field="expires_days")
    return now + timedelta(days=number)


def set_status(kind: str, value: str | None, level: str, reason: str, expires_at: datetime | None,
               actor: User | None, *, now: datetime | None = None, note: str = "") -> CommenterStatus:
    """Give the address or client `value` the status `level` (replacing one it had), audited."""
    now = now or utcnow()
    kind, level, value, reason = _checked(kind, level, value, reason, expires_at, now)
    row = db.session.scalar(select(CommenterStatus).where(CommenterStatus.kind == kind,
                                                          CommenterStatus.value == value))
    before = _values(row)
    if row is None:
        row = CommenterStatus(kind=kind, value=value)
        try:
            with db.session.begin_nested():  # a colleague saving the same commenter at the same moment
                _fill(row, level, reason, expires_at, actor, now)
                db.session.add(row)
        except IntegrityError:
            row = db.session.scalars(select(CommenterStatus).where(CommenterStatus.kind == kind,
                                                                   CommenterStatus.value == value)).one()
            before = _values(row)
            _fill(row, level, reason, expires_at, actor, now)
    else:
        _fill(row, level, reason, expires_at, actor, now)
    db.session.add(AdminEvent(actor_id=getattr(actor, "id", None), action="commenter.status",
                              subject=subject(kind, value), before=before, after=_values(row), note=note))
    db.session.flush()
    return row


def set_statuses(targets: list[tuple[str, str | None]], level: str, reason: str, expires_at: datetime | None,
                 actor: User | None, *, now: datetime | None = None, note: str = "") -> list[CommenterStatus]:
    """Several at once (address and client): all are checked before any is saved."""
    now = now or utcnow()
    for kind, value in targets:
        _checked(kind, level, value, reason, expires_at, now)
    return [set_status(kind, value, level, reason, expires_at, actor, now=now, note=note) for kind, value in targets]


def check(targets: list[tuple[str, str | None]], level: str, reason: str) -> None:
    """CommenterError for the first target that cannot get this status (nothing is saved)."""
    for kind, value in targets:
        _checked(kind, level, value, reason, None, utcnow())


def lift(status: CommenterStatus, actor: User | None, note: str = "") -> None:
    """End a status now (active or expired): the row goes, the audit trail keeps what it was."""
    db.session.add(AdminEvent(actor_id=getattr(actor, "id", None), action="commenter.lift",
                              subject=subject(status.kind, status.value), before=_values(status), after=None,
                              note=note))
    db.session.delete(status)
    db.session.flush()


def active_for(email: str | None, ip_hash: str | None, now: datetime) -> Active:
    """What applies to a commenter with this address and client now (one query on the unique index)."""
    found = active_for_many({email} if email else set(), {ip_hash} if ip_hash else set(), now)
    statuses = tuple(s for key in ((CommenterKind.EMAIL, (email or "").lower()), (CommenterKind.IP, ip_hash))
                     if (s := found.get(key)) is not None)
    return Active(strongest(statuses), statuses)


def active_for_many(emails: set[str], ip_hashes: set[str], now: datetime) -> dict[tuple[str, str], CommenterStatus]:
    """The statuses in force for a set of addresses and clients, by (kind, value): one query for a page."""
    emails = {e.strip().lower() for e in emails if e}
    ip_hashes = {h for h in ip_hashes if h}
    conditions = []
    if emails:
        conditions.append(and_(CommenterStatus.kind == CommenterKind.EMAIL, CommenterStatus.value.in_(emails)))
    if ip_hashes:
        conditions.append(and_(CommenterStatus.kind == CommenterKind.IP, CommenterStatus.value.in_(ip_hashes)))
    if not conditions:
        return {}
    rows = db.session.scalars(select(CommenterStatus).where(
        or_(*conditions), or_(CommenterStatus.expires_at.is_(None), CommenterStatus.expires_at > now)))
    return {(row.kind, row.value): row for row in rows}


def for_commenter(email: str | None, ip_hash: str | None) -> list[CommenterStatus]:
    """Every status of this address and client, expired ones too (a comment's page shows them)."""
    conditions = []
    if email:
        conditions.append(and_(CommenterStatus.kind == CommenterKind.EMAIL, CommenterStatus.value == email.lower()))
    if ip_hash:
        conditions.append(and_(CommenterStatus.kind == CommenterKind.IP, CommenterStatus.value == ip_hash))
    if not conditions:
        return []
    return list(db.session.scalars(select(CommenterStatus).options(joinedload(CommenterStatus.created_by))
                                   .where(or_(*conditions)).order_by(CommenterStatus.kind)))


def strongest(statuses) -> str | None:
    levels = [s.level for s in statuses if s.level in STRENGTH]
    return max(levels, key=STRENGTH.__getitem__) if levels else None


def list_statuses(now: datetime, *, page: int = 1, per_page: int = 50):
    """Every status, those in force first (newest first), then the expired ones: a page of them with
    who set them (one query and its count)."""
    expired = and_(CommenterStatus.expires_at.is_not(None), CommenterStatus.expires_at <= now)
    stmt = (select(CommenterStatus).options(joinedload(CommenterStatus.created_by))
            .order_by(expired, CommenterStatus.created_at.desc(), CommenterStatus.id.desc()))
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


def counts(now: datetime) -> dict[str, int]:
    """How many statuses are in force and how many have expired (for the list's heading)."""
    expired = and_(CommenterStatus.expires_at.is_not(None), CommenterStatus.expires_at <= now)
    rows = db.session.execute(select(expired.label("expired"), func.count()).group_by(expired)).all()
    result = {"active": 0, "expired": 0}
    for is_expired, n in rows:
        result["expired" if is_expired else "active"] += n
    return result


def latest_comments(statuses) -> dict[int, int]:
    """The newest comment of each status's address or client, by status id (a link to it stands in
    for the IP hash, which is never shown): one query per kind, on the comments' indexes."""
    result: dict[int, int] = {}
    for kind, column in ((CommenterKind.EMAIL, Comment.author_email), (CommenterKind.IP, Comment.ip_hash)):
        wanted = {s.value: s.id for s in statuses if s.kind == kind}
        if wanted:
            rows = db.session.execute(select(column, func.max(Comment.id)).where(column.in_(wanted))
                                      .group_by(column))
            result.update({wanted[value]: comment_id for value, comment_id in rows})
    return result


def subject(kind: str, value: str) -> str:
    """The audit subject; an address is shown to the team anyway, the IP hash only in the database."""
    return f"{kind}:{value}"[:200]


def _checked(kind, level, value, reason, expires_at, now):
    if kind not in set(CommenterKind):
        raise CommenterError(_l("Unknown kind of commenter status."), field="scope")
    if level not in set(CommenterLevel):
        raise CommenterError(_l("Unknown level."), field="level")
    value = (value or "").strip()
    if kind == CommenterKind.EMAIL:
        value = value.lower()
    if not value:
        raise CommenterError(_l("This comment has no address to set a status for.") if kind == CommenterKind.EMAIL
                             else _l("This comment has no client (IP hash) to set a status for: it was imported, "
                                     "or its IP hash has been cleared. Choose “by address”."), field="scope")
    if len(value) > 254:
        raise CommenterError(_l("This address is too long."), field="scope")
    if kind == CommenterKind.EMAIL and db.session.scalar(
            select(User.id).where(func.lower(User.email) == value).limit(1)) is not None:
        raise CommenterError(_l("This address belongs to a team member."), field="scope")
    reason = " ".join((reason or "").split())
    if not reason:
        raise CommenterError(_l("Please give a reason (colleagues will see it)."), field="reason")
    if len(reason) > MAX_REASON:
        raise CommenterError(_l("The reason may have at most %(n)s characters.", n=MAX_REASON), field="reason")
    if expires_at is not None and expires_at <= now:
        raise CommenterError(_l("The end must be in the future."), field="expires_days")
    return kind, level, value, reason


def _fill(row: CommenterStatus, level, reason, expires_at, actor, now) -> None:
    row.level, row.reason, row.expires_at = level, reason, expires_at
    row.created_by_id, row.created_at = getattr(actor, "id", None), now


def _values(row: CommenterStatus | None) -> dict | None:
    """A status as audited (JSON): level, reason, end."""
    if row is None:
        return None
    return {"level": row.level, "reason": row.reason,
            "expires_at": row.expires_at.isoformat() if row.expires_at else None}
