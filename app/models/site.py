"""What the team runs the site with besides content: uploaded images, settings changed in the
browser, and the back office's audit trail."""
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class Upload(db.Model):
    """An image a staff member uploaded, stored as `BLOG_DATA_DIR/uploads/<name>` (plus resized
    variants `<stem>-<width>w.<ext>`); the name is generated, never the uploader's file name."""

    __tablename__ = "uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)  # e.g. "3f9c…e1.webp"
    original_name: Mapped[str] = mapped_column(String(255), default="")  # shown in the library only
    content_type: Mapped[str] = mapped_column(String(40))
    bytes: Mapped[int] = mapped_column()
    width: Mapped[int] = mapped_column()
    height: Mapped[int] = mapped_column()
    sha256: Mapped[str] = mapped_column(String(64), index=True)  # the same image twice is stored once
    alt: Mapped[str] = mapped_column(String(300), default="")
    variants: Mapped[list] = mapped_column(JSON, default=list)  # widths of the resized copies
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    uploaded_by = relationship("User", lazy="raise")


class Setting(db.Model):
    """A setting changed in the browser (comment rules …); absent keys fall back to app/config.py."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[object] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class AdminEvent(db.Model):
    """The back office's audit trail: who changed which setting, category or account, from what to what."""

    __tablename__ = "admin_events"
    __table_args__ = (Index("ix_admin_events_at", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(40))  # e.g. "setting", "category.merge", "user.invite"
    subject: Mapped[str] = mapped_column(String(200), default="")  # the key, slug or user name
    before: Mapped[object | None] = mapped_column(JSON)
    after: Mapped[object | None] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    actor = relationship("User", lazy="raise")
