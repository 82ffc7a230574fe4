"""The one state machine for comments: the only code that writes a comment's moderation status,
response status or visibility (a test scans the code base for any other writer).

Every change is a conditional UPDATE on the state the actor saw (`… WHERE status = <seen>`), so
two moderators acting at once can never both succeed: the second learns who was first. Every
change writes a `ModerationEvent`. Bookkeeping lives in one place (`_decide`): `moderated_at`
only for a staff decision, the first approval's time, claims cleared, reports resolved when the
team decides. What must follow a change (the search index, mails) is written to the outbox in
the same transaction and applied after the commit (`app/outbox.py`). Functions commit their
unit of work themselves (`commit=False` lets `bulk` and `reply` make one transaction of many);
they take the acting user as an argument and never read the request.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete as sql_delete, func, select, update
from sqlalchemy.exc import IntegrityError

from app import markup, outbox
from app.comments import notifications
from app.extensions import db
from app.models import (
    Comment,
    CommentRevision,
    CommentStatus,
    ModerationEvent,
    OutboxMail,
    Report,
    ResponseStatus,
    StaffNote,
    Subscription,
    Topic,
    User,
    utcnow,
)
from app.moderation import staff_notices
from app.webhooks import service as webhooks

S, R = CommentStatus, ResponseStatus

# action → (statuses it may start from, status it leads to)
TRANSITIONS = {
    "approve": ({S.PENDING, S.SPAM, S.REJECTED}, S.APPROVED),
    "reject": ({S.PENDING, S.APPROVED, S.SPAM}, S.REJECTED),
    "spam": ({S.PENDING, S.APPROVED, S.REJECTED}, S.SPAM),
    "delete": ({S.PENDING, S.APPROVED, S.SPAM, S.REJECTED}, S.DELETED),
    "restore": ({S.DELETED, S.SPAM, S.REJECTED}, S.PENDING),
    # Not for moderators' forms: reports hide a comment until the team looks, dismissing shows it again.
    "hide": ({S.APPROVED}, S.PENDING),
    "unhide": ({S.PENDING}, S.APPROVED),
}
ACTIONS = ("approve", "reject", "spam", "delete", "restore")  # what moderators choose from
UNDOABLE = ("approve", "reject", "spam", "delete")  # for UNDO_SECONDS after the decision
REMOVED = {S.REJECTED, S.SPAM, S.DELETED}

STATUS_LABELS = {S.PENDING: _l("pending"), S.APPROVED: _l("approved"), S.SPAM: _l("spam"),
                 S.REJECTED: _l("rejected"), S.DELETED: _l("deleted")}
PAST = {"approve": _l("approved"), "reject": _l("rejected"), "spam": _l("marked as spam"),
        "delete": _l("deleted"), "restore": _l("restored"), "reply": _l("answered"), "submit": _l("sent")}


class ModerationError(Exception):
    """The action does not fit the comment's current state; `message` says why, for the moderator."""

    def __init__(self, comment: Comment, action: str, message=None):
        self.comment, self.action, self.status = comment, action, comment.status
        self.message = message if message is not None else _l(
            "This is not possible for a comment that is %(status)s.", status=STATUS_LABELS.get(comment.status, ""))
        super().__init__(f"cannot {action} comment {comment.id}: it is {comment.status}")


class AlreadyHandled(ModerationError):
    """Someone else acted on the comment since the moderator looked at it."""


def record(comment: Comment, action: str, *, actor: User | None, from_status: str | None = None,
           to_status: str | None = None, reason: str = "") -> ModerationEvent:
    """Add an audit-trail entry (the caller commits)."""
    event = ModerationEvent(comment_id=comment.id, actor_id=actor.id if actor else None, action=action,
                            from_status=from_status, to_status=to_status, reason=reason or "")
    db.session.add(event)
    return event


def last_event(comment: Comment, actions: tuple[str, ...] | None = None) -> ModerationEvent | None:
    stmt = select(ModerationEvent).where(ModerationEvent.comment_id == comment.id)
    if actions:
        stmt = stmt.where(ModerationEvent.action.in_(actions))
    return db.session.scalar(stmt.order_by(ModerationEvent.id.desc()).limit(1))


def text_version(comment: Comment) -> str:
    """Which text of a comment a moderator saw: it changes with every edit (forms send it back)."""
    return comment.edited_at.isoformat() if comment.edited_at else ""


