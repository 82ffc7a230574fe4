"""Webhooks: URLs an admin registered for events, and every delivery to them."""
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, utcnow

# What a hook can be registered for.
WEBHOOK_EVENTS = ("comment.waiting", "target.warning", "target.breached", "comment.escalated", "comment.reported")


class Webhook(db.Model):
    """A receiver (a chat's incoming webhook, a helpdesk …) and the events it wants."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(String(128))  # signs each payload (HMAC-SHA256); shown to admins
    events: Mapped[list] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    created_by = relationship("User", lazy="raise")


class WebhookDelivery(db.Model):
    """One event for one hook: written in the transaction of its cause, sent after the commit with
    retries and back-off; kept as the hook's delivery log."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_due", "delivered_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"), index=True)
    event: Mapped[str] = mapped_column(String(40))
    # The comment the payload names (its author's name, the post): a privacy erasure removes these.
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="SET NULL"), index=True)
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # None: given up
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)  # a sender holds it until then
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status: Mapped[int | None] = mapped_column()  # the receiver's HTTP status
    last_error: Mapped[str] = mapped_column(Text, default="")

    webhook = relationship("Webhook", lazy="raise")
