"""What readers read: posts under categories and tags, and standalone pages (Impressum …)."""
from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, ForeignKey, Index, String, Table, Text, and_, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class PostStatus(StrEnum):
    DRAFT = "draft"
    REVIEW = "review"  # an author submitted it; an editor publishes it (when authors may not publish)
    SCHEDULED = "scheduled"  # goes live by itself at published_at
    PUBLISHED = "published"


LANGUAGES = ("de", "en")


class Category(db.Model):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)
    # The team's promise for first answers to readers' questions in this category.
    response_target_minutes: Mapped[int] = mapped_column(default=240)
    business_hours_only: Mapped[bool] = mapped_column(default=False)  # count Mon–Fri 8–18 only
    # The category above this one (WordPress nests them: "Technik" › "Router"); shown on its page.
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id", ondelete="SET NULL"))

    def __repr__(self) -> str:
        return f"<Category {self.slug}>"


class Tag(db.Model):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)

    def __repr__(self) -> str:
        return f"<Tag {self.slug}>"


post_tags = Table(
    "post_tags",
    db.metadata,
    Column("post_id", ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Post(db.Model):
    __tablename__ = "posts"
    __table_args__ = (Index("ix_posts_status_published_at", "status", "published_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")
    lang: Mapped[str] = mapped_column(String(8), default="de")
    body_md: Mapped[str] = mapped_column(Text, default="")
    # Rendered and sanitised once when the post is saved (app.markup); pages only print it.
    body_html: Mapped[str] = mapped_column(Text, default="")
    toc: Mapped[list] = mapped_column(JSON, default=list)  # [{"level", "id", "title"}] from the headings
    reading_minutes: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(String(16), default=PostStatus.DRAFT)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # When readers' text (title, body, summary) last changed, or the file's `updated:`; the row's
    # updated_at also moves for tags, status or a re-import. None: unchanged since published_at.
    content_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    comments_open: Mapped[bool] = mapped_column(default=True)
    # First on the home page (WordPress's sticky posts).
    sticky: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Optimistic lock for the browser editor: each save increments it; a save from an older
    # version is a stale edit (someone saved in between) and is shown, never silently applied.
    version: Mapped[int] = mapped_column(default=1)
    # `version` when the post last matched its file (import or export); a higher version means it
    # was changed in the browser since, and `posts import` skips it unless --force.
    synced_version: Mapped[int | None] = mapped_column()
    # A secret link for reviewers to read a draft or scheduled post (None: no link; revocable).
    preview_token: Mapped[str | None] = mapped_column(String(64), unique=True)

    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), index=True)
    # Set for posts that come from a Markdown file; the hash tells the import what changed.
    source_path: Mapped[str | None] = mapped_column(String(500))
    source_hash: Mapped[str | None] = mapped_column(String(64))

    author = relationship("User", lazy="raise")
    category = relationship("Category", lazy="raise")
    tags = relationship("Tag", secondary=post_tags, lazy="raise", order_by="Tag.name")

    @classmethod
    def visible(cls, now: datetime):
        """SQL condition for what readers may see: published or scheduled, and due."""
        return and_(
            cls.status.in_((PostStatus.PUBLISHED, PostStatus.SCHEDULED)),
            cls.published_at.is_not(None),
            cls.published_at <= now,
        )

    def is_visible(self, now: datetime) -> bool:
        return (
            self.status in (PostStatus.PUBLISHED, PostStatus.SCHEDULED)
            and self.published_at is not None
            and self.published_at <= now
        )

    @property
    def last_modified(self) -> datetime:
        """When readers' content last changed, never before publication: for feeds, sitemap, meta tags."""
        dates = [d for d in (self.published_at, self.content_changed_at) if d is not None]
        return max(dates) if dates else self.created_at

    def __repr__(self) -> str:
        return f"<Post {self.slug} ({self.status})>"


class PostRevision(db.Model):
    """What a post said after one save (browser, import or restore): who saved it, when, and the fields."""

    __tablename__ = "post_revisions"
    __table_args__ = (Index("ix_post_revisions_post_id_id", "post_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column()  # the post's version this revision is
    source: Mapped[str] = mapped_column(String(16), default="editor")  # editor | import | restore
    title: Mapped[str] = mapped_column(String(300))
    slug: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    body_md: Mapped[str] = mapped_column(Text, default="")
    # Everything else a save can change: category slug, tags, lang, status, published_at (ISO), comments_open.
    meta: Mapped[dict] = mapped_column(JSON, default=dict)

    author = relationship("User", lazy="raise")


class Redirect(db.Model):
    """An old path that answers 301 to a new one (a post's changed slug, a merged category, a link
    of the blog imported from WordPress: `/2019/05/03/router/`, `/?p=12`). Imported paths are kept
    in `old_links.normalise`'s form (no trailing slash, only the query WordPress routes by)."""

    __tablename__ = "redirects"

    id: Mapped[int] = mapped_column(primary_key=True)
    old_path: Mapped[str] = mapped_column(String(500), unique=True)
    new_path: Mapped[str] = mapped_column(String(500))
    origin: Mapped[str] = mapped_column(String(200), default="")  # "" for Dialog's own; else the import's origin
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Page(db.Model):
    """A standalone page served at /<slug>, such as Impressum or Datenschutz."""

    __tablename__ = "pages"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")
    lang: Mapped[str] = mapped_column(String(8), default="de")
    body_md: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    in_footer: Mapped[bool] = mapped_column(default=False)
    position: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # When title, body or summary last changed, or the file's `updated:` (a re-import moves updated_at).
    content_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    source_path: Mapped[str | None] = mapped_column(String(500))
    source_hash: Mapped[str | None] = mapped_column(String(64))

    @property
    def last_modified(self) -> datetime:
        """When readers' content last changed: the "last updated" of legal pages, the sitemap."""
        return self.content_changed_at or self.updated_at

    def __repr__(self) -> str:
        return f"<Page {self.slug}>"
