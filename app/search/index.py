"""The search API the rest of the app calls: plain functions, whatever engine answers them.

Callers import this module (`from app.search import index as search`) and nothing below it, so
the engine can change without touching them. `SEARCH_BACKEND` picks it, per call from the app's
config: "whoosh" (files in DATA_DIR, one machine: `app/search/whoosh/`, the only package that
imports Whoosh) or "postgresql" (tables in the app's PostgreSQL database, any number of app
servers: `app/search/postgresql/`). Both take and return the same things (`results.py`). No
Whoosh import here.
"""
import functools

from flask import current_app

from app.search import postgresql
from app.search.results import KINDS, SORTS, Hit, RebuildSummary, Results, Similar
from app.search.steps import Unavailable  # both backends raise this one
from app.search.storage import RebuildRunning, location
from app.search.whoosh import opening, rebuild as whoosh_rebuild, searching, similar, writing
from app.search.whoosh.analysis import ANALYZERS, CachedStemFilter, FoldFilter
from app.search.whoosh.schema import READER, SCHEMA_VERSION, STAFF
from app.search.whoosh.searching import MAX_PAGE

BACKENDS = {
    "whoosh": {"refresh": writing.refresh, "purge": writing.purge, "search": searching.search,
               "staff_search": searching.staff_search, "similar_answered": similar.similar_answered,
               "rebuild": whoosh_rebuild.rebuild, "status": whoosh_rebuild.status, "close": opening.close},
    "postgresql": {name: getattr(postgresql, name) for name in ("refresh", "purge", "search", "staff_search",
                                                                "similar_answered", "rebuild", "status", "close")},
}


def check_backend(config) -> None:
    """At start-up: a known SEARCH_BACKEND, and "postgresql" only on a PostgreSQL database."""
    name = config.get("SEARCH_BACKEND") or "whoosh"
    if name not in BACKENDS:
        raise RuntimeError(f"SEARCH_BACKEND must be one of {', '.join(BACKENDS)}, not {name!r}")
    scheme = str(config.get("SQLALCHEMY_DATABASE_URI") or "").split(":", 1)[0]
    if name == "postgresql" and not scheme.startswith("postgresql"):
        raise RuntimeError(f"SEARCH_BACKEND = 'postgresql' keeps the index in the app's database, which must be "
                           f"PostgreSQL (DATABASE_URL = postgresql+psycopg://…), not {scheme or 'unset'}; "
                           "use SEARCH_BACKEND = 'whoosh' with SQLite")


def _dispatch(name: str):
    @functools.wraps(BACKENDS["whoosh"][name])
    def call(*args, **kwargs):
        return BACKENDS[current_app.config.get("SEARCH_BACKEND") or "whoosh"][name](*args, **kwargs)

    return call


refresh, purge, search, staff_search = (_dispatch(n) for n in ("refresh", "purge", "search", "staff_search"))
similar_answered, rebuild, status, close = (_dispatch(n) for n in ("similar_answered", "rebuild", "status", "close"))

# `FoldFilter` and `CachedStemFilter` stay importable from here although nothing calls them: an
# index written before the backend moved into its own package holds its analyzers pickled as
# `app.search.index.FoldFilter`, and without these names it could not be opened until rebuilt.
__all__ = ["ANALYZERS", "BACKENDS", "KINDS", "MAX_PAGE", "READER", "SCHEMA_VERSION", "SORTS", "STAFF",
           "CachedStemFilter", "FoldFilter", "Hit", "RebuildRunning", "RebuildSummary", "Results", "Similar",
           "Unavailable", "check_backend", "close", "location", "purge", "rebuild", "refresh", "search",
           "similar_answered", "staff_search", "status"]
