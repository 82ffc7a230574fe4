"""JSON for other programs: a post's approved comments in thread order. Errors answer in JSON too."""
from flask import Blueprint, abort, jsonify
from werkzeug.exceptions import HTTPException

from app.comments import threads
from app.content import queries
from app.models import utcnow

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.get("/posts/<slug>/comments")
def post_comments(slug: str):
    post = queries.visible_post(slug, utcnow()) or abort(404, description="No published post with this slug.")
    items = threads.thread_in_order(post)
    comments = [_comment(item) for item in items]
    return jsonify(post=post.slug, total=sum(1 for c in comments if not c.get("removed")), comments=comments)


def _comment(item: threads.ThreadItem) -> dict:
    c = item.comment
    data = {"id": c.id, "parent_id": c.parent_id, "depth": c.depth}
    if item.placeholder:  # keeps the thread's shape: its approved replies point here
        return {**data, "removed": True, "author": None, "html": None, "created_at": None, "official": False}
    return {**data, "author": c.author_name, "html": c.body_html, "created_at": c.created_at.isoformat(),
            "official": c.is_official}


@bp.errorhandler(HTTPException)
def json_error(error: HTTPException):
    return jsonify(error=error.name, status=error.code, message=error.description), error.code
