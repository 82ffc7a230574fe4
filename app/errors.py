"""Error pages in the site's layout; a failed request rolls its database session back."""
from flask import Flask, abort, current_app, render_template, request
from flask.globals import request_ctx
from flask_login import current_user
from werkzeug.exceptions import BadRequest, HTTPException, InternalServerError, SecurityError

from app.auth.permissions import Permission, can
from app.extensions import db
from app.site import old_links

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
SUBMIT_METHODS = ("POST", "PUT", "PATCH", "DELETE")  # the methods Flask-WTF reads a body for


def _may_write() -> bool:
    """Bloggers (not strangers, not moderators) get the larger body limits of the editor and the upload."""
    try:
        return can(current_user, Permission.WRITE_POSTS)
    except Exception:  # noqa: BLE001 – the account could not be loaded (database down): treat as anonymous
        return False


def _reject_other_bodies():
    """Every form here is an HTML form without file fields (but the views that set `takes_files`); another body
    is answered 415 before a view reads it.

    Flask-WTF would otherwise load a JSON body or uploaded files into the form, and their lists,
    numbers, nulls and file objects crash code written for strings. Requests that were not routed
    are left to their routing error (404, 405, a foreign Host), as Flask-WTF's CSRF check does.
    A view may name a larger `body_limit` (the editor, the image upload), applied before anything
    reads the body, for those who may write only.
    """
    if request.method not in SUBMIT_METHODS or not request.endpoint:
        return
    if request.mimetype in FORM_TYPES:
        view = current_app.view_functions.get(request.endpoint)
        body_limit = getattr(view, "body_limit", None)
        if body_limit is not None and _may_write():
            request.max_content_length = body_limit()
        if request.files and not getattr(view, "takes_files", False):
            abort(415)
    elif request.mimetype or request.content_length or request.headers.get("Transfer-Encoding"):
        abort(415)


def _reject_nul_bytes():
    """No browser sends NUL; PostgreSQL refuses it in text. Answer 400 instead of failing deeper."""
    if not request.endpoint:  # not routed (404, 405, a foreign Host): that error answers, as with CSRF
        return
    if "\x00" in request.path or any("\x00" in v for v in request.args.values()):
        abort(400)
    if request.method == "POST" and any("\x00" in v for v in request.form.values()):
        abort(400)


def init_app(app: Flask) -> None:
    # First of all hooks, before the CSRF check: its error handler re-reads the comment form.
    app.before_request_funcs.setdefault(None, []).insert(0, _reject_other_bodies)
    app.before_request(_reject_nul_bytes)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code == 404 and request_ctx.url_adapter is not None:
            moved = old_links.answer_404()  # an imported blog's address, or ours with a trailing slash
            if moved is not None:
                return moved
        # Keep headers such as Allow (405) or Retry-After (429); the body is ours.
        headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
        # Our own abort(400, description=…) says what was wrong, in the reader's language; a
        # library's description (CSRF, Werkzeug) is English and technical, so it is not shown.
        detail = error.description if type(error) is BadRequest and error.description != BadRequest.description \
            else None
        return render_template("errors/error.html", code=error.code, error=error, detail=detail), error.code, headers

    @app.errorhandler(SecurityError)
    def untrusted_host(error: SecurityError):
        # A Host outside TRUSTED_HOSTS leaves the request without URL building; bind it to no host
        # so the layout's links come out as plain paths and the forged name appears nowhere.
        if request_ctx.url_adapter is None:
            request_ctx.url_adapter = app.url_map.bind("", script_name=request.root_path or "/",
                                                       url_scheme=request.scheme)
        return http_error(error)

    @app.errorhandler(InternalServerError)
    def server_error(error):
        db.session.rollback()
        return render_template("errors/error.html", code=500, error=error), 500