def _already(comment: Comment, action: str) -> AlreadyHandled:
    """'Already approved by Anna' – built from the audit trail after a lost race."""
    db.session.refresh(comment)
    event = last_event(comment)
    who = db.session.get(User, event.actor_id).display_name if event and event.actor_id else None
    what = PAST.get(event.action if event else "", STATUS_LABELS.get(comment.status, ""))
    if who:
        message = _l("Someone was quicker: this comment was already %(what)s by %(who)s.", what=what, who=who)
    else:
        message = _l("Someone was quicker: this comment is already %(status)s.",
                     status=STATUS_LABELS.get(comment.status, ""))
    return AlreadyHandled(comment, action, message)


def _changed_text(comment: Comment, action: str) -> AlreadyHandled:
    return AlreadyHandled(comment, action, _l("The text was changed since you read it. Please read it again."))


def _update(comment: Comment, *conditions, **values) -> bool:
    """The conditional UPDATE every change is made of; True if the comment was still as expected."""
    changed = db.session.execute(
        update(Comment).where(Comment.id == comment.id, *conditions).values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed:
        db.session.refresh(comment)
    return bool(changed)


def _finish(commit: bool) -> None:
    if commit:
        db.session.commit()
        outbox.settle()


# --- decisions on a comment's status ---------------------------------------------------------------

def transition(comment: Comment, action: str, *, actor: User | None = None, reason: str = "",
               expected: str | None = None, seen_version: str | None = None, commit: bool = True,
               undoable: bool = False) -> Comment:
    """Apply `action` if the comment is still in a state it fits (and in `expected`, when given), and
    still says what the moderator read (`seen_version`, when given: see `text_version`).
    `undoable`: the moderator is offered an undo, so the mails it causes wait out the window."""
    if action not in TRANSITIONS:
        raise ValueError(f"unknown action {action!r}")
    if expected and expected != comment.status:
        raise _already(comment, action)
    if seen_version is not None and seen_version != text_version(comment):
        raise _changed_text(comment, action)
    _decide(comment, action, actor=actor, reason=reason, hold_mails=undoable and action in UNDOABLE)
    _finish(commit)
    return comment


def _decide(comment: Comment, action: str, *, actor: User | None, reason: str = "",
            undoing: ModerationEvent | None = None, hold_mails: bool = False) -> None:
    """The one place a status changes, with all its bookkeeping (the caller commits). `undoing`:
    the decision this one takes back (action "undo"): back to the status before it, and the
    bookkeeping that decision began (first approval, first decision, its mails) is taken back too."""
    if undoing is not None:
        allowed_from, to_status = {undoing.to_status}, undoing.from_status
    else:
        allowed_from, to_status = TRANSITIONS[action]
    if comment.status not in allowed_from:
        raise ModerationError(comment, action)
    from_status = comment.status
    if action == "restore":
        to_status = _status_before_removal(comment)
    now, staff = utcnow(), actor is not None
    first_approval = to_status == S.APPROVED and comment.approved_at is None
    values = {"status": to_status}
    if undoing is not None:
        began = undoing.at - timedelta(seconds=1)  # the undone decision set these in the same moment
        if comment.approved_at is not None and comment.approved_at >= began:
            values["approved_at"] = None
        if comment.moderated_at is not None and comment.moderated_at >= began:
            values["moderated_at"] = None
    elif staff:  # the team's first decision: an author deleting their own or a report hiding is none
        values["moderated_at"] = func.coalesce(Comment.moderated_at, now)
    if first_approval:
        values["approved_at"] = now
    if to_status != S.PENDING:
        values.update(claimed_by_id=None, claimed_at=None)
    dropped_edit = comment.pending_body_md if to_status != S.APPROVED and comment.pending_since else None
    if dropped_edit is not None:  # an edit waits only beside a published comment; its words are kept
        values.update(pending_body_md=None, pending_body_html=None, pending_since=None)
    unchanged_text = Comment.edited_at.is_(None) if comment.edited_at is None \
        else Comment.edited_at == comment.edited_at
    if not _update(comment, Comment.status == from_status, unchanged_text, **values):
        raise _already(comment, action)
    if dropped_edit is not None:
        db.session.add(CommentRevision(comment_id=comment.id, body_md=dropped_edit, kind="rejected", actor=actor,
                                       created_at=now))
    if comment.flag_count and (staff or to_status in REMOVED):  # decided or gone: its reports are dealt with
        _resolve_reports(comment, now)
    record(comment, action, actor=actor, from_status=from_status, to_status=to_status, reason=reason)
    outbox.index(comments=[comment.id], urgent=S.APPROVED in (from_status, to_status))
    if undoing is not None:
        _withdraw_mails(comment, since=undoing.at - timedelta(seconds=1))
    if first_approval:
        mails = notifications.comment_published(comment)
        if hold_mails and undo_seconds():  # the mails wait out the undo window, so an undo can take them back
            for queued in mails:
                queued.not_before = now + timedelta(seconds=undo_seconds()) + UNDO_GRACE


def approve(comment: Comment, *, actor: User | None = None, reason: str = "", expected: str | None = None):
    return transition(comment, "approve", actor=actor, reason=reason, expected=expected)


def delete(comment: Comment, *, actor: User | None = None, reason: str = "", expected: str | None = None):
    return transition(comment, "delete", actor=actor, reason=reason, expected=expected)


@dataclass
class BulkResult:
    done: list[int]
    skipped: list[tuple[int, str]]


def bulk(comments: list[tuple[Comment, str | None, str | None]], action: str, *, actor: User,
         reason: str = "") -> BulkResult:
    """The same action on many (comment, status and text version the moderator saw), in one
    transaction with one index write; a conflict skips only itself."""
    result = BulkResult([], [])
    for comment, expected, seen_version in comments:
        try:
            # Undoable like a single decision (one comment at a time), so its mails wait out the window too.
            transition(comment, action, actor=actor, reason=reason, expected=expected, seen_version=seen_version,
                       commit=False, undoable=True)
            result.done.append(comment.id)
        except ModerationError as exc:  # its conditional UPDATE changed nothing: the others go on
            result.skipped.append((comment.id, str(exc.message)))
    _finish(True)
    return result


def undo_seconds() -> int:
    return int(current_app.config.get("UNDO_SECONDS", 10))


# The network's slack on top of the window the moderator is shown: a click at 9.9 s still counts.
UNDO_GRACE = timedelta(seconds=2)


def undo(comment: Comment, actor: User, event_id: int, *, now: datetime | None = None) -> ModerationEvent:
    """Take back one's own decision (approve, reject, spam, delete) within the undo window: an
    ordinary audited transition back to the status before it, conditional like every other. Not
    after the window, not someone else's decision, not when anything happened to the comment since."""
    now = now or utcnow()
    if not undo_seconds():
        raise ModerationError(comment, "undo", _l("Undo is turned off on this site (UNDO_SECONDS = 0)."))
    event = db.session.get(ModerationEvent, event_id)
    if event is None or event.comment_id != comment.id or event.action not in UNDOABLE \
            or event.actor_id != actor.id:
        raise ModerationError(comment, "undo", _l("There is nothing of yours to undo on this comment."))
    if event.at + timedelta(seconds=undo_seconds()) + UNDO_GRACE < now:
        raise ModerationError(comment, "undo", _l(
            "Too late to undo: a decision can be taken back for %(n)s seconds. Use the actions instead.",
            n=undo_seconds()))
    later = db.session.scalar(select(ModerationEvent.id).where(
        ModerationEvent.comment_id == comment.id, ModerationEvent.id > event.id,
        ModerationEvent.action.not_in(("claim", "release", "note"))).limit(1))
    if later is not None or comment.status != event.to_status:
        raise _already(comment, "undo")
    _decide(comment, "undo", actor=actor, reason=f"undo of {event.action}", undoing=event)
    _finish(True)
    return event


def _withdraw_mails(comment: Comment, since: datetime) -> None:
    """An undone approval takes back the notices it queued (they wait out the window, unsent), and
    the author's subscription is as if nothing had been sent."""
    held = [m for m in db.session.scalars(select(OutboxMail).where(
        OutboxMail.comment_id == comment.id, OutboxMail.sent_at.is_(None), OutboxMail.sending_since.is_(None),
        OutboxMail.not_before.is_not(None), OutboxMail.created_at >= since))]
    if not held:
        return
    own = db.session.scalar(select(Subscription).where(Subscription.comment_id == comment.id))
    if own is not None and own.confirmation_sent_at and own.confirmation_sent_at >= since \
            and any(m.to == own.email for m in held):
        own.confirmation_sent_at = None
        if own.confirmed_at and own.confirmed_at >= since:
            own.confirmed_at = None
    db.session.execute(sql_delete(OutboxMail).where(OutboxMail.id.in_([m.id for m in held]))
                       .execution_options(synchronize_session=False))


def admit(comment: Comment, *, status: str, reason: str, actor: User | None,
          response_status: str | None) -> Comment:
    """A new comment enters with the status the policy (or the team) decided (the caller commits)."""
    comment.created_at = comment.created_at or utcnow()
    comment.status, comment.status_reason, comment.response_status = status, reason, response_status
    if status == S.APPROVED:
        comment.approved_at = comment.created_at
        if actor is not None:
            comment.moderated_at = comment.created_at
    db.session.add(comment)
    db.session.flush()
    record(comment, "submit", actor=actor, from_status=None, to_status=status, reason=reason)
    outbox.index(comments=[comment.id], urgent=status == S.APPROVED)  # pending: only the staff index, soon
    return comment


@dataclass(frozen=True)
class ImportedState:
    """The state a comment had on the blog it comes from (WordPress, Disqus), in our terms."""

    status: str
    response_status: str | None  # None for the team's comments
    answered_at: datetime | None = None  # the team's first answer there


def admit_imported(rows: list[dict], states: list[ImportedState], *, origin: str) -> list[int]:
    """Comments moved in from another blog enter with the status they had there, in bulk (an
    export holds tens of thousands): one INSERT for the comments, one for their "import" events,
    one index task; no mail goes out (the readers were told at the time). The caller commits."""
    now = utcnow()
    values = [{**row, "status": state.status, "status_reason": "import", "response_status": state.response_status,
               "answered_at": state.answered_at,
               "approved_at": row["created_at"] if state.status == S.APPROVED else None}
              for row, state in zip(rows, states, strict=True)]
    if not values:
        return []
    table = Comment.__table__  # Core statements: the ORM's bulk path costs more than the rows
    ids = list(db.session.scalars(table.insert().returning(table.c.id, sort_by_parameter_order=True), values))
    db.session.execute(ModerationEvent.__table__.insert(), [
        {"comment_id": comment_id, "actor_id": None, "action": "import", "from_status": None,
         "to_status": value["status"], "reason": f"imported from {origin}"[:500], "at": now}
        for comment_id, value in zip(ids, values, strict=True)])
    outbox.index(comments=ids, urgent=False)  # the import applies the index once, at its end
    return ids


def reply(question: Comment, actor: User, body: str, *, team_name: str, as_team: bool = True,
          expect_unanswered: bool = True, internal_hosts: tuple[str, ...] = (),
          seen_version: str | None = None) -> Comment:
    """Publish the team's official answer; a pending question is approved in the same transaction."""
    body_html = _rendered(question, "reply", body, internal_hosts)
    if question.status not in (S.PENDING, S.APPROVED):
        raise ModerationError(question, "reply", _l("Removed or rejected comments cannot be answered."))
    if seen_version is not None and seen_version != text_version(question):
        raise _changed_text(question, "reply")
    if expect_unanswered and question.answered_at is not None:
        raise _answered_already(question)
    try:
        if question.status == S.PENDING:
            _decide(question, "approve", actor=actor, reason="approved with an official answer")
        # Only a question that is still approved gets an answer (someone may have rejected it
        # meanwhile), and only once unless the moderator knowingly adds a follow-up.
        still_there = [Comment.status == S.APPROVED] + ([Comment.answered_at.is_(None)] if expect_unanswered else [])
        now = utcnow()
        if not _update(question, *still_there, answered_at=func.coalesce(Comment.answered_at, now),
                       response_status=R.ANSWERED, claimed_by_id=None, claimed_at=None):
            db.session.rollback()
            db.session.refresh(question)
            raise _already(question, "reply") if question.status != S.APPROVED else _answered_already(question)
    except ModerationError:
        db.session.rollback()
        raise
    answer = Comment(
        post_id=question.post_id, parent_id=question.id, root_id=question.root_id, depth=question.depth + 1,
        author_name=team_name if as_team else actor.display_name, author_email=(actor.email or "").lower(),
        user_id=actor.id, lang=question.lang, body_md=body, body_html=body_html, is_official=True, created_at=now,
    )
    admit(answer, status=S.APPROVED, reason="staff", actor=actor, response_status=None)
    record(question, "reply", actor=actor, reason=f"answered in comment {answer.id}")
    outbox.index(comments=[question.id])
    notifications.comment_published(answer)
    _finish(True)
    return answer


def _answered_already(question: Comment) -> AlreadyHandled:
    db.session.refresh(question)
    event = last_event(question, ("reply",))
    who = db.session.get(User, event.actor_id).display_name if event and event.actor_id else None
    message = (_l("Someone was quicker: %(who)s has already answered this comment.", who=who) if who
               else _l("This comment has already been answered."))
    return AlreadyHandled(question, "reply", message)


# --- texts: the author's edits, the team's edits -----------------------------------------------------

def author_edit(comment: Comment, body: str, body_html: str, *, hold: bool, reason: str = "") -> Comment:
    """The author changes their comment. `hold` (a published comment's edit the team must see
    first): the new text waits beside the published one. Otherwise it replaces it. Either way the
    replaced words are kept and the edit is in the audit trail."""
    now = utcnow()
    if hold:
        if not _update(comment, Comment.status == S.APPROVED, pending_body_md=body, pending_body_html=body_html,
                       pending_since=now):
            raise _already(comment, "edit")
        record(comment, "edit_submitted", actor=None, from_status=comment.status, to_status=comment.status,
               reason=reason)
        outbox.index(comments=[comment.id], urgent=False)
    else:
        db.session.add(CommentRevision(comment_id=comment.id, body_md=comment.body_md, created_at=now))
        if not _update(comment, Comment.status == comment.status, body_md=body, body_html=body_html, edited_at=now,
                       pending_body_md=None, pending_body_html=None, pending_since=None):
            raise _already(comment, "edit")
        record(comment, "edit", actor=None, from_status=comment.status, to_status=comment.status,
               reason=reason or "by its author")
        outbox.index(comments=[comment.id], urgent=comment.status == S.APPROVED)
    _finish(True)
    return comment


def decide_edit(comment: Comment, actor: User, *, accept: bool, seen: str, reason: str = "") -> Comment:
    """Publish or discard a reader's edit of a published comment that waited for review.

    `seen` is the edit's `pending_since` (ISO time) as the moderator saw it: an edit the reader
    changed again meanwhile, or a colleague decided first, is not decided blind."""
    db.session.refresh(comment)
    waiting_since = comment.pending_since
    if comment.pending_body_md is None or waiting_since is None:
        raise _already(comment, "edit")
    if waiting_since.isoformat() != seen:
        raise AlreadyHandled(comment, "edit", _l("The reader changed the edit meanwhile. Please look at it again."))
    now = utcnow()
    kept = comment.body_md if accept else comment.pending_body_md  # the words that leave the page (or never came)
    new_text = {"body_md": comment.pending_body_md, "body_html": comment.pending_body_html, "edited_at": now} \
        if accept else {}
    if not _update(comment, Comment.pending_since == waiting_since, pending_body_md=None, pending_body_html=None,
                   pending_since=None, **new_text):
        db.session.rollback()
        raise _already(comment, "edit")
    db.session.add(CommentRevision(comment_id=comment.id, body_md=kept, kind="replaced" if accept else "rejected",
                                   actor=None if accept else actor, created_at=now))
    record(comment, "edit_accepted" if accept else "edit_rejected", actor=actor, from_status=comment.status,
           to_status=comment.status, reason=reason)
    outbox.index(comments=[comment.id], urgent=accept)
    _finish(True)
    return comment


def rewrite_pending_edit(comment: Comment, body: str | None, internal_hosts: tuple[str, ...] = ()) -> None:
    """A privacy erasure rewrites an edit waiting for review (`None`: it goes). The caller records
    and commits."""
    if body is None:
        comment.pending_body_md = comment.pending_body_html = comment.pending_since = None
    else:
        comment.pending_body_md, comment.pending_body_html = body, markup.render_comment(body, internal_hosts)


def edit(comment: Comment, actor: User, body: str, *, reason: str = "", internal_hosts: tuple[str, ...] = ()):
    """The team changes a comment's text (e.g. removes a customer number); the original words are kept."""
    body_html = _rendered(comment, "edit", body, internal_hosts)
    db.session.add(CommentRevision(comment_id=comment.id, body_md=comment.body_md, actor_id=actor.id))
    if comment.original_body_md is None:
        comment.original_body_md = comment.body_md
    comment.body_md, comment.body_html, comment.edited_at = body, body_html, utcnow()
    record(comment, "edit", actor=actor, from_status=comment.status, to_status=comment.status, reason=reason)
    outbox.index(comments=[comment.id], urgent=comment.status == S.APPROVED)
    _finish(True)
    return comment


def _rendered(comment: Comment, action: str, body: str, internal_hosts: tuple[str, ...]) -> str:
    """The answer's or edit's HTML; a text that cannot be rendered is refused with the reason."""
    try:
        return markup.render_comment(body, internal_hosts)
    except markup.RenderError as exc:
        raise ModerationError(comment, action, exc.message) from None


# --- the team's work around a comment: answer status, topic, claims, assignment, notes ---------------

def set_response_status(comment: Comment, actor: User, status: str, *, expected: str | None = None) -> Comment:
    """Whether a reader still waits for the team; conditional on the answer status the moderator saw."""
    if status not in set(R):
        raise ValueError(f"unknown response status {status!r}")
    previous = comment.response_status
    seen = _seen_response(comment, expected)
    values = {"response_status": status} | ({} if status == R.ESCALATED else {"escalated_to": None})
    if not _update(comment, seen, **values):
        raise _already(comment, "response_status")
    record(comment, "response_status", actor=actor, reason=f"{previous or '-'} → {status}")
    outbox.index(comments=[comment.id], urgent=False)
    _finish(True)
    return comment


def escalate(comment: Comment, actor: User, to: str, note: str, *, expected: str | None = None) -> Comment:
    """Hand a comment to a colleague or team (product, tech …) with a note; it leaves the answer queue.
    An answer given meanwhile is not overwritten: conditional on the answer status the moderator saw."""
    if not _update(comment, _seen_response(comment, expected), response_status=R.ESCALATED, escalated_to=to):
        raise _already(comment, "escalate")
    db.session.add(StaffNote(comment_id=comment.id, author_id=actor.id, body=note, kind="escalation"))
    record(comment, "escalate", actor=actor, reason=f"{to}: {note}")
    staff_notices.escalated(comment, actor, to, note)  # the colleague named and the assignee, at once
    webhooks.emit("comment.escalated", comment, escalated_to=to, by=actor.display_name)
    _finish(True)
    return comment


def _seen_response(comment: Comment, expected: str | None):
    """The condition "the answer status is still what the moderator saw" ('' means none)."""
    seen = comment.response_status if expected is None else (expected or None)
    return Comment.response_status.is_(None) if seen is None else Comment.response_status == seen


def assign(comment: Comment, actor: User, assignee: User | None, *, expected: int | str | None = "current") -> Comment:
    """Give a comment to a colleague; conditional on the assignment the moderator saw."""
    seen = comment.assigned_to_id if expected == "current" else expected
    condition = Comment.assigned_to_id.is_(None) if seen is None else Comment.assigned_to_id == seen
    if not _update(comment, condition, assigned_to_id=assignee.id if assignee else None):
        raise AlreadyHandled(comment, "assign", _l("Someone changed the assignment meanwhile. Please look again."))
    record(comment, "assign", actor=actor, reason=assignee.display_name if assignee else "-")
    staff_notices.assigned(comment, actor, assignee)
    _finish(True)
    return comment


def set_topic(comment: Comment, actor: User, topic: str | None) -> Comment:
    if topic and topic not in set(Topic):
        raise ValueError(f"unknown topic {topic!r}")
    comment.topic = topic or None
    record(comment, "topic", actor=actor, reason=topic or "-")
    _finish(True)
    return comment


@dataclass
class Claim:
    ok: bool
    holder: User | None


def claim(comment: Comment, actor: User, *, minutes: int) -> Claim:
    """A soft lock while someone writes an answer; it lapses after `minutes` without renewal."""
    now = utcnow()
    stale = now - timedelta(minutes=minutes)
    renewing = comment.claimed_by_id == actor.id
    ok = _update(comment, (Comment.claimed_by_id.is_(None)) | (Comment.claimed_by_id == actor.id)
                 | (Comment.claimed_at < stale), claimed_by_id=actor.id, claimed_at=now)
    if ok and not renewing:
        record(comment, "claim", actor=actor)
    db.session.commit()
    db.session.refresh(comment)
    holder = db.session.get(User, comment.claimed_by_id) if comment.claimed_by_id else None
    return Claim(ok=ok, holder=holder)


def active_claim(comment: Comment, minutes: int, now: datetime | None = None) -> int | None:
    """The id of whoever holds a live claim, or None."""
    now = now or utcnow()
    if comment.claimed_by_id and comment.claimed_at and comment.claimed_at >= now - timedelta(minutes=minutes):
        return comment.claimed_by_id
    return None


def release(comment: Comment, actor: User) -> None:
    """Give up one's own claim."""
    if _update(comment, Comment.claimed_by_id == actor.id, claimed_by_id=None, claimed_at=None):
        record(comment, "release", actor=actor)
    db.session.commit()


def add_note(comment: Comment, actor: User, body: str) -> StaffNote:
    note = StaffNote(comment_id=comment.id, author_id=actor.id, body=body)
    db.session.add(note)
    record(comment, "note", actor=actor)
    staff_notices.mentioned(comment, actor, body)  # colleagues named as @username get the note
    _finish(True)  # commits, and wakes the drainer for those mails
    return note


# --- readers' reports ---------------------------------------------------------------------------------

def report(comment: Comment, *, reason: str, details: str, ip_hash: str | None, hide_after: int) -> Report | None:
    """A reader reports an approved comment. One open report per client counts (a unique index
    too, for two at once); after `hide_after` different clients, a reader's comment leaves the
    page until the team has looked (the team's own answers are never hidden this way). Returns
    None for a repeated report."""
    if ip_hash and db.session.scalar(select(Report.id).where(
            Report.comment_id == comment.id, Report.ip_hash == ip_hash, Report.resolved_at.is_(None)).limit(1)):
        return None
    entry = Report(comment_id=comment.id, reason=reason, details=details, ip_hash=ip_hash)
    db.session.add(entry)
    try:
        db.session.flush()
    except IntegrityError:  # the same client's report arrived a moment earlier
        db.session.rollback()
        return None
    _update(comment, flag_count=Comment.flag_count + 1)
    record(comment, "report", actor=None, reason=f"{reason}: {details}"[:500])
    reporters = db.session.scalar(select(func.count(func.distinct(Report.ip_hash)))
                                  .where(Report.comment_id == comment.id, Report.resolved_at.is_(None)))
    if hide_after and reporters >= hide_after and comment.user_id is None and not comment.is_official \
            and comment.status == S.APPROVED:
        _decide(comment, "hide", actor=None, reason=f"hidden after reports from {reporters} readers")
    webhooks.emit("comment.reported", comment, reason=reason, reports=reporters, hidden=comment.status == S.PENDING)
    _finish(True)
    return entry


def dismiss_reports(comment: Comment, actor: User) -> Comment:
    """The comment is fine: clear its reports (and show it again if they had hidden it)."""
    _resolve_reports(comment, utcnow())
    # Show it again only if the reports were what hid it (no other decision since).
    decision = last_event(comment, ("hide", "submit", "approve", "reject", "spam", "delete", "restore", "edit"))
    if decision is not None and decision.action == "hide" and comment.status == S.PENDING:
        _decide(comment, "unhide", actor=actor, reason="reports dismissed")
    record(comment, "dismiss_reports", actor=actor, from_status=None, to_status=comment.status)
    _finish(True)
    return comment


def _resolve_reports(comment: Comment, now: datetime) -> None:
    db.session.execute(
        update(Report).where(Report.comment_id == comment.id, Report.resolved_at.is_(None)).values(resolved_at=now)
        .execution_options(synchronize_session=False)
    )
    _update(comment, flag_count=0)


def _status_before_removal(comment: Comment) -> str:
    """Restoring gives back what the comment was before it was removed (approved stays approved)."""
    event = db.session.scalar(
        select(ModerationEvent).where(ModerationEvent.comment_id == comment.id,
                                      ModerationEvent.to_status == comment.status)
        .order_by(ModerationEvent.id.desc()).limit(1)
    )
    if event is not None and event.from_status in (S.APPROVED, S.PENDING):
        return event.from_status
    return S.PENDING
