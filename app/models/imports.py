"""What came in from another blog (a WordPress or Disqus export): which of our rows each source
item became, so importing the same export again updates instead of duplicating, and the links
readers of the old blog still follow."""
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class ImportedItem(db.Model):
    """One item of an export and the row it became (a post, page, comment, account, category, tag
    or image). `origin` names the source ("wordpress:alt.example.de", "disqus:forum"), so
    two blogs' id 12 stay apart."""

    __tablename__ = "imported_items"
    __table_args__ = (
        Index("uq_imported_items_source", "origin", "kind", "source_id", unique=True),
        Index("ix_imported_items_target", "kind", "target_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    origin: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))  # post | page | comment | mention | user | category | tag | upload
    source_id: Mapped[str] = mapped_column(String(200))
    target_id: Mapped[int] = mapped_column()
    # A hash of what the import read: the same item again changes nothing.
    checksum: Mapped[str] = mapped_column(String(64), default="")
    # For posts: Post.version after the import wrote it; a higher version was edited in Dialog since.
    version: Mapped[int | None] = mapped_column()
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Mention(db.Model):
    """A pingback or trackback from the old blog: another site that linked to a post. Kept apart
    from comments (nobody wrote it to the team, nobody waits for an answer); imported only with
    `--pingbacks`."""

    __tablename__ = "mentions"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # pingback | trackback
    source_url: Mapped[str] = mapped_column(String(500), default="")
    title: Mapped[str] = mapped_column(String(300), default="")  # the linking site's name as sent
    excerpt: Mapped[str] = mapped_column(Text, default="")  # plain text
    approved: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
