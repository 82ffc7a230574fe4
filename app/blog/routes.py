from datetime import datetime

from flask import abort, current_app, render_template, request
from flask_babel import format_date, gettext as _
from sqlalchemy import select

from app.blog import bp
from app.content import queries
from app.extensions import db
from app.i18n import site_timezone
from app.models import Category, Page, Tag, User, utcnow


def _page_number() -> int:
    """?page=abc counts as the first page; 0 and negatives are answered 404 by paginate."""
    return request.args.get("page", 1, type=int)


def _listing(stmt, template: str = "blog/list.html", **context):
    pagination = db.paginate(
        stmt, page=_page_number(), per_page=current_app.config["POSTS_PER_PAGE"],
        error_out=True, max_per_page=None, count=True,
    )
    return render_template(template, pagination=pagination, posts=pagination.items, **context)


@bp.get("/")
def index():
    return _listing(queries.visible_posts(utcnow()), template="blog/index.html")


@bp.get("/posts/<slug>")
def post(slug: str):
    now = utcnow()
    post = queries.visible_post(slug, now) or abort(404)
    older, newer = queries.neighbours(post, now)
    show_toc = len(post.toc) >= current_app.config["TOC_MIN_HEADINGS"]
    return render_template("blog/post.html", post=post, older=older, newer=newer, show_toc=show_toc)


@bp.get("/category/<slug>")
def category(slug: str):
    category = db.session.scalar(select(Category).where(Category.slug == slug)) or abort(404)
    stmt = queries.in_category(queries.visible_posts(utcnow()), category)
    return _listing(stmt, heading=category.name, description=category.description, category=category,
                    kind=_("Category"))


@bp.get("/tag/<slug>")
def tag(slug: str):
    tag = db.session.scalar(select(Tag).where(Tag.slug == slug)) or abort(404)
    stmt = queries.with_tag(queries.visible_posts(utcnow()), tag)
    return _listing(stmt, heading=tag.name, kind=_("Tag"))


@bp.get("/author/<username>")
def author(username: str):
    user = db.session.scalar(select(User).where(User.username == username)) or abort(404)
    stmt = queries.by_author(queries.visible_posts(utcnow()), user)
    return _listing(stmt, heading=user.display_name, kind=_("Author"))


@bp.get("/archive/")
def archive():
    months = queries.archive_months(utcnow(), site_timezone())
    return render_template("blog/archive.html", months=months)


@bp.get("/archive/<int:year>/<int:month>/")
def archive_month(year: int, month: int):
    if not (1900 <= year <= 9999 and 1 <= month <= 12):
        abort(404)
    tz = site_timezone()
    start = datetime(year, month, 1, tzinfo=tz)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=tz)
    stmt = queries.between(queries.visible_posts(utcnow()), start, end)
    return _listing(stmt, heading=format_date(start.date(), "MMMM yyyy"), kind=_("Archive"))


@bp.get("/<slug>")
def page(slug: str):
    page = db.session.scalar(select(Page).where(Page.slug == slug)) or abort(404)
    return render_template("blog/page.html", page=page)
