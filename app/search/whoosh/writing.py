"""Keeping the index in step with the database (`refresh`) and erasing from its files (`purge`).

Writers (several gunicorn workers): each `refresh()` opens a plain Whoosh writer with
`writer(timeout=SEARCH_WRITE_TIMEOUT, delay=SEARCH_WRITE_DELAY)` - it waits for the index's file
lock instead of failing at once - retried `SEARCH_WRITE_ATTEMPTS` times, reads the rows while
holding the lock through a fresh database connection (so of two workers updating one comment the
later always writes the later state), and commits before returning: once `refresh()` returns, a
search in any process finds the change (read-your-writes). Not chosen: `AsyncWriter` (answers at
once but the document lands later, so the reader who just got approved does not find it), a
`BufferedWriter` per process (keeps the lock: a second worker can never write), a plain
`writer()` (LockError under two workers). If the lock cannot be had, or the index is missing or
broken, the ids are queued in `pending` and the error logged; the next successful update (or the
rebuild) applies them, so no change is lost and no lock error reaches a user.
"""
import logging
from collections.abc import Iterable
from pathlib import Path

from whoosh.index import LockError
from whoosh.reading import SegmentReader

from app.extensions import db
from app.search import documents, storage
from app.search.documents import Doc
from app.search.settings import setting
from app.search.steps import once_a_minute
from app.search.storage import location
from app.search.whoosh.opening import live, open_index
from app.search.whoosh.schema import READER, STAFF, reader_fields, staff_fields

log = logging.getLogger(__name__)


def refresh(posts: Iterable[int] = (), comments: Iterable[int] = ()) -> None:
    """Make the index match the database for these posts and comments, right after a commit.

    A post that appears, disappears (unpublished, deleted) or changes category takes its comments
    along. Call after anything that changes what readers may see or what a text says: publish,
    unpublish, edit or delete a post; submit, approve, reject, spam, delete, restore or edit a
    comment, reply (the answer and its question), erase. Once it returns, searches in every
    process see the change. Never raises: on failure the ids are queued and the error logged.
    """
    posts, comments = {int(p) for p in posts}, {int(c) for c in comments}
    if not posts and not comments:
        return
    try:
        apply_changes(location(), posts, comments)
    except Exception:
        log.exception("search: index update failed (posts %s, comments %s); queued for the next one",
                      sorted(posts)[:20], sorted(comments)[:20])
        try:
            storage.queue(location(), posts, comments)
        except Exception:
            log.exception("search: could not queue the changes either")


def apply_changes(root: Path, posts: set[int], comments: set[int], *, replaying: bool = False) -> None:
    """Rewrite the documents of these posts and comments in both indexes (raises on failure)."""
    rebuilding = storage.rebuilding(root)
    if rebuilding and not replaying:
        storage.queue(root, posts, comments)  # the rebuild applies them to the new generation too
    gen = live(root)
    if gen is None:
        if not rebuilding:
            storage.queue(root, posts, comments)
        if once_a_minute("no index"):
            log.warning("search: no index; changes are queued for the rebuild (flask --app wsgi search rebuild)")
        return
    if not rebuilding:
        queued_posts, queued_comments = storage.take(root)
        posts |= queued_posts  # in place: should this fail, the caller queues them all again
        comments |= queued_comments
    with db.engine.connect() as conn:
        with Writing(open_index(gen / READER)) as writer:
            new_posts = {doc.id: doc for doc in documents.reader_posts(conn, posts)}
            cascade = _posts_whose_comments_change(writer, posts, new_posts)
            for pid in posts:
                if pid in cascade:
                    writer.delete_by_term("post_id", str(pid))  # the post and its comments
                else:
                    writer.delete_by_term("doc_id", f"p{pid}")
            for cid in comments:
                writer.delete_by_term("doc_id", f"c{cid}")
            docs = {(d.kind, d.id): d for d in [*new_posts.values(),
                                                *documents.reader_comments(conn, comments, cascade)]}
            for doc in docs.values():
                writer.add_document(**reader_fields(doc))
        conn.rollback()  # end the read transaction: the staff index gets the newest rows too
        with Writing(open_index(gen / STAFF)) as writer:
            for pid in posts - documents.existing_posts(conn, posts):
                writer.delete_by_term("post_id", str(pid))  # a deleted post took its comments along
            for cid in comments:
                writer.delete_by_term("doc_id", f"c{cid}")
            for doc in documents.staff_comments(conn, comments):
                writer.add_document(**staff_fields(doc))


