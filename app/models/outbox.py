"""What must follow a change, stored in the change's own transaction: mails and other tasks."""
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class OutboxMail(db.Model):
    """A message waiting to be sent (or sent): written in the same transaction as its cause."""

    __tablename__ = "outbox_mails"
    __table_args__ = (Index("ix_outbox_mails_sent_at_attempts", "sent_at", "attempts"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    to: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    headers: Mapped[dict] = mapped_column(db.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set while a send is under way: a send interrupted after it may have reached the server is
    # never repeated blindly (`flask mail send-pending --retry-interrupted` does it on purpose).
    sending_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Not sent before then: a moderator's decision can still be undone (the undo takes its mails back).
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The comment a notification quotes, so an erasure finds the mails that carry its words.
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="SET NULL"), index=True)


class OutboxTask(db.Model):
    """Work a change leaves for after its commit (index these comments and posts …): written in the
    same transaction, applied once by the request that made it or by the drainer after a crash."""

    __tablename__ = "outbox_tasks"
    __table_args__ = (Index("ix_outbox_tasks_done_at_id", "done_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # index
    payload: Mapped[dict] = mapped_column(db.JSON, default=dict)
    urgent: Mapped[bool] = mapped_column(default=True)  # readers must see it at once (else: within a second)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)  # someone is applying it until then
    attempts: Mapped[int] = mapped_column(default=0)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")
