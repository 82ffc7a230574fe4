"""What readers may see: the queries behind the reader pages and feeds."""
from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select
from sqlalchemy.orm import load_only, selectinload

from app.extensions import db
from app.models import Category, Page, Post, Tag, User, post_tags


def visible_posts(now: datetime) -> Select:
    """Published, due posts, newest first, with what a listing shows loaded alongside."""
    return (
        select(Post)
        .where(Post.visible(now))
        .options(selectinload(Post.author), selectinload(Post.category), selectinload(Post.tags))
        .order_by(Post.published_at.desc(), Post.id.desc())
    )


def in_category(stmt: Select, category: Category) -> Select:
    return stmt.where(Post.category_id == category.id)


def with_tag(stmt: Select, tag: Tag) -> Select:
    return stmt.where(Post.id.in_(select(post_tags.c.post_id).where(post_tags.c.tag_id == tag.id)))


def by_author(stmt: Select, user: User) -> Select:
    return stmt.where(Post.author_id == user.id)


def between(stmt: Select, start: datetime, end: datetime) -> Select:
    return stmt.where(Post.published_at >= start, Post.published_at < end)


def visible_post(slug: str, now: datetime) -> Post | None:
    """One post by slug, or None if it does not exist or readers may not see it."""
    return db.session.scalar(visible_posts(now).where(Post.slug == slug))


def commentable_post(slug: str, now: datetime) -> Post | None:
    """The post a comment is sent to: visible, by slug, only what the write path needs."""
    return db.session.scalar(
        select(Post).where(Post.visible(now), Post.slug == slug)
        .options(load_only(Post.id, Post.slug, Post.status, Post.published_at, Post.comments_open))
    )


def neighbours(post: Post, now: datetime) -> tuple[Post | None, Post | None]:
    """The previous (older) and next (newer) visible post."""
    older = db.session.scalar(
        select(Post)
        .where(Post.visible(now), (Post.published_at < post.published_at)
               | ((Post.published_at == post.published_at) & (Post.id < post.id)))
        .order_by(Post.published_at.desc(), Post.id.desc())
        .limit(1)
    )
    newer = db.session.scalar(
        select(Post)
        .where(Post.visible(now), (Post.published_at > post.published_at)
               | ((Post.published_at == post.published_at) & (Post.id > post.id)))
        .order_by(Post.published_at.asc(), Post.id.asc())
        .limit(1)
    )
    return older, newer


def archive_months(now: datetime, tz: ZoneInfo) -> list[tuple[int, int, int]]:
    """(year, month, number of posts) in the site's time zone, newest month first."""
    dates = db.session.scalars(select(Post.published_at).where(Post.visible(now)))
    counts = Counter((d.astimezone(tz).year, d.astimezone(tz).month) for d in dates)
    return [(year, month, n) for (year, month), n in sorted(counts.items(), reverse=True)]


def categories() -> list[Category]:
    return list(db.session.scalars(select(Category).order_by(Category.position, Category.name)))


def footer_pages() -> list[Page]:
    return list(db.session.scalars(select(Page).where(Page.in_footer).order_by(Page.position, Page.title)))


def sitemap_entries(now: datetime) -> dict:
    """Everything the sitemap lists: visible posts with their dates, categories, tags, pages."""
    posts = db.session.execute(
        select(Post.slug, Post.updated_at, Post.published_at).where(Post.visible(now))
        .order_by(Post.published_at.desc())
    ).all()
    tag_ids = select(post_tags.c.tag_id).join(Post, Post.id == post_tags.c.post_id).where(Post.visible(now))
    return {
        "posts": posts,
        "categories": categories(),
        "tags": list(db.session.scalars(select(Tag).where(Tag.id.in_(tag_ids)).order_by(Tag.slug))),
        "pages": list(db.session.scalars(select(Page).order_by(Page.position, Page.slug))),
    }
