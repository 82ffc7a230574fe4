"""JSON for other programs: a post's comments, a page of threads at a time. Errors answer in JSON too.

A page holds whole threads, as on the post page (`comments.threads.load_page`, the readers' rules:
approved comments only, a "removed" placeholder where a hidden comment has visible replies), so
a client never gets a reply without the comment it answers. Statements per page are constant.
The reference is docs/API.md.
"""
from flask import Blueprint, abort, jsonify, request
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.routing import RequestRedirect

from app.comments import threads
from app.content import queries
from app.extensions import db
from app.models import utcnow
from app.urls import absolute_url

bp = Blueprint("api", __name__, url_prefix="/api/v1")

PREFIX = "/api/"  # not "/api" alone: that is a page slug, the blog's to answer
PER_PAGE, MAX_PER_PAGE = 20, 100
MAX_PAGE = 10**6  # beyond any real thread count; keeps the number (and its SQL OFFSET) small
ALL_DEPTHS = 10**6  # the API reports real depths; only the HTML page caps the nesting it draws


@bp.get("/posts/<slug>/comments")
def post_comments(slug: str):
    """One page of a post's threads, with paging metadata and links (docs/API.md)."""
    page = _int_arg("page", 1, 1, MAX_PAGE)
    per_page = _int_arg("per_page", PER_PAGE, 1, MAX_PER_PAGE)
    order = request.args.get("order", "oldest")
    if order not in threads.ORDERS:
        abort(400, description=f"'order' must be one of: {', '.join(threads.ORDERS)}.")
    post = queries.visible_post(slug, utcnow()) or abort(404, description="No published post with this slug.")
    shown = threads.load_page(post, page=page, order=order, per_page=per_page, max_depth=ALL_DEPTHS)
    if shown.page != page:  # load_page answers a page past the end with the last one; an API says so
        abort(404, description=f"No page {page}: this post has {shown.pages} page(s) of comments "
                               f"at per_page={per_page}.")

    def link(number: int) -> str:
        return absolute_url("api.post_comments", slug=post.slug, page=number, per_page=per_page, order=order)

    return jsonify(
        post=post.slug, order=order, page=shown.page, per_page=per_page, pages=shown.pages,
        total=shown.approved, threads=shown.threads,
        links={"self": link(shown.page), "first": link(1), "last": link(shown.pages),
               "prev": link(shown.page - 1) if shown.has_prev else None,
               "next": link(shown.page + 1) if shown.has_next else None},
        comments=[_comment(item) for item in shown.items],
    )


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    """A whole-number query parameter within bounds, or 400 (never a silent guess at what was meant)."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    # isascii: str.isdigit also accepts "²" and other digits int() refuses
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 7 and low <= int(raw) <= high):
        abort(400, description=f"'{name}' must be a whole number from {low} to {high}.")
    return int(raw)


def _comment(item: threads.ThreadItem) -> dict:
    """What a reader sees of one comment: never an address, an IP hash or a status."""
    c = item.comment
    data = {"id": c.id, "parent_id": c.parent_id, "depth": c.depth}
    if item.placeholder:  # keeps the thread's shape: its approved replies point here
        return {**data, "removed": True, "author": None, "html": None, "created_at": None, "official": False}
    return {**data, "author": c.author_name, "html": c.body_html, "created_at": c.created_at.isoformat(),
            "official": c.is_official}


@bp.errorhandler(HTTPException)
def json_error(error: HTTPException):
    """Any HTTP error under /api/ as JSON: error name, status, message."""
    if isinstance(error, InternalServerError):
        db.session.rollback()  # as the site's own 500 handler does
    # Keep headers such as Allow (405) or Retry-After (429); the body is ours.
    headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
    return jsonify(error=error.name, status=error.code, message=error.description), error.code, headers


@bp.before_app_request
def unrouted_api_request():
    """Unknown /api/ paths and wrong methods answer JSON too.

    The blueprint's error handler never sees them: a request that matched no rule belongs to no
    blueprint, so the site's HTML error page would answer. Routing left its error on the request;
    this hook runs before Flask raises it. Redirects (a missing trailing slash) go their way.
    """
    error = request.routing_exception
    if (isinstance(error, HTTPException) and not isinstance(error, RequestRedirect)
            and request.path.startswith(PREFIX)):
        return json_error(error)
    return None
