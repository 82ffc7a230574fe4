"""Whether the live tables are there (`Unavailable` when not), and logging that without flooding."""
import logging
import time

from app.search.postgresql.schema import live_tables_exist

log = logging.getLogger(__name__)


class Unavailable(Exception):
    """The tables are missing (never built, or of an older schema version) or unreadable."""


def require_live(conn) -> None:
    """Raise `Unavailable` unless the live tables exist (checked on every use: a cheap catalogue lookup)."""
    if not live_tables_exist(conn):
        raise Unavailable("no search tables (run: flask --app wsgi search rebuild)")


def close() -> None:
    """Nothing to close: searches use the request's database session (kept for the common interface)."""


_last_logged: dict[str, float] = {}


def once_a_minute(what: str) -> bool:
    """True at most once a minute per process and topic: missing tables would log on every request."""
    now = time.monotonic()
    if now - _last_logged.get(what, -1e9) < 60:
        return False
    _last_logged[what] = now
    return True


def log_unavailable(exc: Exception) -> None:
    """Log a failed search (once a minute; with the traceback unless the tables are simply missing)."""
    if once_a_minute("unavailable"):
        log.error("search unavailable: %s", exc, exc_info=not isinstance(exc, Unavailable))
