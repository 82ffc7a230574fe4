from datetime import datetime

from flask import abort, current_app, make_response, redirect, render_template, request, session
from flask_babel import format_date, gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

from app.blog import bp, staff_tools
from app.caching import pages
from app.comments import browser_state as reader, service as comment_service, thread_html, threads
from app.content import editing, posts_admin, queries
from app.extensions import db
from app.i18n import current_language, site_timezone
from app.models import Category, Comment, Page, Tag, User, utcnow

MAX_PAGE = 1_000_000


def _page_number() -> int:
    """?page=abc counts as the first page; 0 and negatives are answered 404 by paginate."""
    page = request.args.get("page", 1, type=int)
    if page > MAX_PAGE:  # an OFFSET beyond any integer column would be a database error
        abort(404)
    return page


def _listing(stmt, template: str = "blog/list.html", **context):
    pagination = db.paginate(
        stmt, page=_page_number(), per_page=current_app.config["POSTS_PER_PAGE"],
        error_out=True, max_per_page=None, count=True,
    )
    counts = threads.approved_counts([p.id for p in pagination.items])
    return render_template(template, pagination=pagination, posts=pagination.items, comment_counts=counts,
                           **context)


@bp.get("/")
def index():
    return _listing(queries.front_page(utcnow()), template="blog/index.html")


@bp.get("/posts/<slug>")
def post(slug: str):
    post = queries.visible_post(slug, utcnow())
    if post is not None:
        return render_post_page(post)
    hidden = editing.post_by_slug(slug)  # a draft or not yet due: its staff see it, with a banner
    if hidden is not None and current_user.is_authenticated and posts_admin.may_edit(current_user, hidden):
        return render_post_page(hidden, unpublished=True)
    moved = editing.redirect_for(editing.post_path(slug))  # the slug was changed after publication
    # Only to a post readers may see: the new address of a post taken back to draft stays secret.
    if moved and moved.startswith("/posts/") and queries.visible_post(moved.removeprefix("/posts/"), utcnow()):
        return redirect(moved, 301)
    abort(404)


@bp.get("/preview/<token>")
def preview(token: str):
    """A secret preview link: the post with the "not published" banner for whoever holds it, until revoked."""
    post = editing.post_by_preview_token(token) or abort(404)
    page, status = render_post_page(post, unpublished=not post.is_visible(utcnow()), preview=True)
    response = make_response(page, status)
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Cache-Control"] = "no-store"  # revoking must take effect at once
    response.headers["Referrer-Policy"] = "no-referrer"  # the token stays out of other sites' logs
    return response


def _just_posted(thread_page) -> int | None:
    """The comment the reader has just sent, if it is on this page (its thank-you shows there)."""
    comment_id = session.pop(reader.JUST_POSTED, None)
    return comment_id if comment_id in thread_page.by_id else None


def render_post_page(post, form=None, status: int = 200, message: str | None = None, reply_to=None,
                     unpublished: bool = False, preview: bool = False):
    """The post with its comment threads and form; the comment routes re-show it with errors.
    `unpublished`: a draft or scheduled post shown to its staff or a preview link (banner, no comment form)."""
    config = current_app.config
    order = request.args.get("order", "oldest")
    rules = reader.rules()
    now = utcnow()
    own = reader.own_comment_ids()
    comments_open = not unpublished and not preview and comment_service.comments_open(post, rules, now)
    kept = thread_html.Kept(post, own_ids=own, comments_open=comments_open, locale=current_language(),
                            usable=not current_user.is_authenticated)
    thread_page = threads.load_page(
        post, page=request.args.get("cpage", 1, type=int), order=order, include_pending=staff_tools.sees_pending(),
        own_ids=own, per_page=config["COMMENT_THREADS_PER_PAGE"],
        max_depth=config["COMMENT_MAX_DEPTH"], show=request.args.get("show", "all"), known=kept.known,
    )
    editable = {item.comment.id for item in thread_page.items
                if comment_service.can_modify(item.comment, own, item.has_replies, rules, now)}
    pagination = Markup(render_template("comments/_pagination.html", threads=thread_page, post=post))
    pages.note(roots=thread_page.roots, page=thread_page.page, pages=thread_page.pages, approved=thread_page.approved,
               pagination=str(pagination))
    thread_context = {"post": post, "comments_open": comments_open, "editable": editable, "own_ids": own}
    if (request.method == "GET" and request.endpoint == "blog.post" and form is None and reply_to is None
            and status == 200 and message is None and not (unpublished or preview)
            and not {reader.JUST_POSTED, "_flashes"} & set(session)):
        cached = kept.page_from_cache(thread_page, pagination, just_posted=None, **thread_context)
        if cached is not None:
            return cached, status
    if form is None:
        form = reader.new_comment_form()
    if reply_to is None and form.parent:
        reply_to = db.session.get(Comment, form.parent)
        visible = reply_to is not None and reply_to.post_id == post.id and (
            reply_to.is_visible or reply_to.id in reader.own_comment_ids())
        reply_to = reply_to if visible else None
    older, newer = queries.neighbours(post, now) if not unpublished else (None, None)
    queries.with_tags(post)
    just_posted = _just_posted(thread_page)
    rendered = kept.render(thread_page, just_posted=just_posted, **thread_context)
    return render_template(
        "blog/post.html", post=post, older=older, newer=newer,
        show_toc=len(post.toc) >= config["TOC_MIN_HEADINGS"], threads=thread_page, thread_html=rendered,
        pagination_html=pagination, form=form,
        comments_open=comments_open, form_message=message,
        reply_to=reply_to, editable=editable, own_ids=own, comment_counts={post.id: thread_page.approved},
        just_posted=just_posted, unpublished=unpublished, preview=preview,
    ), status


@bp.get("/category/<slug>")
def category(slug: str):
    category = db.session.scalar(select(Category).where(Category.slug == slug))
    if category is None:  # renamed or merged in the back office: the old address answers 301
        from flask import redirect

        from app.content.categories import moved_to

        return redirect(moved_to(f"/category/{slug}") or abort(404), 301)
    stmt = queries.in_category(queries.visible_posts(utcnow()), category)
    parent = db.session.get(Category, category.parent_id) if category.parent_id else None
    return _listing(stmt, heading=category.name, description=category.description, category=category,
                    kind=_("Category"), parent=parent)


@bp.get("/tag/<slug>")
def tag(slug: str):
    tag = db.session.scalar(select(Tag).where(Tag.slug == slug)) or abort(404)
    stmt = queries.with_tag(queries.visible_posts(utcnow()), tag)
    if db.session.scalar(stmt.limit(1)) is None:  # a tag only drafts carry would tell of them
        abort(404)
    return _listing(stmt, heading=tag.name, kind=_("Tag"))


@bp.get("/author/<username>")
def author(username: str):
    user = db.session.scalar(select(User).where(User.username == username)) or abort(404)
    stmt = queries.by_author(queries.visible_posts(utcnow()), user)
    if db.session.scalar(stmt.limit(1)) is None:  # staff without published posts have no public page
        abort(404)
    return _listing(stmt, heading=user.display_name, kind=_("Author"))


@bp.get("/archive/")
def archive():
    months = queries.archive_months(utcnow(), site_timezone())
    return render_template("blog/archive.html", months=months)


@bp.get("/archive/<int:year>/<int:month>/")
def archive_month(year: int, month: int):
    if not (1900 <= year <= 9998 and 1 <= month <= 12):
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
