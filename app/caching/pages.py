"""The page cache for anonymous readers: public pages, feeds and the API rendered once per change.

Who gets cached pages: GET/HEAD on the public endpoints below, from a browser whose session holds
nothing but a CSRF token (so no one signed in, no reader with a comment of their own waiting or
a message to show). Everyone else gets a fresh page, always. The key is the build (code and
templates), the language the reader gets, host, path and query.

Hits are answered in front of Flask (`hits.py`); this module decides who and what is cached and
stores a miss. What is per request in a cached page: the comment form's CSRF token and its signed
timer with the one-time key. They are cut out when the page is stored and filled in fresh for
every reader on a hit (two readers never share a form key; a cached page never carries someone's
session).

Freshness: an entry holds for the generation it was rendered in (`invalidation.py` moves it on
at every committed change readers could see) and at most PAGE_CACHE_SECONDS, ending early when a
scheduled post comes due. Conditional requests (If-None-Match, If-Modified-Since) are answered
304 from the entry without rendering. A cache that fails (Redis down) means fresh pages, not 500s.
"""
import hashlib
import logging
import time
from datetime import UTC, datetime
from email.utils import formatdate, parsedate_to_datetime

from flask import Flask, Response, current_app, g, request, session
from sqlalchemy import func, select

from app.caching import deflate, fingerprint
from app.caching.stores import CSRF_MARK, MARKS, TS_MARK, Entry, LocalStore, RedisStore

log = logging.getLogger(__name__)

CACHEABLE_ENDPOINTS = frozenset({
    "blog.index", "blog.post", "blog.category", "blog.tag", "blog.archive", "blog.archive_month", "blog.page",
    "feeds.site_feed", "feeds.category_feed", "feeds.comments_feed", "feeds.sitemap", "feeds.robots",
    "api.post_comments",
})
CACHEABLE_TYPES = frozenset({"text/html", "application/json", "application/atom+xml", "application/rss+xml",
                             "application/xml", "text/xml", "text/plain"})
# A session holding only these is anonymous and has nothing of its own to show.
ANONYMOUS_SESSION_KEYS = frozenset({"csrf_token", "_permanent", "_fresh"})  # _fresh: Flask-Login, also for nobody
MAX_BODY = 4 * 1024 * 1024
PENDING = "dialog.page_cache.pending"  # WSGI environ: (key, entry) a miss wants stored
MAX_QUERY = 512
MIN_GZIP = 1024

DEFAULTS = {
    "PAGE_CACHE": True,  # anonymous readers' pages from the cache
    "PAGE_CACHE_SECONDS": 300,  # longest life of an entry (changes end it at once)
    "PAGE_CACHE_MEMORY_MB": 64,  # per process, without Redis
}


def init_app(app: Flask) -> None:
    from app.caching.hits import HitServer

    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    app.extensions["page_cache"] = (RedisStore(app.config) if app.config.get("REDIS_URL")
                                    else LocalStore(app.config["DATA_DIR"], app.config["PAGE_CACHE_MEMORY_MB"] << 20))
    app.wsgi_app = HitServer(app, app.wsgi_app)  # hits never reach Flask
    app.before_request_funcs.setdefault(None, []).insert(0, _note_generation)
    app.after_request(_store)


def store():
    return current_app.extensions["page_cache"]


def forget_local() -> None:
    found = current_app.extensions.get("page_cache")
    if isinstance(found, LocalStore):
        found.forget()



# --- who gets cached pages ----------------------------------------------------------------------

def _eligible() -> bool:
    config = current_app.config
    return (config["PAGE_CACHE"] and request.method in ("GET", "HEAD") and request.endpoint in CACHEABLE_ENDPOINTS
            and anonymous(session, request.cookies, config) and len(request.query_string) <= MAX_QUERY)


def anonymous(reader_session, cookies, config) -> bool:
    """Nobody signed in, no comment of their own waiting, no message to show."""
    if set(reader_session.keys()) - ANONYMOUS_SESSION_KEYS:
        return False
    return not cookies.get(config.get("REMEMBER_COOKIE_NAME", "remember_token"))


def key_for(req, config) -> str:
    """The build, the language the reader gets, host, path and query (a plain request will do)."""
    from app.i18n import locale_for

    raw = "\n".join((fingerprint.build(), locale_for(req, config), req.host, req.path,
                     req.query_string.decode("latin-1")))
    return hashlib.sha256(raw.encode()).hexdigest()[:40]


