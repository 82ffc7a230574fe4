"""The one state machine for comments as the team handles them; every change writes a ModerationEvent.

Status changes are conditional UPDATEs (`… WHERE status = <what the moderator saw>`), so two
moderators acting at once can never both succeed: the second learns who was first. Services
commit their unit of work themselves and send mail after the commit, so a failing mail server
can never undo a decision. They take the acting user as an argument and never read the request.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from app import mail, markup
from app.comments import notifications
from app.extensions import db
from app.search import index as search
from app.models import (
    Comment, CommentRevision, CommentStatus, ModerationEvent, Report, ResponseStatus, StaffNote, Topic, User, utcnow,
)

S = CommentStatus

# action → (statuses it may start from, status it leads to)
TRANSITIONS = {
    "approve": ({S.PENDING, S.SPAM, S.REJECTED}, S.APPROVED),
    "reject": ({S.PENDING, S.APPROVED, S.SPAM}, S.REJECTED),
    "spam": ({S.PENDING, S.APPROVED, S.REJECTED}, S.SPAM),
    "delete": ({S.PENDING, S.APPROVED, S.SPAM, S.REJECTED}, S.DELETED),
    "restore": ({S.DELETED, S.SPAM, S.REJECTED}, S.PENDING),
}
ACTIONS = tuple(TRANSITIONS)

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


def text_version(comment: Comment) -> str:
    """Which text of a comment a moderator saw: it changes with every edit (forms send it back)."""
    return comment.edited_at.isoformat() if comment.edited_at else ""


def _changed_text(comment: Comment, action: str) -> AlreadyHandled:
    return AlreadyHandled(comment, action, _l("The text was changed since you read it. Please read it again."))


def transition(comment: Comment, action: str, *, actor: User | None = None, reason: str = "",
               expected: str | None = None, seen_version: str | None = None) -> Comment:
    """Apply `action` if the comment is still in a state it fits (and in `expected`, when given), and
    still says what the moderator read (`seen_version`, when given: see `text_version`)."""
    if action not in TRANSITIONS:
        raise ValueError(f"unknown action {action!r}")
    allowed_from, to_status = TRANSITIONS[action]
    if expected and expected != comment.status:
        raise _already(comment, action)
    if seen_version is not None and seen_version != text_version(comment):
        raise _changed_text(comment, action)
    if comment.status not in allowed_from:
        raise ModerationError(comment, action)
    from_status = comment.status
    if action == "restore":
        to_status = _status_before_removal(comment)
    now = utcnow()
    first_approval = to_status == S.APPROVED and comment.approved_at is None
    values = {"status": to_status, "moderated_at": func.coalesce(Comment.moderated_at, now)}
    if first_approval:
        values["approved_at"] = now
    if to_status != S.PENDING:
        values.update(claimed_by_id=None, claimed_at=None)
    unchanged_text = Comment.edited_at.is_(None) if comment.edited_at is None else Comment.edited_at == comment.edited_at
    changed = db.session.execute(
        update(Comment).where(Comment.id == comment.id, Comment.status == from_status, unchanged_text).values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not changed:
        db.session.rollback()
        db.session.refresh(comment)
        if seen_version is not None and seen_version != text_version(comment):
            raise _changed_text(comment, action)
        raise _already(comment, action)
    db.session.refresh(comment)
    if to_status != S.APPROVED and comment.flag_count:
        _resolve_reports(comment, now)
    record(comment, action, actor=actor, from_status=from_status, to_status=to_status, reason=reason)
    outgoing = notifications.comment_published(comment) if first_approval else []
    db.session.commit()
    search.refresh(comments=[comment.id])  # right after the commit: readers find exactly what they may see
    mail.deliver(outgoing)
    return comment


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
    """The same action on many (comment, status and text version the moderator saw); a conflict skips
    only itself."""
    result = BulkResult([], [])
    for comment, expected, seen_version in comments:
        try:
            transition(comment, action, actor=actor, reason=reason, expected=expected, seen_version=seen_version)
            result.done.append(comment.id)
        except ModerationError as exc:
            result.skipped.append((comment.id, str(exc.message)))
    return result


def reply(question: Comment, actor: User, body: str, *, team_name: str, as_team: bool = True,
          expect_unanswered: bool = True, internal_hosts: tuple[str, ...] = (),
          seen_version: str | None = None) -> Comment:
    """Publish the team's official answer; a pending question is approved in the same step."""
    if question.status not in (S.PENDING, S.APPROVED):
        raise ModerationError(question, "reply", _l("Removed or rejected comments cannot be answered."))
    if seen_version is not None and seen_version != text_version(question):
        raise _changed_text(question, "reply")
    if expect_unanswered and question.answered_at is not None:
        raise _answered_already(question)
    body_html = _rendered(question, "reply", body, internal_hosts)
    now = utcnow()
    outgoing = []
    first_approval = question.approved_at is None
    if question.status == S.PENDING:
        unchanged_text = Comment.edited_at.is_(None) if question.edited_at is None \
            else Comment.edited_at == question.edited_at
        changed = db.session.execute(
            update(Comment).where(Comment.id == question.id, Comment.status == S.PENDING, unchanged_text)
            .values(status=S.APPROVED, approved_at=func.coalesce(Comment.approved_at, now),
                    moderated_at=func.coalesce(Comment.moderated_at, now))
            .execution_options(synchronize_session=False)
        ).rowcount
        if not changed:
            db.session.rollback()
            raise _already(question, "reply")
        db.session.refresh(question)
        record(question, "approve", actor=actor, from_status=S.PENDING, to_status=S.APPROVED,
               reason="approved with an official answer")
        if first_approval:
            outgoing += notifications.comment_published(question)
    # Only a question that is still approved gets an answer (someone may have rejected it meanwhile),
    # and only once unless the moderator knowingly adds a follow-up.
    still_there = update(Comment).where(Comment.id == question.id, Comment.status == S.APPROVED)
    if expect_unanswered:
        still_there = still_there.where(Comment.answered_at.is_(None))
    answered = db.session.execute(
        still_there.values(answered_at=func.coalesce(Comment.answered_at, now), response_status=ResponseStatus.ANSWERED,
                           claimed_by_id=None, claimed_at=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not answered:
        db.session.rollback()
        db.session.refresh(question)
        if question.status != S.APPROVED:
            raise _already(question, "reply")
        raise _answered_already(question)
    answer = Comment(
        post_id=question.post_id, parent_id=question.id, root_id=question.root_id, depth=question.depth + 1,
        author_name=team_name if as_team else actor.display_name, author_email=(actor.email or "").lower(),
        user_id=actor.id, lang=question.lang, body_md=body, body_html=body_html,
        status=S.APPROVED, status_reason="staff", is_official=True, created_at=now, approved_at=now,
        moderated_at=now,
    )
    db.session.add(answer)
    db.session.flush()
    record(answer, "submit", actor=actor, to_status=S.APPROVED, reason="official answer")
    record(question, "reply", actor=actor, reason=f"answered in comment {answer.id}")
    db.session.refresh(question)
    outgoing += notifications.comment_published(answer)
    db.session.commit()
    search.refresh(comments=[question.id, answer.id])
    mail.deliver(outgoing)
    return answer


def _answered_already(question: Comment) -> AlreadyHandled:
    db.session.refresh(question)
    event = last_event(question, ("reply",))
    who = db.session.get(User, event.actor_id).display_name if event and event.actor_id else None
    message = (_l("Someone was quicker: %(who)s has already answered this comment.", who=who) if who
               else _l("This comment has already been answered."))
    return AlreadyHandled(question, "reply", message)


def edit(comment: Comment, actor: User, body: str, *, reason: str = "", internal_hosts: tuple[str, ...] = ()):
    """Change a comment's text (e.g. remove a customer number); the original words are kept."""
    body_html = _rendered(comment, "edit", body, internal_hosts)
    if comment.original_body_md is None:
        comment.original_body_md = comment.body_md
    db.session.add(CommentRevision(comment_id=comment.id, body_md=comment.body_md, actor_id=actor.id))
    comment.body_md = body
    comment.body_html = body_html
    comment.edited_at = utcnow()
    record(comment, "edit", actor=actor, from_status=comment.status, to_status=comment.status, reason=reason)
    db.session.commit()
    search.refresh(comments=[comment.id])
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
    new_text = {"body_md": comment.pending_body_md, "body_html": comment.pending_body_html, "edited_at": now} \
        if accept else {}
    changed = db.session.execute(
        update(Comment).where(Comment.id == comment.id, Comment.pending_since == waiting_since)
        .values(pending_body_md=None, pending_body_html=None, pending_since=None, **new_text)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not changed:
        db.session.rollback()
        raise _already(comment, "edit")
    kept = comment.body_md if accept else comment.pending_body_md  # the words that leave the page (or never came)
    db.session.add(CommentRevision(comment_id=comment.id, body_md=kept, kind="replaced" if accept else "rejected",
                                   actor=None if accept else actor, created_at=now))
    record(comment, "edit_accepted" if accept else "edit_rejected", actor=actor, from_status=comment.status,
           to_status=comment.status, reason=reason)
    db.session.commit()
    db.session.refresh(comment)
    search.refresh(comments=[comment.id])
    return comment


def _rendered(comment: Comment, action: str, body: str, internal_hosts: tuple[str, ...]) -> str:
    """The answer's or edit's HTML; a text that cannot be rendered is refused with the reason."""
    try:
        return markup.render_comment(body, internal_hosts)
    except markup.RenderError as exc:
        raise ModerationError(comment, action, exc.message) from None


def set_response_status(comment: Comment, actor: User, status: str) -> Comment:
    if status not in set(ResponseStatus):
        raise ValueError(f"unknown response status {status!r}")
    previous = comment.response_status
    comment.response_status = status
    if status != ResponseStatus.ESCALATED:
        comment.escalated_to = None
    record(comment, "response_status", actor=actor, reason=f"{previous or '-'} → {status}")
    db.session.commit()
    return comment


def set_topic(comment: Comment, actor: User, topic: str | None) -> Comment:
    if topic and topic not in set(Topic):
        raise ValueError(f"unknown topic {topic!r}")
    comment.topic = topic or None
    record(comment, "topic", actor=actor, reason=topic or "-")
    db.session.commit()
    return comment


@dataclass
class Claim:
    ok: bool
    holder: User | None


def claim(comment: Comment, actor: User, *, minutes: int) -> Claim:
    """A soft lock while someone writes an answer; it lapses after `minutes` without renewal."""
    now = utcnow()
    stale = now - timedelta(minutes=minutes)
    changed = db.session.execute(
        update(Comment).where(
            Comment.id == comment.id,
            (Comment.claimed_by_id.is_(None)) | (Comment.claimed_by_id == actor.id) | (Comment.claimed_at < stale),
        ).values(claimed_by_id=actor.id, claimed_at=now).execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    db.session.refresh(comment)
    holder = db.session.get(User, comment.claimed_by_id) if comment.claimed_by_id else None
    return Claim(ok=bool(changed), holder=holder)


def active_claim(comment: Comment, minutes: int, now: datetime | None = None) -> int | None:
    """The id of whoever holds a live claim, or None."""
    now = now or utcnow()
    if comment.claimed_by_id and comment.claimed_at and comment.claimed_at >= now - timedelta(minutes=minutes):
        return comment.claimed_by_id
    return None


def release(comment: Comment, actor: User) -> None:
    if comment.claimed_by_id == actor.id:
        comment.claimed_by_id = comment.claimed_at = None
        db.session.commit()


def assign(comment: Comment, actor: User, assignee: User | None) -> Comment:
    comment.assigned_to_id = assignee.id if assignee else None
    record(comment, "assign", actor=actor, reason=assignee.display_name if assignee else "-")
    db.session.commit()
    return comment


def escalate(comment: Comment, actor: User, to: str, note: str) -> Comment:
    """Hand a comment to a colleague or team (product, tech …) with a note; it leaves the answer queue."""
    comment.response_status = ResponseStatus.ESCALATED
    comment.escalated_to = to
    db.session.add(StaffNote(comment_id=comment.id, author_id=actor.id, body=note, kind="escalation"))
    record(comment, "escalate", actor=actor, reason=f"{to}: {note}")
    db.session.commit()
    return comment


def add_note(comment: Comment, actor: User, body: str) -> StaffNote:
    note = StaffNote(comment_id=comment.id, author_id=actor.id, body=body)
    db.session.add(note)
    db.session.commit()
    return note


def report(comment: Comment, *, reason: str, details: str, ip_hash: str | None, hide_after: int) -> Report | None:
    """A reader reports an approved comment. One report per client counts; after `hide_after`
    different clients, a reader's comment leaves the page until the team has looked (the team's
    own answers are never hidden this way). Returns None for a repeated report."""
    if ip_hash and db.session.scalar(select(Report.id).where(
            Report.comment_id == comment.id, Report.ip_hash == ip_hash, Report.resolved_at.is_(None)).limit(1)):
        return None
    entry = Report(comment_id=comment.id, reason=reason, details=details, ip_hash=ip_hash)
    db.session.add(entry)
    db.session.execute(
        update(Comment).where(Comment.id == comment.id).values(flag_count=Comment.flag_count + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
    db.session.refresh(comment)
    record(comment, "report", actor=None, reason=f"{reason}: {details}"[:500])
    reporters = db.session.scalar(select(func.count(func.distinct(Report.ip_hash)))
                                  .where(Report.comment_id == comment.id, Report.resolved_at.is_(None)))
    if hide_after and reporters >= hide_after and comment.user_id is None and not comment.is_official:
        hidden = db.session.execute(
            update(Comment).where(Comment.id == comment.id, Comment.status == S.APPROVED)
            .values(status=S.PENDING).execution_options(synchronize_session=False)
        ).rowcount
        if hidden:
            record(comment, "hide", actor=None, from_status=S.APPROVED, to_status=S.PENDING,
                   reason=f"hidden after reports from {reporters} readers")
    db.session.commit()
    search.refresh(comments=[comment.id])
    db.session.refresh(comment)
    return entry


def dismiss_reports(comment: Comment, actor: User) -> Comment:
    """The comment is fine: clear its reports (and show it again if they had hidden it)."""
    now = utcnow()
    _resolve_reports(comment, now)
    # Show it again only if the reports were what hid it (no other decision since).
    decision = last_event(comment, ("hide", "submit", "approve", "reject", "spam", "delete", "restore", "edit"))
    if decision is not None and decision.action == "hide":
        db.session.execute(
            update(Comment).where(Comment.id == comment.id, Comment.status == S.PENDING)
            .values(status=S.APPROVED).execution_options(synchronize_session=False)
        )
    db.session.refresh(comment)
    record(comment, "dismiss_reports", actor=actor, from_status=None, to_status=comment.status)
    db.session.commit()
    search.refresh(comments=[comment.id])
    return comment


def _resolve_reports(comment: Comment, now: datetime) -> None:
    db.session.execute(
        update(Report).where(Report.comment_id == comment.id, Report.resolved_at.is_(None)).values(resolved_at=now)
        .execution_options(synchronize_session=False)
    )
    comment.flag_count = 0


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
