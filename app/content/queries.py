"""What readers may see: the queries behind the reader pages and feeds."""
from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Select, bindparam, inspect, select
from sqlalchemy.orm import joinedload, load_only, selectinload
from sqlalchemy.orm.attributes import set_committed_value

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


def front_page(now: datetime) -> Select:
    """The home page's listing: sticky posts first (WordPress's, kept by the import), then newest first."""
    return visible_posts(now).order_by(None).order_by(Post.sticky.desc(), Post.published_at.desc(), Post.id.desc())


def in_category(stmt: Select, category: Category) -> Select:
    return stmt.where(Post.category_id == category.id)


def with_tag(stmt: Select, tag: Tag) -> Select:
    return stmt.where(Post.id.in_(select(post_tags.c.post_id).where(post_tags.c.tag_id == tag.id)))


def by_author(stmt: Select, user: User) -> Select:
    return stmt.where(Post.author_id == user.id)


def between(stmt: Select, start: datetime, end: datetime) -> Select:
    return stmt.where(Post.published_at >= start, Post.published_at < end)


# The post page's statements, built once with parameters: building a statement costs SQLAlchemy
# more than running it (neighbours: 1 ms built per request, 0.25 ms prebuilt).
_BY_SLUG = (select(Post).where(Post.visible(bindparam("now")), Post.slug == bindparam("slug"))
            .options(joinedload(Post.author), joinedload(Post.category)))
_TAGS_OF = select(Tag).join(post_tags, post_tags.c.tag_id == Tag.id).where(
    post_tags.c.post_id == bindparam("post_id")).order_by(Tag.name)


def visible_post(slug: str, now: datetime) -> Post | None:
    """One post by slug, or None if it does not exist or readers may not see it (with its author
    and category; its tags when `with_tags` is called: most answers about a post do not show them)."""
    return db.session.scalar(_BY_SLUG, {"now": now, "slug": slug})


def with_tags(post: Post) -> Post:
    """The post with its tags loaded (one query, none if they are)."""
    if "tags" in inspect(post).unloaded:
        set_committed_value(post, "tags", list(db.session.scalars(_TAGS_OF, {"post_id": post.id})))
    return post


def commentable_post(slug: str, now: datetime) -> Post | None:
    """The post a comment is sent to: visible, by slug, only what the write path needs."""
    return db.session.scalar(
        select(Post).where(Post.visible(now), Post.slug == slug)
        .options(load_only(Post.id, Post.slug, Post.status, Post.published_at, Post.comments_open))
    )


def _neighbour_id(older: bool):
    at, post_id = bindparam("at"), bindparam("post_id")
    before = (Post.published_at < at) | ((Post.published_at == at) & (Post.id < post_id))
    after = (Post.published_at > at) | ((Post.published_at == at) & (Post.id > post_id))
    order = (Post.published_at.desc(), Post.id.desc()) if older else (Post.published_at.asc(), Post.id.asc())
    return (select(Post.id).where(Post.visible(bindparam("now")), before if older else after)
            .order_by(*order).limit(1).scalar_subquery())


_NEIGHBOURS = select(Post.id, Post.slug, Post.title, Post.published_at).where(
    Post.id.in_([_neighbour_id(older=True), _neighbour_id(older=False)]))


def neighbours(post: Post, now: datetime):
    """The previous (older) and next (newer) visible post: rows with slug and title (what the links
    show), in one statement."""
    rows = db.session.execute(_NEIGHBOURS, {"now": now, "at": post.published_at, "post_id": post.id}).all()
    mark = (post.published_at, post.id)
    older = next((row for row in rows if (row.published_at, row.id) < mark), None)
    newer = next((row for row in rows if (row.published_at, row.id) > mark), None)
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
