"""Whether the live tables are there (`Unavailable` when not)."""
from app.search.postgresql.schema import live_tables_exist
from app.search.steps import Unavailable


def require_live(conn) -> None:
    """Raise `Unavailable` unless the live tables exist (checked on every use: a cheap catalogue lookup)."""
    if not live_tables_exist(conn):
        raise Unavailable("no search tables (run: flask --app wsgi search rebuild)")


def close() -> None:
    """Nothing to close: searches use the request's database session (kept for the common interface)."""
