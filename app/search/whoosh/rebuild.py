"""Building both indexes from the database beside the live ones (`rebuild`), and `status`.

Rebuild writes a new generation beside the live one (searches keep working meanwhile), switches
to it atomically, then applies the changes queued during the build.
"""
import logging
import multiprocessing
import os
import time
from collections.abc import Callable
from pathlib import Path

from whoosh.filedb.filestore import FileStorage

from app.extensions import db
from app.search import documents, storage
from app.search.results import RebuildSummary
from app.search.settings import setting
from app.search.storage import location
from app.search.whoosh.opening import close, live, searcher
from app.search.whoosh.schema import (
    READER,
    SCHEMA_VERSION,
    STAFF,
    reader_fields,
    reader_schema,
    staff_fields,
    staff_schema,
)
from app.search.whoosh.writing import apply_changes

log = logging.getLogger(__name__)


def rebuild(progress: Callable[[int, int], None] | None = None) -> RebuildSummary:
    """Build both indexes from the database beside the live ones, switch over, apply changes made meanwhile.

    `progress(done, total)` is called every thousand documents. Raises on failure (the live index,
    if any, stays in place) and `RebuildRunning` if another rebuild is under way.
    """
    root = location()
    progress = progress or (lambda done, total: None)
    with storage.rebuild_lock(root):
        started = time.perf_counter()
        storage.take(root)  # queued earlier: the full read below includes them
        gen = storage.new_generation(root)
        try:
            counts = _build(gen, progress)
            storage.switch_to(root, gen, SCHEMA_VERSION)
        except BaseException:
            storage.remove_others(root, keep=live(root) or root)
            raise
        replayed = _replay(root)
        storage.end_rebuilding(root)
        replayed += _replay(root)  # queued between the first replay and the marker's removal
    storage.remove_others(root, keep=gen)
    close()
    return RebuildSummary(posts=counts[0], comments=counts[1], staff_comments=counts[2],
                          seconds=time.perf_counter() - started, size_bytes=storage.size_of(gen), location=str(gen),
                          replayed=replayed)


# index → schema, [(documents function, fields, slot in the counts)]; functions by name, so a
# test can replace one on the `documents` module
_PARTS = {
    READER: (reader_schema, [("all_reader_posts", reader_fields, 0), ("all_reader_comments", reader_fields, 1)]),
    STAFF: (staff_schema, [("all_staff_comments", staff_fields, 2)]),
}


def _build(gen: Path, progress) -> tuple[int, int, int]:
    """Both indexes of a new generation: counts of (posts, approved comments, all comments)."""
    with db.engine.connect() as conn:
        total = sum(documents.count_all(conn))
    done = [0]

    def tick(n: int) -> None:
        done[0] += n
        progress(done[0], total)

    progress(0, total)
    reader = _build_one(gen, READER, tick)
    staff = _build_one(gen, STAFF, tick)
    progress(done[0], max(total, done[0]))
    return reader[0], reader[1], staff[2]


def _build_one(gen: Path, name: str, tick) -> tuple[int, int, int]:
    """Write one index from the database, with `SEARCH_REBUILD_PROCESSES` writer processes.

    Analysis is pure Python: Whoosh's multiprocessing writer spreads the documents over the cores,
    each process writing its own segment (kept as they are: merging would cost another full pass).
    """
    schema, parts = _PARTS[name]
    counts = [0, 0, 0]
    (gen / name).mkdir(parents=True)
    ix = FileStorage(str(gen / name)).create_index(schema())
    procs = _processes()
    writer = ix.writer(limitmb=int(setting("SEARCH_REBUILD_MEMORY_MB")), procs=procs, multisegment=procs > 1)
    try:
        with db.engine.connect() as conn:
            for function, to_fields, slot in parts:
                for doc in getattr(documents, function)(conn):
                    writer.add_document(**to_fields(doc))
                    counts[slot] += 1
                    if counts[slot] % 1000 == 0:
                        tick(1000)
                tick(counts[slot] % 1000)
        writer.commit()
    except BaseException:
        writer.cancel()
        raise
    finally:
        ix.close()
    return counts[0], counts[1], counts[2]


def _processes() -> int:
    configured = setting("SEARCH_REBUILD_PROCESSES")
    if configured:
        return max(1, int(configured))
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1  # Whoosh's writer processes rely on fork
    return max(1, min(4, os.cpu_count() or 1))


def _replay(root: Path) -> int:
    posts, comments = storage.take(root)
    if posts or comments:
        try:
            apply_changes(root, posts, comments, replaying=True)
        except Exception:
            log.exception("search: applying the changes made during the rebuild failed; queued again")
            storage.queue(root, posts, comments)
    return len(posts) + len(comments)


def status() -> dict:
    """For `flask search status`: live generation, documents, size, queued changes."""
    root = location()
    gen = live(root)
    info = {"location": str(root), "available": False, "generation": gen.name if gen else None,
            "reader_documents": None, "staff_documents": None, "size_bytes": storage.size_of(gen) if gen else 0,
            "pending": storage.queued(root), "rebuilding": storage.rebuilding(root)}
    if gen is not None:
        try:
            info["reader_documents"] = searcher(READER).doc_count()
            info["staff_documents"] = searcher(STAFF).doc_count()
            info["available"] = True
        except Exception as exc:  # noqa: BLE001 – whatever is wrong with the files, status reports it
            log.error("search status: index unreadable: %s", exc)
    return info
