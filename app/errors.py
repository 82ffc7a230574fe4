"""Error pages in the site's layout; a failed request rolls its database session back."""
from flask import Flask, abort, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

from app.extensions import db


def _reject_nul_bytes():
    """No browser sends NUL; PostgreSQL refuses it in text. Answer 400 instead of failing deeper."""
    if "\x00" in request.path or any("\x00" in v for v in request.args.values()):
        abort(400)
    if request.method == "POST" and any("\x00" in v for v in request.form.values()):
        abort(400)


def init_app(app: Flask) -> None:
    app.before_request(_reject_nul_bytes)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        # Keep headers such as Allow (405) or Retry-After (429); the body is ours.
        headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
        return render_template("errors/error.html", code=error.code, error=error), error.code, headers

    @app.errorhandler(InternalServerError)
    def server_error(error):
        db.session.rollback()
        return render_template("errors/error.html", code=500, error=error), 500