def not_modified(entry: Entry, req) -> bool:
    tags = req.if_none_match
    if tags:
        return tags.contains_weak(entry.etag) or "*" in tags
    since = req.headers.get("If-Modified-Since")
    if since:
        try:
            return parsedate_to_datetime(since).timestamp() >= entry.last_modified
        except (TypeError, ValueError, IndexError, OverflowError):
            return False
    return False


def for_this_url() -> Entry | None:
    """The anonymous readers' page of this request's URL, if the cache holds it for the current
    generation (a page rendered for someone else may start from it: app/comments/thread_html.py)."""
    try:
        entry, _generation = store().lookup(key_for(request, current_app.config))
    except Exception:
        log.warning("page cache unavailable", exc_info=True)
        return None
    return entry if entry is not None and entry.expires > time.time() else None


def note(**meta) -> None:
    """What the view knows of the page, kept with it if it is cached (see Entry.meta)."""
    if g.get("page_cache") is not None:
        g.page_cache_meta = meta


def interleave(parts: list[bytes], values: list[bytes]):
    """A cached body's fixed parts with a value in each gap (Entry.parts)."""
    for index, part in enumerate(parts):
        yield part
        if index < len(values):
            yield values[index]


def _note_generation():
    """A page that may be cached: remember the generation it is rendered from (a change during
    the render makes the stored entry stale at once)."""
    if not _eligible():
        return
    try:
        g.page_cache = (key_for(request, current_app.config), store().generation())
    except Exception:  # an unreachable cache means a fresh page
        log.warning("page cache unavailable; serving fresh", exc_info=True)


def _validators(response: Response, entry: Entry) -> None:
    response.headers["ETag"] = f'W/"{entry.etag}"'
    response.headers["Last-Modified"] = formatdate(entry.last_modified, usegmt=True)
    response.headers["Cache-Control"] = "no-cache"  # keep it, but ask each time (a 304 is cheap)


# --- the miss: store what was rendered --------------------------------------------------------------

def _store(response: Response) -> Response:
    state = g.pop("page_cache", None)
    if state is None:
        return response
    response.headers["X-Cache"] = "MISS"
    if not _storable(response):
        return response
    key, generation = state
    body = response.get_data()
    if any(mark in body for mark in MARKS):
        return response  # someone wrote our marks into a text: never cut anything out of it
    token = g.get(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"))
    if isinstance(token, str) and token and token.encode() in body:
        body = body.replace(token.encode(), CSRF_MARK)
    for stamp in g.get("form_timestamps", ()):
        body = body.replace(stamp.encode(), TS_MARK, 1)
    moment = time.time()
    entry = Entry(
        generation=generation, expires=_expires(moment), status=response.status_code,
        content_type=response.headers.get("Content-Type", "text/html; charset=utf-8"),
        etag=hashlib.sha256(body).hexdigest()[:32], last_modified=int(moment), body=body,
        meta=g.get("page_cache_meta") or {},
    )
    if len(body) >= MIN_GZIP:
        segments = deflate.segments(entry.parts()[0])
        entry.gzip_body, entry.gzip_lengths = b"".join(segments), [len(s) for s in segments]
    request.environ[PENDING] = (key, entry)  # stored by hits.py with the headers that finally go out
    _validators(response, entry)
    if not_modified(entry, request):  # the miss may answer a conditional request too
        response.status_code = 304
        response.set_data(b"")
    return response


def _storable(response: Response) -> bool:
    if response.status_code != 200 or response.direct_passthrough or response.is_streamed:
        return False
    if response.mimetype not in CACHEABLE_TYPES or "Set-Cookie" in response.headers:
        return False
    cache_control = response.headers.get("Cache-Control", "")
    if "no-store" in cache_control or "private" in cache_control:
        return False
    if response.content_length and response.content_length > MAX_BODY:
        return False
    return not (set(session.keys()) - ANONYMOUS_SESSION_KEYS)  # the view may have flashed something


def _expires(now: float) -> float:
    """PAGE_CACHE_SECONDS from now, or sooner when a scheduled post comes due."""
    from app.extensions import db
    from app.models import Post, PostStatus

    expires = now + current_app.config["PAGE_CACHE_SECONDS"]
    due = db.session.scalar(select(func.min(Post.published_at)).where(
        Post.status == PostStatus.PUBLISHED, Post.published_at > datetime.fromtimestamp(now, UTC)))
    if due is not None:
        if due.tzinfo is None:
            due = due.replace(tzinfo=UTC)
        expires = min(expires, due.timestamp())
    return expires
