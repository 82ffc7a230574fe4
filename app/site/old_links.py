"""Old addresses keep working (301): the imported blog's (`/?p=12`, `/2019/05/03/router/`,
`/category/technik/`, `/feed/` …, looked up in `imports.old_links`) and ours with a trailing slash.

Only requests that would otherwise fail look here: a 404 (`answer_404`, called by the error
handler) and the home page with a query WordPress routes by (`/?p=12` would show the home page).
A post reached from an old address gets `?from=wordpress`, so `static/js/comments.js` knows that
`#comment-123` names the old blog's comment 123 and asks `comments.imported` where it is now.
"""
import logging

from flask import Flask, abort, current_app, redirect, request, url_for
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect

from app.extensions import db
from app.imports import old_links

log = logging.getLogger(__name__)
MARKER = "from=wordpress"


def _target(path: str, query: str | None, guess: bool = True) -> str | None:
    try:
        found = old_links.find(path, query, guess=guess)
    except SQLAlchemyError:  # the database is down: the 404 (or the home page) answers as it would
        db.session.rollback()
        log.exception("old links: lookup failed")
        return None
    if found and found.startswith("/posts/") and "/" not in found.removeprefix("/posts/"):
        return f"{found}?{MARKER}"
    return found


def _home_query():
    if request.path != "/" or request.method not in ("GET", "HEAD") or not request.args:
        return None
    if "s" in request.args:  # WordPress's search: /?s=router
        return redirect(url_for("search.results", q=request.args.get("s", "")), 301)
    query = old_links.routing_query(request.args)
    if query is None:
        return None
    target = _target("/", query.removeprefix("/?"))
    if target is None:
        abort(404)  # an old post that did not come along, not the home page under its address
    return redirect(target, 301)


def answer_404():
    """A 301 to where an old address's content lives now, or None (the 404 stands)."""
    if request.method not in ("GET", "HEAD"):
        return None
    path = request.path
    routing = old_links.routing_query(request.args) if path == "/index.php" else None  # /index.php?p=12
    target = _target(path, routing.removeprefix("/?") if routing else None, guess=False)
    if target is None and request.url_rule is None and path.endswith("/") and path != "/" \
            and _routes(path.rstrip("/")):
        query = request.query_string.decode("latin-1")
        target = path.rstrip("/") + (f"?{query}" if query else "")  # ours, with a trailing slash
    if target is None:
        target = _target(path, None)
    return redirect(target, 301) if target and target != request.full_path.rstrip("?") else None


def _routes(path: str) -> bool:
    """True when one of our GET routes answers `path` as it is (not by redirecting it)."""
    adapter = current_app.url_map.bind("localhost")
    try:
        adapter.match(path, method="GET")
    except (NotFound, MethodNotAllowed, RequestRedirect):
        return False
    return True


def init_app(app: Flask) -> None:
    app.before_request(_home_query)
