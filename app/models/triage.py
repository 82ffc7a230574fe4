"""What the team learns about commenters and their comments: statuses set from the queue per
address or client, and the local classifier's trained models."""
from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class CommenterKind(StrEnum):
    EMAIL = "email"  # the address typed (lower case)
    IP = "ip"  # the keyed IP hash (never the IP itself)


class CommenterLevel(StrEnum):
    PREMODERATE = "premoderate"  # every comment waits for review, however trusted the address
    BANNED = "banned"  # comments go to spam (answered like a success, so bots learn nothing)


class CommenterStatus(db.Model):
    """A status the team gave one commenter, by address or by client, with a reason and an optional end."""

    __tablename__ = "commenter_statuses"
    __table_args__ = (UniqueConstraint("kind", "value", name="uq_commenter_statuses_kind_value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))  # CommenterKind
    value: Mapped[str] = mapped_column(String(254))  # the address or the IP hash
    level: Mapped[str] = mapped_column(String(16))  # CommenterLevel
    reason: Mapped[str] = mapped_column(Text, default="")
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # None: until lifted
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    created_by = relationship("User", lazy="raise")


class ClassifierModel(db.Model):
    """A trained model of the local classifier (spam score, topic), kept in the database so every
    app server scores with the same one; no comment text ever leaves the server."""

    __tablename__ = "classifier_models"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)  # spam | topic
    data: Mapped[bytes] = mapped_column(LargeBinary)  # the fitted estimator, serialised
    samples: Mapped[int] = mapped_column(default=0)  # labelled comments it learnt from
    metrics: Mapped[dict] = mapped_column(JSON, default=dict)  # held-out precision/recall at training
    decisions_seen: Mapped[int] = mapped_column(default=0)  # team decisions in the audit trail at training
    trained_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
