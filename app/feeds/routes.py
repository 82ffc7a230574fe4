from flask import Response, abort, current_app, redirect, render_template
from flask_babel import gettext as _
from sqlalchemy import select

from app.comments import threads
from app.content import categories, queries
from app.extensions import db
from app.feeds import bp
from app.feeds.atom import comments_feed as build_comments_feed, posts_feed
from app.i18n import current_language
from app.models import Category, Post, utcnow
from app.urls import absolute_url

ATOM = "application/atom+xml; charset=utf-8"


def _post_url(post) -> str:
    return absolute_url("blog.post", slug=post.slug)


def _latest_posts(stmt):
    return db.session.scalars(stmt.limit(current_app.config["FEED_SIZE"])).all()


@bp.get("/feed.atom")
def site_feed():
    body = posts_feed(
        feed_id=absolute_url("blog.index"),
        title=current_app.config["SITE_NAME"],
        subtitle=current_app.config["SITE_DESCRIPTION"],
        self_url=absolute_url("feeds.site_feed"),
        site_url=absolute_url("blog.index"),
        lang=current_language(),
        posts=_latest_posts(queries.visible_posts(utcnow())),
        post_url=_post_url,
    )
    return Response(body, content_type=ATOM)


@bp.get("/category/<slug>/feed.atom")
def category_feed(slug: str):
    category = db.session.scalar(select(Category).where(Category.slug == slug))
    if category is None:  # renamed or merged in the back office: feed readers follow the 301
        moved = categories.moved_to(f"/category/{slug}") or abort(404)
        return redirect(f"{moved}/feed.atom", 301)
    body = posts_feed(
        feed_id=absolute_url("blog.category", slug=slug),
        title=f"{current_app.config['SITE_NAME']} – {category.name}",
        subtitle=category.description or _("Posts in %(category)s", category=category.name),
        self_url=absolute_url("feeds.category_feed", slug=slug),
        site_url=absolute_url("blog.category", slug=slug),
        lang=current_language(),
        posts=_latest_posts(queries.in_category(queries.visible_posts(utcnow()), category)),
        post_url=_post_url,
    )
    return Response(body, content_type=ATOM)


@bp.get("/posts/<slug>/comments.atom")
def comments_feed(slug: str):
    post = queries.visible_post(slug, utcnow()) or abort(404)
    body = build_comments_feed(
        post=post,
        title=_("Comments on “%(title)s”", title=post.title),
        self_url=absolute_url("feeds.comments_feed", slug=slug),
        post_url=absolute_url("blog.post", slug=slug),
        lang=current_language(),
        comments=threads.latest_approved(post, current_app.config["FEED_SIZE"] * 2),
        comment_url=lambda c: absolute_url("comments.permalink", slug=slug, comment_id=c.id),
    )
    return Response(body, content_type=ATOM)


def _sitemap_posts(now) -> list[dict]:
    """Visible posts with the time their content last changed (queries.sitemap_entries has only updated_at)."""
    rows = db.session.execute(
        select(Post.slug, Post.published_at, Post.content_changed_at).where(Post.visible(now))
        .order_by(Post.published_at.desc())
    ).all()
    return [{"slug": slug, "lastmod": max(filter(None, (published, changed)))} for slug, published, changed in rows]


@bp.get("/sitemap.xml")
def sitemap():
    now = utcnow()
    entries = queries.sitemap_entries(now) | {"posts": _sitemap_posts(now)}
    xml = render_template("feeds/sitemap.xml", **entries)
    return Response(xml, content_type="application/xml; charset=utf-8")


@bp.get("/robots.txt")
def robots():
    lines = ["User-agent: *", "Disallow: /language/", "", f"Sitemap: {absolute_url('feeds.sitemap')}", ""]
    return Response("\n".join(lines), content_type="text/plain; charset=utf-8")
