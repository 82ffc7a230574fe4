"""Cache hits answered in front of Flask: a cached page costs about what a static file does.

A WSGI layer around the app (inside ProxyFix, so it sees the client's host and scheme). For a
GET or HEAD without a body from an anonymous browser (the same rule as `pages.anonymous`) it
looks the page up; a hit is answered here, with no request context, URL matching, hooks or
view. Everything else, misses included, goes on to Flask unchanged.

What a hit sends is what the miss sent: the miss leaves its entry in the WSGI environ and this
layer stores it with the headers as they finally went out (security headers, Vary, validators),
minus those that belong to one answer (cookies, length, encoding). Per reader it fills in the
comment form's CSRF token (signed as Flask-WTF signs it, from the token in the reader's session,
a new one for a new browser) and signed timers, and saves the session through Flask's own
session interface, so the cookie is the one Flask would set. gzip comes from parts compressed at
store time (`deflate.py`), not from compressing the page again.
"""
import hashlib
import logging
import os
import time
from functools import lru_cache
from http import HTTPStatus

from itsdangerous import URLSafeTimedSerializer
from werkzeug.exceptions import SecurityError
from werkzeug.wsgi import get_host

from app.caching import deflate, pages
from app.caching.stores import Entry

log = logging.getLogger(__name__)

# Headers that belong to one answer, not to the page.
PER_ANSWER = frozenset({"content-length", "content-encoding", "set-cookie", "x-cache", "date", "server",
                        "transfer-encoding", "connection", "content-type"})  # the entry has its type


class HitServer:
    def __init__(self, app, wsgi_app):
        self.app = app
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        answer = None
        if environ.get("REQUEST_METHOD") in ("GET", "HEAD") and self.app.config["PAGE_CACHE"]:
            try:
                answer = self.answer(environ)
            except Exception:  # an unreachable cache means a fresh page (Flask logs it again there)
                log.warning("page cache unavailable; serving fresh", exc_info=True)
        if answer is not None:
            status, headers, body = answer
            start_response(status, headers)
            return body

        def keep_what_went_out(status, headers, exc_info=None):
            pending = environ.pop(pages.PENDING, None)
            if pending is not None:
                self.put(*pending, headers)
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, keep_what_went_out)

    # --- the miss, once its headers are final ---------------------------------------------------

    def put(self, key: str, entry: Entry, headers) -> None:
        entry.headers = [(name, value) for name, value in headers if name.lower() not in PER_ANSWER]
        try:
            self.app.extensions["page_cache"].put(key, entry)
        except Exception:  # not cached this time; the reader still gets the page
            log.warning("page cache: could not store", exc_info=True)

    # --- the hit --------------------------------------------------------------------------------

    def answer(self, environ):
        if environ.get("CONTENT_LENGTH") not in (None, "", "0") or environ.get("CONTENT_TYPE") \
                or "HTTP_TRANSFER_ENCODING" in environ:
            return None  # a GET with a body: Flask refuses it
        app, config = self.app, self.app.config
        request = app.request_class(environ)
        try:
            request.host = get_host(environ, config["TRUSTED_HOSTS"])
        except SecurityError:
            return None  # Flask answers 400
        if len(request.query_string) > pages.MAX_QUERY:
            return None
        session = app.session_interface.open_session(app, request)
        if session is None or not pages.anonymous(session, request.cookies, config):
            return None
        key = pages.key_for(request, config)
        entry, _generation = app.extensions["page_cache"].lookup(key)
        if entry is None or entry.expires <= time.time():
            return None
        if pages.not_modified(entry, request):
            return _status(304), [*entry.headers, ("X-Cache", "HIT")], []
        parts, marks = entry.parts()
        values = [self._field(mark, session) for mark in marks]
        headers = [("Content-Type", entry.content_type), *entry.headers, ("X-Cache", "HIT")]
        if entry.gzip_body and request.accept_encodings["gzip"] > 0:
            body = deflate.assemble(parts, entry.segments(), values)
            headers.append(("Content-Encoding", "gzip"))
        else:
            body = b"".join(pages.interleave(parts, values))
        headers.append(("Content-Length", str(len(body))))
        headers.extend(self._session_cookie(session))
        return _status(entry.status), headers, ([] if request.method == "HEAD" else [body])

    def _field(self, mark: bytes, session) -> bytes:
        if mark == pages.CSRF_MARK:
            return _csrf_token(session, self.app).encode()
        from app.comments.browser_state import new_stamp

        return new_stamp(self.app.config["SECRET_KEY"]).encode()

    def _session_cookie(self, session) -> list[tuple[str, str]]:
        app = self.app
        if not app.session_interface.should_set_cookie(app, session):
            return []
        response = app.response_class()
        app.session_interface.save_session(app, session, response)
        return [("Set-Cookie", value) for value in response.headers.getlist("Set-Cookie")]


def _csrf_token(session, app) -> str:
    """Flask-WTF's generate_csrf, without a request context: the raw token lives in the session,
    the form carries it signed (tests/test_page_cache.py posts such a form through CSRFProtect)."""
    config = app.config
    field = config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    signer = _csrf_signer(config.get("WTF_CSRF_SECRET_KEY") or app.secret_key)
    if field not in session:
        session[field] = hashlib.sha1(os.urandom(64)).hexdigest()
    try:
        return signer.dumps(session[field])
    except TypeError:
        session[field] = hashlib.sha1(os.urandom(64)).hexdigest()
        return signer.dumps(session[field])


@lru_cache(maxsize=4)
def _csrf_signer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt="wtf-csrf-token")


def _status(code: int) -> str:
    return f"{code} {HTTPStatus(code).phrase.upper()}"