def purge(comments: Iterable[int]) -> bool:
    """Take these comments out of both indexes and rewrite the segments that held them (erasure).

    Whoosh deletes by marking: a deleted document's words stay in its segment's files until that
    segment is merged. So every segment holding one of these documents is rewritten without it,
    and only those; `commit(optimize=True)` would rewrite the whole index (5,000 comments, four
    rebuild segments: 6.0 s, against 1.4 s for one erased comment and 3.2 s for three). The
    writer lock is held meanwhile: other updates wait or are queued. Call `refresh` for the same
    comments afterwards to add back what should be found. Never raises; False (logged) when the
    files may still hold them: `flask search rebuild` then writes a generation without them.
    """
    wanted = {f"c{int(c)}" for c in comments}
    if not wanted:
        return True
    root = location()
    try:
        gen = live(root)
        if gen is None:
            return not any(root.glob("gen-*"))  # an index of an older schema is not opened here
        for name in (READER, STAFF):
            with Writing(open_index(gen / name)) as writer:
                for doc_id in wanted:
                    writer.delete_by_term("doc_id", doc_id)
                writer.mergetype = _rewrite_segments_holding(wanted)
    except Exception:
        log.exception("search: erased comments may remain in the index files until `flask search rebuild`")
        return False
    if storage.rebuilding(root):
        log.warning("search: a rebuild is running; rebuild again once it is done, so no erased text stays in it")
        return False
    return True


def _rewrite_segments_holding(doc_ids: set[str]):
    """A Whoosh merge policy: rewrite the segments with deletions that hold one of `doc_ids`, keep the rest."""

    def mergetype(writer, segments):
        kept = []
        for segment in segments:
            reader = SegmentReader(writer.storage, writer.schema, segment)
            try:
                # A deleted document's terms are still in its segment's dictionary, so this finds it.
                if segment.has_deletions() and any(("doc_id", d) in reader for d in doc_ids):
                    writer.add_reader(reader)  # copies the live documents only
                else:
                    kept.append(segment)
            finally:
                reader.close()
        return kept

    return mergetype


def _posts_whose_comments_change(writer, posts: set[int], new_posts: dict[int, Doc]) -> set[int]:
    """Posts that appeared, disappeared or moved to another category: their comments go along.

    A post whose text or title changed keeps its comments' documents as they are (they hold
    neither), so fixing a typo in a post with a thousand comments rewrites one document.
    """
    searcher = writer.searcher()
    try:
        changed = set()
        for pid in posts:
            before, after = searcher.document(doc_id=f"p{pid}"), new_posts.get(pid)
            if before is None or after is None or before.get("category", "") != after.category:
                changed.add(pid)
        return changed
    finally:
        searcher.close()


class Writing:
    """A writer that waits for the lock (a few times), then commits, or cancels on error."""

    def __init__(self, ix):
        self.ix = ix

    def __enter__(self):
        attempts = max(1, int(setting("SEARCH_WRITE_ATTEMPTS")))
        for attempt in range(1, attempts + 1):
            try:
                self.writer = self.ix.writer(timeout=float(setting("SEARCH_WRITE_TIMEOUT")),
                                             delay=float(setting("SEARCH_WRITE_DELAY")))
                return self.writer
            except LockError:
                if attempt == attempts:
                    raise
                log.warning("search: index write lock busy (attempt %d of %d)", attempt, attempts)

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None:
                self.writer.commit()
            else:
                self.writer.cancel()
        finally:
            self.ix.close()
        return False
