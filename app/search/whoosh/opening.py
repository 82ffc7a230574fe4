"""The live index on disk and this thread's searchers on it; `Unavailable` when there is none.

Each thread keeps one searcher per index and opens a fresh one when the index has changed.
"""
import contextlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from whoosh.filedb.filestore import FileStorage

from app.search import storage
from app.search.steps import Unavailable
from app.search.storage import location
from app.search.whoosh.analysis import WEIGHTING
from app.search.whoosh.schema import READER, SCHEMA_VERSION, STAFF


def open_index(path: Path):
    """The Whoosh index in `path` (one of a generation's `reader`/`staff` directories)."""
    return FileStorage(str(path)).open_index()


def live(root: Path) -> Path | None:
    """The live generation's directory, or None (never built, or of an older schema)."""
    return storage.live(root, SCHEMA_VERSION)


@dataclass
class _Cached:
    path: Path
    ix: object
    stamp: tuple
    searcher: object


_local = threading.local()


def _stamp(ix, path: Path) -> tuple:
    """Changes whenever the index does: its generation and its table of contents file."""
    generation = ix.latest_generation()
    toc = os.stat(path / f"_MAIN_{generation}.toc")
    return generation, toc.st_ino, toc.st_size, toc.st_mtime_ns


def searcher(name: str):
    """This thread's searcher on the live `name` index, opened afresh when the index has changed.

    (Not `Searcher.refresh()`: it reuses segment readers with their old deletions, so a deleted
    comment would stay findable.)
    """
    gen = live(location())
    if gen is None:
        raise Unavailable("no search index (run: flask --app wsgi search rebuild)")
    path = gen / name
    cache: dict = _local.__dict__.setdefault("searchers", {})
    entry = cache.get(name)
    if entry is not None and entry.path == path and _stamp(entry.ix, path) == entry.stamp:
        return entry.searcher
    _close(name)
    ix = open_index(path)
    opened = ix.searcher(weighting=WEIGHTING)
    cache[name] = _Cached(path, ix, _stamp(ix, path), opened)
    return opened


def _close(name: str) -> None:
    entry = _local.__dict__.get("searchers", {}).pop(name, None)
    if entry is not None:
        with contextlib.suppress(Exception):  # a broken index may fail to close; it is dropped either way
            entry.searcher.close()


def close() -> None:
    """Close this thread's searchers (tests, benchmarks, before deleting an index)."""
    for name in (READER, STAFF):
        _close(name)
