"""Reader comments and replies, with what moderation and notifications need around them."""
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class CommentStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"  # the only status readers see
    SPAM = "spam"
    REJECTED = "rejected"
    DELETED = "deleted"  # soft: the text stays for the audit trail


class ResponseStatus(StrEnum):
    """Whether a reader still waits for the team (separate from moderation status)."""

    NEEDS_ANSWER = "needs_answer"
    ANSWERED = "answered"
    NO_ANSWER_NEEDED = "no_answer_needed"
    ESCALATED = "escalated"


class Topic(StrEnum):
    """What a comment is about, set by staff: the customer pulse."""

    QUESTION = "question"
    BUG = "bug"
    WISH = "wish"
    COMPLAINT = "complaint"
    PRAISE = "praise"


# What waits in the queue's "pending" view. A reader's edit waits only beside a published comment
# (the gate drops it when the comment leaves "approved"), so this needs no status for the edits.
QUEUE_PENDING_SQL = "status = 'pending' OR pending_since IS NOT NULL"


class Comment(db.Model):
    __tablename__ = "comments"
    __table_args__ = (
        Index("ix_comments_post_status_root", "post_id", "status", "root_id"),  # threads of a post page
        Index("ix_comments_root_id", "root_id"),
        Index("ix_comments_status_created_at", "status", "created_at"),  # the moderation queue
        Index("ix_comments_author_email_status", "author_email", "status"),  # trusted commenters
        # A client's removed comments (the policy's rule "history"), as the address's above.
        Index("ix_comments_ip_hash_status", "ip_hash", "status"),
        # The same text sent again lately (rule "repeated"): a range of one hash, however often it was sent before.
        Index("ix_comments_text_hash_created_at", "text_hash", "created_at"),
        # Waiting readers; with the status in the index, the queue's counts never touch the table.
        # With the post too, counting those over their category's target reads no comment row.
        Index("ix_comments_response_status_status_created", "response_status", "status", "created_at", "post_id"),
        Index("ix_comments_flag_count", "flag_count"),  # reported comments (almost all are 0)
        Index("ix_comments_pending_since", "pending_since"),  # edits waiting for review (almost all NULL)
        # The queue's "pending" view in its order: new comments and edits waiting (a few thousand
        # rows of 100,000), read in order for a page without sorting them all first.
        Index("ix_comments_queue_pending", "created_at", "id",
              sqlite_where=text(QUEUE_PENDING_SQL), postgresql_where=text(QUEUE_PENDING_SQL)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    # A thread is a top-level comment (root_id == id) and everything below it; the tree is
    # assembled from parent_id in Python, so replies can nest at any depth.
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id"), index=True)
    root_id: Mapped[int | None] = mapped_column()
    depth: Mapped[int] = mapped_column(default=0)

    author_name: Mapped[str] = mapped_column(String(120))  # readers: 80 (form); staff display names: 120
    author_email: Mapped[str] = mapped_column(String(254))  # never shown publicly
    author_url: Mapped[str | None] = mapped_column(String(300))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # staff comments
    lang: Mapped[str] = mapped_column(String(8), default="de")  # the commenter's UI language, for mails

    body_md: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)  # rendered once at save (app.markup.render_comment)

    status: Mapped[str] = mapped_column(String(16), default=CommentStatus.PENDING)
    status_reason: Mapped[str] = mapped_column(String(40), default="")  # the policy rule that decided
    is_official: Mapped[bool] = mapped_column(default=False)  # a staff answer in the team's name

    # The team's side: does a reader still wait for an answer, who works on it, what is it about.
    response_status: Mapped[str | None] = mapped_column(String(20))  # None for staff comments
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # first official answer
    moderated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # first decision on the status
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    escalated_to: Mapped[str | None] = mapped_column(String(80))
    topic: Mapped[str | None] = mapped_column(String(16))
    # The local classifier's view at arrival (app/moderation/classifier.py): a spam probability
    # 0…1 and a suggested topic; None when no model was trained yet.
    spam_score: Mapped[float | None] = mapped_column()
    suggested_topic: Mapped[str | None] = mapped_column(String(16))
    # Response-target notices sent once each (warning before the target breaks, and the breach).
    target_warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    target_breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    flag_count: Mapped[int] = mapped_column(default=0)
    original_body_md: Mapped[str | None] = mapped_column(Text)  # the reader's words before a staff edit
    # A reader's edit of a published comment waits here for review; readers keep seeing body_html.
    pending_body_md: Mapped[str | None] = mapped_column(Text)
    pending_body_html: Mapped[str | None] = mapped_column(Text)
    pending_since: Mapped[datetime | None] = mapped_column(UTCDateTime)

    ip_hash: Mapped[str | None] = mapped_column(String(64))  # keyed hash, cleared after retention
    # A keyed hash of the normalised text at arrival (case and spacing ignored): the policy's rule
    # "repeated" counts the same words sent again without reading any text (comments.service.text_hash).
    text_hash: Mapped[str | None] = mapped_column(String(64))
    # The form's one-time key: two identical requests (a double click) cannot both be stored.
    submission_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    post = relationship("Post", lazy="raise")
    user = relationship("User", lazy="raise", foreign_keys=[user_id])
    parent = relationship("Comment", remote_side=[id], lazy="raise")
    claimed_by = relationship("User", lazy="raise", foreign_keys=[claimed_by_id])
    assigned_to = relationship("User", lazy="raise", foreign_keys=[assigned_to_id])

    @property
    def is_visible(self) -> bool:
        return self.status == CommentStatus.APPROVED

    def __repr__(self) -> str:
        return f"<Comment {self.id} on post {self.post_id} ({self.status})>"


class ModerationEvent(db.Model):
    """The audit trail: every change of a comment's status, who made it and why."""

    __tablename__ = "moderation_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: the system or the author
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)  # work per moderator by period

    actor = relationship("User", lazy="raise")


class CommentRevision(db.Model):
    """A text a comment had (or was offered) before an edit: every edit keeps the words it replaced."""

    __tablename__ = "comment_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"), index=True)
    body_md: Mapped[str] = mapped_column(Text)
    # replaced: the text before an edit took effect · rejected: an edit the team did not publish
    kind: Mapped[str] = mapped_column(String(16), default="replaced")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: the comment's author
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    actor = relationship("User", lazy="raise")


class StaffNote(db.Model):
    """An internal note on a comment (also the hand-over note of an escalation); staff only."""

    __tablename__ = "staff_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16), default="note")  # note | escalation
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author = relationship("User", lazy="raise")


class CannedResponse(db.Model):
    """A reusable answer with placeholders such as {name} and {post_title}."""

    __tablename__ = "canned_responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    lang: Mapped[str] = mapped_column(String(8), default="de")
    body_md: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Report(db.Model):
    """A reader reporting an approved comment."""

    __tablename__ = "reports"
    __table_args__ = (
        # One open report per client and comment, even when two arrive at the same moment.
        Index("uq_reports_open_per_client", "comment_id", "ip_hash", unique=True,
              sqlite_where=text("resolved_at IS NULL"), postgresql_where=text("resolved_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(String(32))
    details: Mapped[str] = mapped_column(Text, default="")
    ip_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Subscription(db.Model):
    """A commenter's wish to be told about their comment (published, answered); double opt-in."""

    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"), index=True)
    lang: Mapped[str] = mapped_column(String(8), default="de")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmation_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    comment = relationship("Comment", lazy="raise")

    @property
    def active(self) -> bool:
        return self.confirmed_at is not None and self.unsubscribed_at is None
