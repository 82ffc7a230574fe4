"""HTTP caching for every response: validators and 304s, compression, static files kept a year.

- Pages the page cache does not serve (signed-in staff, readers with something of their own)
  still get a weak ETag of their body, so a repeat can be answered 304 (bandwidth, not CPU).
- Text answers of 1 KB and more are gzip-compressed when the client accepts it (nginx in front
  may do it instead: it leaves an encoded answer alone). Static files are compressed once per
  file version and kept in memory.
- Static URLs carry `?v=<content hash>` (`fingerprint.py`); such a URL is answered with a
  year's `immutable` cache, any other static URL with a short one.
- `Vary` only where the answer varies: pages, feeds and the API on language and cookies (added
  in app/i18n.py), compressed answers on Accept-Encoding; static files and uploads on nothing.
"""
import gzip
from pathlib import Path

from flask import Flask, Response, current_app, has_request_context, request
from flask.sessions import SecureCookieSessionInterface

from app.caching import fingerprint

COMPRESSIBLE = frozenset({"text/html", "text/css", "text/javascript", "application/javascript", "application/json",
                          "application/atom+xml", "application/rss+xml", "application/xml", "text/xml",
                          "image/svg+xml", "text/plain", "application/manifest+json"})
MIN_COMPRESS = 1024
STATIC_ENDPOINTS = frozenset({"static", "images.file"})
DEFAULTS = {
    "COMPRESS": True,
    "COMPRESS_LEVEL": 5,  # gzip level: 5 is ~90% of level 9's saving at a third of its time
}
_static_gzip: dict[tuple[str, int], bytes] = {}


def init_app(app: Flask) -> None:
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)

    @app.url_defaults
    def _static_fingerprint(endpoint, values):
        if endpoint == "static" and "filename" in values and "v" not in values:
            version = fingerprint.static_version(app.static_folder, values["filename"])
            if version:
                values["v"] = version

    app.session_interface = _SessionInterface()
    # Registered before the other after_request hooks, so it runs after them (Flask runs them in
    # reverse): the body is final when it is compressed.
    app.after_request_funcs.setdefault(None, []).insert(0, finish)


class _SessionInterface(SecureCookieSessionInterface):
    """Flask marks every response `Vary: Cookie` once anything looked at the session (Flask-Login
    does on every request); a static file that set no cookie does not vary on them. (Also called
    without a request context, by the page cache's hits.)"""

    def get_signing_serializer(self, app):
        # Flask builds a new serializer twice per request; one per key is enough (its setup costs
        # more than a signature). The cache key changes with the secret and its fallbacks.
        key = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        if self._serializer_key != key:
            self._serializer, self._serializer_key = super().get_signing_serializer(app), key
        return self._serializer

    _serializer = _serializer_key = None

    def save_session(self, app, session, response):
        super().save_session(app, session, response)
        if has_request_context() and request.endpoint in STATIC_ENDPOINTS and "Set-Cookie" not in response.headers:
            kept = [name for name in response.vary if name.lower() != "cookie"]
            if kept:
                response.headers["Vary"] = ", ".join(kept)
            else:
                response.headers.pop("Vary", None)


def finish(response: Response) -> Response:
    if request.endpoint in STATIC_ENDPOINTS:
        _static_headers(response)
    elif request.method in ("GET", "HEAD") and response.status_code == 200:
        _validate(response)
    if current_app.config["COMPRESS"]:
        _compress(response)
    return response


def _static_headers(response: Response) -> None:
    if request.endpoint == "static":
        version = fingerprint.static_version(current_app.static_folder, (request.view_args or {}).get("filename", ""))
        if version and request.args.get("v") == version:
            response.headers["Cache-Control"] = f"public, max-age={fingerprint.YEAR}, immutable"
        else:
            response.headers["Cache-Control"] = "public, max-age=300"


def _validate(response: Response) -> None:
    """A weak ETag of the body for answers nobody else tagged, and a 304 when it matches."""
    if response.direct_passthrough or response.is_streamed or "ETag" in response.headers:
        return
    if response.mimetype not in COMPRESSIBLE or "no-store" in response.headers.get("Cache-Control", ""):
        return
    response.add_etag(weak=True)
    response.make_conditional(request)


def _compress(response: Response) -> None:
    if response.mimetype not in COMPRESSIBLE or "Content-Encoding" in response.headers:
        return
    if response.status_code != 200 or (response.is_streamed and not response.direct_passthrough):
        return
    response.vary.add("Accept-Encoding")
    if request.accept_encodings["gzip"] <= 0:
        return
    if response.direct_passthrough:
        data = _static_file_gzip(response)
        if data is None:
            return
        response.direct_passthrough = False
    else:
        body = response.get_data()
        if len(body) < MIN_COMPRESS:
            return
        data = gzip.compress(body, compresslevel=current_app.config["COMPRESS_LEVEL"], mtime=0)
    response.set_data(data)
    response.headers["Content-Encoding"] = "gzip"
    etag, weak = response.get_etag()
    if etag and not weak:  # the strong tag named the uncompressed bytes
        response.set_etag(etag, weak=True)


def _static_file_gzip(response: Response) -> bytes | None:
    """The compressed bytes of a static file (once per file version), or None to send it as it is."""
    if request.endpoint != "static":
        return None
    filename = (request.view_args or {}).get("filename", "")
    path = Path(current_app.static_folder) / filename
    try:
        stat = path.stat()
    except (OSError, ValueError):
        return None
    if stat.st_size < MIN_COMPRESS or stat.st_size > 2 * 1024 * 1024:
        return None
    key = (str(path), stat.st_mtime_ns)
    data = _static_gzip.get(key)
    if data is None:
        data = _static_gzip[key] = gzip.compress(path.read_bytes(), compresslevel=9, mtime=0)
    response.close()  # the file the view opened
    return data
