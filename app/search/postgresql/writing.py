"""Keeping the tables in step with the database (`refresh`) and erasing from them (`purge`).

`refresh()` runs after the app's commit (through the outbox) in a transaction of its own on its
own connection: it waits up to SEARCH_WRITE_TIMEOUT for the writers' advisory lock (one writer
at a time, so of two workers updating one comment the later writes the later state), reads the
rows after taking it, rewrites both tables and the word counts, and commits: once it returns,
every process finds the change. While a rebuild runs (it holds LOCK_BUILDING), the ids are queued
in the `pending` table instead, and the rebuild applies them to its new tables; a lock that
cannot be had, or an error, queues them too, for the next update. Never raises.
"""
import logging
from collections import Counter
from collections.abc import Iterable

from sqlalchemy import text

from app.extensions import db
from app.search import documents
from app.search.postgresql.schema import (
    LIVE,
    LOCK_BUILDING,
    LOCK_WRITE,
    insert_reader,
    insert_staff,
    live_tables_exist,
    lock,
    reader_row,
    staff_row,
    table,
)
from app.search.settings import setting
from app.search.steps import once_a_minute
from app.search.text import fold

log = logging.getLogger(__name__)


def refresh(posts: Iterable[int] = (), comments: Iterable[int] = ()) -> None:
    """Make the tables match the database for these posts and comments, right after a commit.

    A post that appears, disappears or changes category takes its comments along. Call after
    anything that changes what readers may see or what a text says (see the Whoosh backend's
    `refresh` for the list). Never raises: on failure the ids are queued and the error logged.
    """
    posts, comments = {int(p) for p in posts}, {int(c) for c in comments}
    if not posts and not comments:
        return
    try:
        _write(posts, comments)
    except Exception:
        log.exception("search: index update failed (posts %s, comments %s); queued for the next one",
                      sorted(posts)[:20], sorted(comments)[:20])
        try:
            with db.engine.begin() as conn:
                queue(conn, posts, comments)
        except Exception:
            log.exception("search: could not queue the changes either")


def _write(posts: set[int], comments: set[int]) -> None:
    attempts = max(1, int(setting("SEARCH_WRITE_ATTEMPTS")))
    for attempt in range(1, attempts + 1):
        try:
            with db.engine.begin() as conn:
                set_lock_timeout(conn)
                if not conn.execute(lock(LOCK_BUILDING, "pg_try_advisory_xact_lock_shared")).scalar():
                    queue(conn, posts, comments)  # a rebuild runs: it applies them to its new tables
                    return
                conn.execute(lock(LOCK_WRITE))
                if not live_tables_exist(conn):
                    if once_a_minute("no index"):
                        log.warning("search: no search tables; a rebuild will read everything "
                                    "(flask --app wsgi search rebuild)")
                    return
                queued_posts, queued_comments = take(conn)
                apply_changes(conn, posts | queued_posts, comments | queued_comments)
                return
        except Exception as exc:
            if attempt == attempts or "lock timeout" not in str(exc):
                raise
            log.warning("search: index write lock busy (attempt %d of %d)", attempt, attempts)


def set_lock_timeout(conn) -> None:
    millis = max(1, int(float(setting("SEARCH_WRITE_TIMEOUT")) * 1000))
    conn.execute(text("SELECT set_config('lock_timeout', :value, true)"), {"value": f"{millis}ms"})


def queue(conn, posts: Iterable[int], comments: Iterable[int]) -> None:
    """Remember changes the tables have not got yet (in the caller's transaction)."""
    rows = [{"kind": "p", "id": p} for p in sorted(posts)] + [{"kind": "c", "id": c} for c in sorted(comments)]
    if rows:
        conn.execute(text(f"INSERT INTO {table('pending')} (kind, id) VALUES (:kind, :id) ON CONFLICT DO NOTHING"),
                     rows)


def take(conn) -> tuple[set[int], set[int]]:
    """Every queued change (post ids, comment ids), emptying the queue (undone if the caller rolls back)."""
    posts, comments = set(), set()
    for kind, number in conn.execute(text(f"DELETE FROM {table('pending')} RETURNING kind, id")):
        (posts if kind == "p" else comments).add(number)
    return posts, comments


