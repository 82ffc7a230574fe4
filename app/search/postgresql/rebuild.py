"""Building both tables from the database beside the live ones (`rebuild`), and `status`.

Rebuild fills new tables (`*_new`, indexes built after loading), then, in the same transaction,
applies the changes queued meanwhile, drops the live tables and renames the new ones into their
place: searches read the old tables until that commit and the new ones after it.
"""
import logging
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import text

from app.extensions import db
from app.search import documents
from app.search.postgresql.schema import (
    BUILDING,
    LIVE,
    LOCK_BUILDING,
    LOCK_REBUILD,
    LOCK_WRITE,
    SCHEMA_VERSION,
    create_indexes,
    create_tables,
    ensure_base,
    insert_reader,
    insert_staff,
    live_tables_exist,
    lock,
    reader_row,
    schema_name,
    staff_row,
    table,
)
from app.search.postgresql.writing import apply_changes, count_words, set_lock_timeout, take
from app.search.results import RebuildSummary
from app.search.steps import Unavailable
from app.search.storage import RebuildRunning

log = logging.getLogger(__name__)
BATCH = 500  # rows per INSERT round trip


def rebuild(progress: Callable[[int, int], None] | None = None) -> RebuildSummary:
    """Build both tables from the database beside the live ones, switch over, apply changes made meanwhile.

    Creates what is missing first (the pg_trgm extension, the schema, the queue). `progress(done,
    total)` is called every thousand documents. Raises on failure (the live tables, if any, stay
    in place) and `RebuildRunning` if another rebuild is under way.
    """
    progress = progress or (lambda done, total: None)
    started = time.perf_counter()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as holder:
        if not holder.execute(lock(LOCK_REBUILD, "pg_try_advisory_lock")).scalar():
            raise RebuildRunning("another search rebuild is running")
        try:
            with db.engine.begin() as conn:
                ensure_base(conn)
            holder.execute(lock(LOCK_BUILDING, "pg_advisory_lock"))  # from now on refreshes queue their ids
            try:
                with db.engine.begin() as conn:
                    take(conn)  # queued earlier: the full read below includes them
                    counts = _build(conn, progress)
                    replayed = _replay(conn, BUILDING)
                    _switch(conn)
            finally:
                holder.execute(lock(LOCK_BUILDING, "pg_advisory_unlock"))
            with db.engine.begin() as conn:  # queued between the replay and the unlock
                set_lock_timeout(conn)
                conn.execute(lock(LOCK_WRITE))
                replayed += _replay(conn, LIVE)
        finally:
            holder.execute(lock(LOCK_REBUILD, "pg_advisory_unlock"))
    with db.engine.connect() as conn:
        size = _size(conn)
    return RebuildSummary(posts=counts[0], comments=counts[1], staff_comments=counts[2],
                          seconds=time.perf_counter() - started, size_bytes=size, location=_location(),
                          replayed=replayed)


def _build(conn, progress) -> list[int]:
    """The new tables, filled and indexed: counts of (posts, approved comments, all comments)."""
    for name in BUILDING.values():
        conn.execute(text(f"DROP TABLE IF EXISTS {table(name)}"))  # left by a rebuild that died
    create_tables(conn, BUILDING)
    counts, words = [0, 0, 0], Counter()
    with db.engine.connect() as source:
        total = sum(documents.count_all(source))
        progress(0, total)
        parts = [("all_reader_posts", reader_row, insert_reader, 0),
                 ("all_reader_comments", reader_row, insert_reader, 1),
                 ("all_staff_comments", staff_row, insert_staff, 2)]
        for function, to_row, insert, slot in parts:  # by name, so a test can replace one on `documents`
            statement = insert(BUILDING["staff" if slot == 2 else "reader"])
            batch = []
            for doc in getattr(documents, function)(source):
                batch.append(to_row(doc))
                if len(batch) == BATCH:
                    _flush(conn, statement, batch, words)
                counts[slot] += 1
                if counts[slot] % 1000 == 0:
                    progress(sum(counts), max(total, sum(counts)))
            _flush(conn, statement, batch, words)
    count_words(conn, BUILDING["words"], words)
    create_indexes(conn, BUILDING)
    progress(sum(counts), max(total, sum(counts)))
    return counts


def _flush(conn, statement, batch: list[dict], words: Counter) -> None:
    if batch:
        conn.execute(statement, batch)
        for row in batch:
            words.update(row.get("words", ()))
        batch.clear()


def _replay(conn, names: dict[str, str]) -> int:
    posts, comments = take(conn)
    if posts or comments:
        apply_changes(conn, posts, comments, names)
    return len(posts) + len(comments)


def _switch(conn) -> None:
    """The new tables take the live ones' names; tables of older schema versions go."""
    for kind, name in LIVE.items():
        conn.execute(text(f"DROP TABLE IF EXISTS {table(name)}"))
        conn.execute(text(f'ALTER TABLE {table(BUILDING[kind])} RENAME TO "{name}"'))
    old = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = :schema "
                            "AND tablename ~ '^(reader|staff|words)_v[0-9]+$' AND NOT tablename = ANY(:live)"),
                       {"schema": schema_name(), "live": list(LIVE.values())}).scalars().all()
    for name in old:
        conn.execute(text(f"DROP TABLE {table(name)}"))
    conn.execute(text(f"INSERT INTO {table('meta')} (key, value) VALUES ('built_at', :at) "
                      "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value"),
                 {"at": f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"})


def _location() -> str:
    return f"PostgreSQL schema {schema_name()}"


def _size(conn) -> int:
    return int(conn.execute(text("SELECT coalesce(sum(pg_total_relation_size(to_regclass(t))), 0) "
                                 "FROM unnest(CAST(:tables AS text[])) t"),
                            {"tables": [table(name) for name in LIVE.values()]}).scalar())


def status() -> dict:
    """For `flask search status`: the live tables, documents, size, queued changes."""
    info = {"location": _location(), "available": False, "generation": None, "reader_documents": None,
            "staff_documents": None, "size_bytes": 0, "pending": 0, "rebuilding": False}
    try:
        with db.engine.connect() as conn:
            info["rebuilding"] = not conn.execute(lock(LOCK_BUILDING, "pg_try_advisory_xact_lock_shared")).scalar()
            if conn.execute(text("SELECT to_regclass(:t) IS NOT NULL"), {"t": table("pending")}).scalar():
                info["pending"] = conn.execute(text(f"SELECT count(*) FROM {table('pending')}")).scalar()
            if not live_tables_exist(conn):
                raise Unavailable("no search tables")
            built = conn.execute(text(f"SELECT value FROM {table('meta')} WHERE key = 'built_at'")).scalar()
            info["generation"] = f"search tables v{SCHEMA_VERSION}" + (f" (built {built})" if built else "")
            info["reader_documents"] = conn.execute(text(f"SELECT count(*) FROM {table(LIVE['reader'])}")).scalar()
            info["staff_documents"] = conn.execute(text(f"SELECT count(*) FROM {table(LIVE['staff'])}")).scalar()
            info["size_bytes"] = _size(conn)
            info["available"] = True
    except Unavailable:
        pass
    except Exception as exc:  # noqa: BLE001 – whatever is wrong with the tables, status reports it
        log.error("search status: tables unreadable: %s", exc)
    return info
