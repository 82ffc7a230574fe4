"""The search API the rest of the app calls: plain functions, whatever engine answers them.

Callers import this module (`from app.search import index as search`) and nothing below it, so
the engine can change without touching them. Today it is Whoosh, in `app/search/whoosh/` (the
only package that imports it; see its docstring for how the index works and the pitfalls worked
around). No Whoosh import here.
"""
from app.search.results import KINDS, SORTS, Hit, RebuildSummary, Results, Similar
from app.search.storage import RebuildRunning, location
from app.search.whoosh.analysis import ANALYZERS, CachedStemFilter, FoldFilter
from app.search.whoosh.opening import Unavailable, close
from app.search.whoosh.rebuild import rebuild, status
from app.search.whoosh.schema import READER, SCHEMA_VERSION, STAFF
from app.search.whoosh.searching import MAX_PAGE, search, staff_search
from app.search.whoosh.similar import similar_answered
from app.search.whoosh.writing import purge, refresh

# `FoldFilter` and `CachedStemFilter` stay importable from here although nothing calls them: an
# index written before the backend moved into its own package holds its analyzers pickled as
# `app.search.index.FoldFilter`, and without these names it could not be opened until rebuilt.
__all__ = ["ANALYZERS", "KINDS", "MAX_PAGE", "READER", "SCHEMA_VERSION", "SORTS", "STAFF", "CachedStemFilter",
           "FoldFilter", "Hit", "RebuildRunning", "RebuildSummary", "Results", "Similar", "Unavailable", "close",
           "location", "purge", "rebuild", "refresh", "search", "similar_answered", "staff_search", "status"]