def apply_changes(conn, posts: set[int], comments: set[int], names: dict[str, str] = LIVE) -> None:
    """Rewrite the rows of these posts and comments in both tables (`names`: live, or a rebuild's new ones)."""
    reader, staff = table(names["reader"]), table(names["staff"])
    new_posts = {doc.id: doc for doc in documents.reader_posts(conn, posts)}
    before = dict(conn.execute(text(f"SELECT ref, category FROM {reader} WHERE doc_id = ANY(CAST(:ids AS text[]))"),
                               {"ids": [f"p{p}" for p in posts]}).all())
    # Posts that appeared, disappeared or moved category take their comments along; an edited
    # text alone rewrites one row.
    cascade = {pid for pid in posts
               if pid not in before or pid not in new_posts or before[pid] != new_posts[pid].category}
    removed = conn.execute(text(f"DELETE FROM {reader} WHERE post_id = ANY(CAST(:cascade AS integer[])) "
                                "OR doc_id = ANY(CAST(:ids AS text[])) RETURNING words"),
                           {"cascade": sorted(cascade),
                            "ids": [f"p{p}" for p in posts - cascade] + [f"c{c}" for c in comments]}).scalars()
    counts = Counter()
    for words in removed:
        counts.subtract(words)
    docs = {(d.kind, d.id): d for d in [*new_posts.values(), *documents.reader_comments(conn, comments, cascade)]}
    rows = [reader_row(doc) for doc in docs.values()]
    if rows:
        conn.execute(insert_reader(names["reader"]), rows)
    for row in rows:
        counts.update(row["words"])
    count_words(conn, names["words"], counts)

    gone = posts - documents.existing_posts(conn, posts)
    conn.execute(text(f"DELETE FROM {staff} WHERE post_id = ANY(CAST(:gone AS integer[])) "
                      "OR doc_id = ANY(CAST(:ids AS text[]))"),
                 {"gone": sorted(gone), "ids": [f"c{c}" for c in comments]})
    staff_rows = [staff_row(doc) for doc in documents.staff_comments(conn, comments)]
    if staff_rows:
        conn.execute(insert_staff(names["staff"]), staff_rows)


def count_words(conn, name: str, counts: Counter) -> None:
    """Add these (possibly negative) document counts to the words table; words no document has left go."""
    changed = sorted(w for w, n in counts.items() if n)
    if not changed:
        return
    words = table(name)
    conn.execute(text(f"INSERT INTO {words} AS w (word, folded, ndoc) SELECT * FROM unnest("
                      "CAST(:words AS text[]), CAST(:folded AS text[]), CAST(:counts AS integer[])) "
                      "ON CONFLICT (word) DO UPDATE SET ndoc = w.ndoc + EXCLUDED.ndoc"),
                 {"words": changed, "folded": [fold(w) for w in changed], "counts": [counts[w] for w in changed]})
    conn.execute(text(f"DELETE FROM {words} WHERE word = ANY(CAST(:words AS text[])) AND ndoc <= 0"),
                 {"words": changed})


def purge(comments: Iterable[int]) -> bool:
    """Take these comments out of both tables (erasure); call `refresh` for them afterwards.

    The rows are deleted at once; like every deleted row in PostgreSQL their old versions stay in
    the table files until VACUUM reclaims them (autovacuum). False (logged) when a rebuild is
    running, whose new tables may still hold them: rebuild again once it is done. Never raises.
    """
    ids = sorted({f"c{int(c)}" for c in comments})
    if not ids:
        return True
    try:
        with db.engine.begin() as conn:
            set_lock_timeout(conn)
            conn.execute(lock(LOCK_WRITE))
            rebuilding = not conn.execute(lock(LOCK_BUILDING, "pg_try_advisory_xact_lock_shared")).scalar()
            if live_tables_exist(conn):
                removed = conn.execute(text(f"DELETE FROM {table(LIVE['reader'])} "
                                            "WHERE doc_id = ANY(CAST(:ids AS text[])) RETURNING words"),
                                       {"ids": ids}).scalars()
                counts = Counter()
                for words in removed:
                    counts.subtract(words)
                count_words(conn, LIVE["words"], counts)
                conn.execute(text(f"DELETE FROM {table(LIVE['staff'])} WHERE doc_id = ANY(CAST(:ids AS text[]))"),
                             {"ids": ids})
    except Exception:
        log.exception("search: erased comments may remain in the search tables until `flask search rebuild`")
        return False
    if rebuilding:
        log.warning("search: a rebuild is running; rebuild again once it is done, so no erased text stays in it")
        return False
    return True
