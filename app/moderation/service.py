"""The one state machine for comment statuses; every change writes a ModerationEvent.

Services commit their unit of work themselves and run side effects (mail) after the commit,
so a failing mail server can never undo a decision. They take the acting user as an argument
and never read the request.
"""
from app import mail
from app.comments import notifications
from app.extensions import db
from app.models import Comment, CommentStatus, ModerationEvent, User, utcnow

S = CommentStatus

# action → (statuses it may start from, status it leads to)
TRANSITIONS = {
    "approve": ({S.PENDING, S.SPAM, S.REJECTED}, S.APPROVED),
    "reject": ({S.PENDING, S.APPROVED, S.SPAM}, S.REJECTED),
    "spam": ({S.PENDING, S.APPROVED, S.REJECTED}, S.SPAM),
    "delete": ({S.PENDING, S.APPROVED, S.SPAM, S.REJECTED}, S.DELETED),
    "restore": ({S.DELETED, S.SPAM, S.REJECTED}, S.PENDING),
}


class ModerationError(Exception):
    """The action does not fit the comment's current state (someone may have acted meanwhile)."""

    def __init__(self, comment: Comment, action: str):
        self.comment, self.action, self.status = comment, action, comment.status
        super().__init__(f"cannot {action} comment {comment.id}: it is {comment.status}")


def record(comment: Comment, action: str, *, actor: User | None, from_status: str | None,
           to_status: str | None, reason: str = "") -> ModerationEvent:
    """Add an audit-trail entry (the caller commits)."""
    event = ModerationEvent(comment_id=comment.id, actor_id=actor.id if actor else None, action=action,
                            from_status=from_status, to_status=to_status, reason=reason or "")
    db.session.add(event)
    return event


def transition(comment: Comment, action: str, *, actor: User | None = None, reason: str = "") -> Comment:
    """Apply `action`, record it, commit, then send what the change causes. Raises ModerationError."""
    allowed_from, to_status = TRANSITIONS[action]
    if comment.status not in allowed_from:
        raise ModerationError(comment, action)
    from_status = comment.status
    comment.status = to_status
    outgoing = []
    if to_status == S.APPROVED and comment.approved_at is None:
        # Only the first approval is news; approving again after a rejection must not re-announce it.
        comment.approved_at = utcnow()
        outgoing = notifications.comment_published(comment)
    record(comment, action, actor=actor, from_status=from_status, to_status=to_status, reason=reason)
    db.session.commit()
    mail.deliver(outgoing)
    return comment


def approve(comment: Comment, *, actor: User | None = None, reason: str = "") -> Comment:
    return transition(comment, "approve", actor=actor, reason=reason)


def delete(comment: Comment, *, actor: User | None = None, reason: str = "") -> Comment:
    return transition(comment, "delete", actor=actor, reason=reason)
