"""Full-text search for readers and staff: the only module that imports Whoosh.

Library: `whoosh-reloaded` 2.7.5 (import name `whoosh`), the fork of Whoosh 2.7.4 (2016) that
imports and runs cleanly on current Python; both are unmaintained upstream. Everything Whoosh
(analyzers, schemas, writers, queries, highlighting) is in this file, behind plain functions and
the dataclasses of `results.py`, so the engine can be replaced without touching callers.
`documents.py` reads from the database what goes in, `storage.py` keeps the files on disk,
`text.py` cleans queries; none of them imports Whoosh.

Two indexes per generation (see `storage.py`): `reader` holds what readers may see, `staff`
every comment whatever its status. Separate directories rather than a status filter: a pending
or spam comment is never written where a reader's search looks, so no filter bug can leak it.

Readers never see hidden content: drafts, deleted posts and comments that are not approved are
never written to the reader index; scheduled posts are, but left out of every search until the
database says they are due; and each hit is checked against the database (`Post.visible(now)`,
approved) before it is shown.

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

Rebuild writes a new generation beside the live one (searches keep working meanwhile), switches
to it atomically, then applies the changes queued during the build. Each thread keeps one
searcher per index and opens a fresh one when the index has changed.

Analyzers: per language, German (Snowball stemmer, stop words) for German posts and comments,
English for English ones; each document goes into the fields of its own language (`all_de` or
`all_en`). A query is analysed for both languages and matches each document in its own. Before
stemming, ä/ö/ü/ß become ae/oe/ue/ss and other accents are dropped, on both sides, so "Stoerung"
finds "Störungen". An unstemmed `spell` field gives "did you mean".

Whoosh pitfalls worked around here (measured on 20,000 posts and 100,000 comments): `filter=` and
`mask=` become bit sets whose truth test scans every byte per match (seconds per query), so
restrictions are part of the query (`Require`, `AndNot`); the default collector's block-quality
skipping trips an assertion in `Require` and its "matcher replacement" loses documents, so
results are collected by `_collect`; `Searcher.refresh()` reuses segment readers with stale
deletions, so changed indexes are reopened; NUMERIC fields write 16 terms per value and look up a
column file for each at commit, so dates are columns; position-checking phrase queries took over
100 ms, so phrases match adjacent word pairs; BM25F reads a field length per match, so scoring
is BM25 without length normalisation (`Saturated`).
"""
import functools
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from markupsafe import Markup, escape
from whoosh import collectors, highlight, scoring
from whoosh.analysis import BiWordFilter, Filter, LowercaseFilter, RegexTokenizer, StemFilter, StopFilter
from whoosh.columns import NumericColumn
from whoosh.fields import COLUMN, ID, STORED, TEXT, Schema
from whoosh.filedb.filestore import FileStorage
from whoosh.index import LockError
from whoosh.lang import stopwords_for_language
from whoosh.query import And, AndNot, Or, Require, Term
from whoosh.reading import SegmentReader
from whoosh.support.levenshtein import distance

from app.extensions import db
from app.models import CommentStatus
from app.search import documents, storage
from app.search.documents import Doc
from app.search.results import KINDS, SORTS, Hit, RebuildSummary, Results, Similar
from app.search.settings import setting
from app.search.storage import RebuildRunning, location
from app.search.text import WORD, clean_query, fold, format_query, parse_query, shorten

__all__ = ["KINDS", "SORTS", "Hit", "RebuildRunning", "RebuildSummary", "Results", "Similar", "close", "location",
           "purge", "rebuild", "refresh", "search", "similar_answered", "staff_search", "status"]

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1  # bump when schema or analyzers change: old indexes count as missing until rebuilt
LANGS = ("de", "en")
READER, STAFF = "reader", "staff"
MAX_PAGE = 500  # deeper pages are answered with the last one this allows
TITLE_WEIGHT = 3  # a post's title is indexed this many times, so its words count more
PAIR = " "  # between the two words of a pair term


# --- analyzers, scoring, schemas -------------------------------------------------------------

class FoldFilter(Filter):
    """Token filter applying `text.fold` (keeps positions and character offsets for highlighting)."""

    def __call__(self, tokens):
        for token in tokens:
            token.text = fold(token.text)
            yield token


class CachedStemFilter(StemFilter):
    """Whoosh's stemmer with the standard library's LRU cache.

    Whoosh's own cache evicts by deleting keys without a lock, which can raise KeyError when two
    threads (the development server, a threaded worker) stem at the same time.
    """

    def clear(self):
        from whoosh.lang import stemmer_for_language

        stemfn = stemmer_for_language(self.lang) if self.lang else self.stemfn
        self._stem = functools.lru_cache(maxsize=self.cachesize)(stemfn) if self.cachesize else stemfn


def _stops(lang: str) -> frozenset[str]:
    words = set(stopwords_for_language(lang)) | ({"dass"} if lang == "de" else set())
    return frozenset(words | {fold(w) for w in words})


def _language_analyzer(lang: str):
    return (RegexTokenizer(WORD) | LowercaseFilter() | StopFilter(stoplist=_stops(lang), minsize=1)
            | FoldFilter() | CachedStemFilter(lang=lang, cachesize=100_000))


ANALYZERS = {lang: _language_analyzer(lang) for lang in LANGS}
# Adjacent word pairs ("router neu", "neu start"): a "quoted phrase" matches as all of its pairs.
PAIR_ANALYZERS = {lang: _language_analyzer(lang) | BiWordFilter(sep=PAIR) for lang in LANGS}
# Real words for "did you mean": lowercased, neither stemmed nor folded (suggest "störung", not "stor").
SPELL_ANALYZER = RegexTokenizer(WORD) | LowercaseFilter() | StopFilter(
    stoplist=_stops("de") | _stops("en"), minsize=3, maxsize=40)


class Saturated(scoring.WeightingModel):
    """BM25's idf and term-frequency saturation, without its document-length normalisation.

    Long posts are not penalised, which suits a blog where posts are what readers look for first;
    and no field length is read per match, which halved the time of common-word searches.
    """

    def __init__(self, k1: float = 2.0):
        self.k1 = k1

    def scorer(self, searcher, fieldname, text, qf=1):
        return _SaturatedScorer(searcher.idf(fieldname, text) * qf, self.k1)


class _SaturatedScorer(scoring.BaseScorer):
    def __init__(self, idf: float, k1: float):
        self.idf, self.k1 = idf, k1

    def supports_block_quality(self):
        return False

    def score(self, matcher):
        tf = matcher.weight()
        return self.idf * tf * (self.k1 + 1) / (tf + self.k1)


WEIGHTING = Saturated()


def _text_fields(pairs: bool) -> dict:
    """Per language `all_xx`: title (weighted by repetition), text, category, tags, names.

    One posting list per word keeps matching fast: separate title/body/meta fields, or a clause
    that only adds weight for title words, made common words two to three times slower.
    """
    fields = {f"all_{lang}": TEXT(analyzer=ANALYZERS[lang], phrase=False) for lang in LANGS}
    if pairs:
        fields.update({f"pairs_{lang}": TEXT(analyzer=PAIR_ANALYZERS[lang], phrase=False) for lang in LANGS})
        # The text of answered reader comments once more: more-like-this then walks only their
        # (short) posting lists instead of intersecting common words with an "answered" filter.
        fields.update({f"answered_{lang}": TEXT(analyzer=ANALYZERS[lang], phrase=False) for lang in LANGS})
    return fields


def reader_schema() -> Schema:
    return Schema(
        doc_id=ID(unique=True, stored=True),  # "p12" | "c345"
        kind=ID(),  # post | comment
        post_id=ID(),  # a post and its comments: replaced together, left out together while scheduled
        lang=STORED(),
        category=ID(stored=True),  # category slug (absent: none)
        official=ID(),  # "1": an official answer by the team (absent otherwise)
        date=COLUMN(NumericColumn("q")),  # seconds: published (posts) or written (comments)
        spell=TEXT(analyzer=SPELL_ANALYZER, phrase=False),
        **_text_fields(pairs=True),
    )


def staff_schema() -> Schema:
    return Schema(
        doc_id=ID(unique=True, stored=True),
        post_id=ID(),
        status=ID(stored=True),
        lang=STORED(),
        date=COLUMN(NumericColumn("q")),
        **_text_fields(pairs=False),
    )


def _ts(value: datetime | None) -> int:
    if value is None:
        return 0
    return int((value if value.tzinfo else value.replace(tzinfo=timezone.utc)).timestamp())


def _lang(code: str | None) -> str:
    return code if code in LANGS else LANGS[0]


def _reader_fields(doc: Doc) -> dict:
    lang = _lang(doc.lang)
    text = " ".join(filter(None, [doc.title, doc.body, doc.meta]))
    weighted = " ".join([doc.title] * (TITLE_WEIGHT - 1) + [text]) if doc.title else text
    fields = {"doc_id": f"{doc.kind[0]}{doc.id}", "kind": doc.kind, "post_id": str(doc.post_id), "lang": lang,
              "date": _ts(doc.date), f"all_{lang}": weighted, f"pairs_{lang}": text, "spell": text}
    if doc.category:
        fields["category"] = doc.category
    if doc.official:
        fields["official"] = "1"
    if doc.answered:
        fields[f"answered_{lang}"] = text
    return fields


def _staff_fields(doc: Doc) -> dict:
    lang = _lang(doc.lang)
    return {"doc_id": f"c{doc.id}", "post_id": str(doc.post_id), "status": doc.status, "lang": lang,
            "date": _ts(doc.date), f"all_{lang}": " ".join(filter(None, [doc.body, doc.meta]))}


# --- opening the index ---------------------------------------------------------------------------

class Unavailable(Exception):
    """The index is missing, from an older schema, or unreadable."""


def _open(path: Path):
    return FileStorage(str(path)).open_index()


def _live(root: Path) -> Path | None:
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


def _searcher(name: str):
    """This thread's searcher on the live `name` index, opened afresh when the index has changed.

    (Not `Searcher.refresh()`: it reuses segment readers with their old deletions, so a deleted
    comment would stay findable.)
    """
    gen = _live(location())
    if gen is None:
        raise Unavailable("no search index (run: flask --app wsgi search rebuild)")
    path = gen / name
    cache: dict = _local.__dict__.setdefault("searchers", {})
    entry = cache.get(name)
    if entry is not None and entry.path == path and _stamp(entry.ix, path) == entry.stamp:
        return entry.searcher
    _close(name)
    ix = _open(path)
    searcher = ix.searcher(weighting=WEIGHTING)
    cache[name] = _Cached(path, ix, _stamp(ix, path), searcher)
    return searcher


def _close(name: str) -> None:
    entry = _local.__dict__.get("searchers", {}).pop(name, None)
    if entry is not None:
        try:
            entry.searcher.close()
        except Exception:  # a broken index may fail to close; it is dropped either way
            pass


def close() -> None:
    """Close this thread's searchers (tests, benchmarks, before deleting an index)."""
    for name in (READER, STAFF):
        _close(name)


_last_logged: dict[str, float] = {}


def _once_a_minute(what: str) -> bool:
    """True at most once a minute per process and topic: a missing index would log on every request."""
    now = time.monotonic()
    if now - _last_logged.get(what, -1e9) < 60:
        return False
    _last_logged[what] = now
    return True


def _log_unavailable(exc: Exception) -> None:
    if _once_a_minute("unavailable"):
        log.error("search unavailable: %s", exc, exc_info=not isinstance(exc, Unavailable))


# --- keeping the index in step with the database ------------------------------------------------

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
        _refresh(location(), posts, comments)
    except Exception:
        log.exception("search: index update failed (posts %s, comments %s); queued for the next one",
                      sorted(posts)[:20], sorted(comments)[:20])
        try:
            storage.queue(location(), posts, comments)
        except Exception:
            log.exception("search: could not queue the changes either")


def _refresh(root: Path, posts: set[int], comments: set[int], *, replaying: bool = False) -> None:
    rebuilding = storage.rebuilding(root)
    if rebuilding and not replaying:
        storage.queue(root, posts, comments)  # the rebuild applies them to the new generation too
    gen = _live(root)
    if gen is None:
        if not rebuilding:
            storage.queue(root, posts, comments)
        if _once_a_minute("no index"):
            log.warning("search: no index; changes are queued for the rebuild (flask --app wsgi search rebuild)")
        return
    if not rebuilding:
        queued_posts, queued_comments = storage.take(root)
        posts |= queued_posts  # in place: should this fail, the caller queues them all again
        comments |= queued_comments
    with db.engine.connect() as conn:
        with _writing(_open(gen / READER)) as writer:
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
                writer.add_document(**_reader_fields(doc))
        conn.rollback()  # end the read transaction: the staff index gets the newest rows too
        with _writing(_open(gen / STAFF)) as writer:
            for pid in posts - documents.existing_posts(conn, posts):
                writer.delete_by_term("post_id", str(pid))  # a deleted post took its comments along
            for cid in comments:
                writer.delete_by_term("doc_id", f"c{cid}")
            for doc in documents.staff_comments(conn, comments):
                writer.add_document(**_staff_fields(doc))


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
        gen = _live(root)
        if gen is None:
            return not any(root.glob("gen-*"))  # an index of an older schema is not opened here
        for name in (READER, STAFF):
            with _writing(_open(gen / name)) as writer:
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


class _writing:
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


# --- searching -----------------------------------------------------------------------------------

def _text_query(items: list[list[str]], *, prefer: str | None = None, pairs: bool = True):
    """Every word (or phrase) must match, in the fields of one language; either language may match.

    A phrase matches as all of its adjacent word pairs (`pairs_xx`), or without pairs (the staff
    index) as all of its words. Returns the query (None if only stop words are left) and the
    analysed terms per language (for highlighting).
    """
    per_lang, terms = [], {}
    for lang in LANGS:
        clauses, used = [], set()
        for words in items:
            tokens = [token.text for token in ANALYZERS[lang](" ".join(words))]
            if not tokens:
                continue  # a stop word in this language
            used.update(tokens)
            if len(tokens) > 1 and pairs:
                clauses.extend(Term(f"pairs_{lang}", a + PAIR + b) for a, b in zip(tokens, tokens[1:]))
            else:
                clauses.extend(Term(f"all_{lang}", token) for token in tokens)
        if clauses:
            query = clauses[0] if len(clauses) == 1 else And(clauses)
            per_lang.append(query.with_boost(1.2) if lang == prefer else query)
            terms[lang] = used
    if not per_lang:
        return None, terms
    return (per_lang[0] if len(per_lang) == 1 else Or(per_lang)), terms


def _reader_filter(kind: str, category: str | None):
    parts = {"posts": [Term("kind", "post")], "comments": [Term("kind", "comment")],
             "official": [Term("official", "1")]}.get(kind, [])
    if category:
        parts.append(Term("category", category))
    return And(parts) if len(parts) > 1 else (parts[0] if parts else None)


def _future(now: datetime):
    """Scheduled posts (and their comments) that are not due yet: the database says which."""
    ids = documents.scheduled_post_ids(now)
    return Or([Term("post_id", str(pid)) for pid in ids]) if ids else None


def _restricted(query, *, require=None, exclude=None):
    """`query` limited to documents matching `require` and not `exclude`, scored by `query` alone."""
    if require is not None:
        query = Require(query, require)
    if exclude is not None:
        query = AndNot(query, exclude)
    return query


def _collect(searcher, query, limit: int, *, by_date: bool = False, terms: bool = False):
    """Whoosh results for `query`, every match counted (see the module docstring for why by hand)."""
    if by_date:
        collector = collectors.SortingCollector("date", limit=limit, reverse=True)
    else:
        collector = collectors.TopCollector(limit, usequality=False, replace=0)
    if terms:
        collector = collectors.TermsCollector(collector)
    searcher.search_with_collector(query, collector)
    return collector.results()


def _page(searcher, query, results: Results) -> list[tuple[str, str]]:
    """Search, set total and page (a page beyond the end becomes the last); (doc_id, lang) of the page."""
    found = _collect(searcher, query, results.page * results.per_page, by_date=results.sort == "date")
    results.total = len(found)
    results.page = min(results.page, results.pages)  # every hit up to the requested page is in `found`
    start = (results.page - 1) * results.per_page
    return [(hit["doc_id"], hit["lang"]) for hit in found[start:start + results.per_page]]


def _prepare(q: str | None, results: Results) -> tuple[list[list[str]], bool]:
    text, shortened = clean_query(q, int(setting("SEARCH_MAX_QUERY_LENGTH")))
    results.query = text
    items, too_many = parse_query(text, int(setting("SEARCH_MAX_TERMS")))
    if shortened or too_many:
        results.notices += ("shortened",)
    if not text:
        results.state = "empty"
    return items, bool(text)


def search(q: str | None, *, kind: str = "all", category: str | None = None, sort: str = "relevance",
           page: int = 1, per_page: int = 10, lang: str = "de", now: datetime | None = None) -> Results:
    """One page of what readers may find for `q` (posts and comments). Never raises.

    `kind`: all | posts | comments | official; `category`: a category slug; `sort`: relevance |
    date; `lang`: the reader's UI language (its documents rank slightly higher).
    """
    results = Results(query="", kind=kind if kind in KINDS else "all", sort=sort if sort in SORTS else "relevance",
                      category=(category or "").strip()[:80] or None, per_page=min(max(int(per_page or 10), 1), 100),
                      page=min(max(int(page or 1), 1), MAX_PAGE))
    items, given = _prepare(q, results)
    if not given:
        return results
    query, terms = _text_query(items, prefer=lang)
    now = now or datetime.now(timezone.utc)
    try:
        searcher = _searcher(READER)
        if query is None:
            results.notices += ("no_terms",)
            return results
        restrict = {"require": _reader_filter(results.kind, results.category), "exclude": _future(now)}
        found = _page(searcher, _restricted(query, **restrict), results)
        results.hits = _reader_hits(found, terms, now)
        if results.total == 0:
            results.suggestion = _did_you_mean(searcher, items, restrict)
    except Exception as exc:
        return _unavailable(results, exc)
    return results


def _unavailable(results: Results, exc: Exception) -> Results:
    _log_unavailable(exc)
    db.session.rollback()
    results.state, results.hits, results.total, results.page, results.suggestion = "unavailable", [], 0, 1, None
    return results


def _reader_hits(found: list[tuple[str, str]], terms: dict, now: datetime) -> list[Hit]:
    """The page's hits, checked against the database (visible now), with titles and snippets."""
    posts = documents.visible_posts([int(d[1:]) for d, _lang in found if d[0] == "p"], now)
    comments = documents.comments_by_id([int(d[1:]) for d, _lang in found if d[0] == "c"], now)
    hits = []
    for doc_id, lang in found:
        number = int(doc_id[1:])
        if doc_id[0] == "p" and number in posts:
            p = posts[number]
            hits.append(Hit(kind="post", id=p.id, post_id=p.id, post_slug=p.slug, title=p.title,
                            title_html=_highlight(p.title, lang, terms, whole=True),
                            snippet=_highlight(p.text, lang, terms, fallback=p.summary),
                            date=p.published_at, lang=p.lang, category=p.category))
        elif doc_id[0] == "c" and number in comments:
            hits.append(_comment_hit(comments[number], lang, terms))
        else:
            log.info("search: %s is in the index but not visible; left out", doc_id)
    return hits


def _comment_hit(c: documents.CommentRow, lang: str, terms: dict) -> Hit:
    return Hit(kind="comment", id=c.id, post_id=c.post_id, post_slug=c.post_slug, title=c.post_title,
               title_html=Markup.escape(c.post_title), snippet=_highlight(c.text, lang, terms),
               date=c.created_at, lang=c.lang, author_name=c.author_name, is_official=c.is_official,
               status=c.status)


class _MarkFormatter(highlight.Formatter):
    """Escapes all text and wraps matches in <mark>: the only markup a snippet contains."""

    def __init__(self, text_length: int):
        self.text_length = text_length

    def _text(self, text):
        return str(escape(text))

    def format_token(self, text, token, replace=False):
        return f"<mark>{escape(highlight.get_text(text, token, replace))}</mark>"

    def format(self, fragments, replace=False):
        if not fragments:
            return ""
        out = " … ".join(self.format_fragment(f, replace=replace) for f in fragments)
        if fragments[0].startchar > 0:
            out = "… " + out
        if fragments[-1].endchar < self.text_length:
            out += " …"
        return out


def _highlight(text: str, lang: str, terms: dict, *, fallback: str = "", whole: bool = False,
               length: int = 240) -> Markup:
    """Escaped text with the query's words marked: the best passages (or all of it), else the start."""
    lang = _lang(lang)
    wanted = terms.get(lang)
    if wanted and text:
        scan = text if whole else text[:int(setting("SEARCH_SNIPPET_SCAN_CHARS"))]
        fragmenter = highlight.WholeFragmenter() if whole else highlight.ContextFragmenter(maxchars=length,
                                                                                              surround=60)
        marked = highlight.highlight(scan, wanted, ANALYZERS[lang], fragmenter, _MarkFormatter(len(text)),
                                     top=2, minscore=1)
        if marked:
            return Markup(marked)
    return Markup.escape(text if whole else shorten(fallback or text, length))


def _did_you_mean(searcher, items: list[list[str]], restrict: dict) -> str | None:
    """The query with unknown words replaced by close words from the index, if that finds something."""
    reader = searcher.reader()
    changed, corrected = False, []
    for words in items:
        fixed = []
        for word in words:
            lower = word.lower()
            best = None
            if len(lower) >= 4 and lower.isalpha() and not reader.doc_frequency("spell", lower):
                best = _closest(reader, lower)
            changed = changed or best is not None
            fixed.append(best or lower)
        corrected.append(fixed)
    if not changed:
        return None
    query, _terms = _text_query(corrected)
    if query is None or _collect(searcher, _restricted(query, **restrict), 1).is_empty():
        return None
    return format_query(corrected)


_SPELT_OUT = (("ae", "ä"), ("oe", "ö"), ("ue", "ü"))


def _closest(reader, word: str) -> str | None:
    """The most frequent indexed word within one (short words) or two edits, same first letter.

    Umlauts typed as ae/oe/ue ("stoerumg") are tried as umlauts too, and distances are measured
    on folded words, so "stoerumg" leads to "störung".
    """
    maxdist = 1 if len(word) < 7 else 2
    umlauts = word
    for spelt, umlaut in _SPELT_OUT:
        umlauts = umlauts.replace(spelt, umlaut)
    folded = fold(word)
    candidates = {}
    for variant in {word, umlauts}:
        for w in reader.terms_within("spell", variant, maxdist, prefix=1):
            if fold(w) != folded:
                candidates[w] = (distance(folded, fold(w)), -reader.doc_frequency("spell", w), w)
    return min(candidates.values())[2] if candidates else None


def staff_search(q: str | None, page: int = 1, per_page: int = 20, *, sort: str = "relevance",
                 status: str | None = None) -> Results:
    """All comments, pending, spam, rejected and deleted included: for moderators only. Never raises."""
    results = Results(query="", kind="comments", sort=sort if sort in SORTS else "relevance",
                      page=min(max(int(page or 1), 1), MAX_PAGE), per_page=min(max(int(per_page or 20), 1), 100))
    items, given = _prepare(q, results)
    if not given:
        return results
    query, terms = _text_query(items, pairs=False)
    try:
        searcher = _searcher(STAFF)
        if query is None:
            results.notices += ("no_terms",)
            return results
        wanted = Term("status", status) if status in set(CommentStatus) else None
        found = _page(searcher, _restricted(query, require=wanted), results)
        rows = documents.comments_by_id([int(d[1:]) for d, _lang in found], None)
        results.hits = [_comment_hit(rows[int(d[1:])], lang, terms) for d, lang in found if int(d[1:]) in rows]
    except Exception as exc:
        return _unavailable(results, exc)
    return results


def similar_answered(comment_id: int, limit: int = 3, *, now: datetime | None = None) -> list[Similar]:
    """Other comments the team has already answered whose text is like this one's, best first.

    More-like-this: Whoosh picks the comment's most telling words (Bo1 model, against the reader
    index); answered comments (`answered_xx`) sharing at least two of them (one, for very short
    comments) are ranked by those words. Never raises.
    """
    try:
        row = documents.comments_by_id([int(comment_id)], None).get(int(comment_id))
        if row is None or not row.text:
            return []
        searcher = _searcher(READER)
        lang = _lang(row.lang)
        key_terms = searcher.key_terms_from_text(f"all_{lang}", row.text[:5000], numterms=10)
        if not key_terms:
            return []
        field = f"answered_{lang}"
        query = Or([Term(field, word, boost=weight) for word, weight in key_terms])
        now = now or datetime.now(timezone.utc)
        itself = Or(list(filter(None, [Term("doc_id", f"c{row.id}"), _future(now)])))
        found = _collect(searcher, _restricted(query, exclude=itself), limit * 3 + 5, terms=True)
        needed = 1 if len(key_terms) < 3 else 2
        ranked = [(int(hit["doc_id"][1:]), hit.score) for hit in found
                  if hit["doc_id"] != f"c{row.id}"  # never the question itself (AndNot alone let it through)
                  and len({text for name, text in hit.matched_terms() if name == field}) >= needed]
        questions = documents.comments_by_id([cid for cid, _score in ranked], now)
        answers = documents.first_answers(list(questions))
        similar = []
        for cid, score in ranked:
            if cid in questions and cid in answers and len(similar) < limit:
                question, answer = questions[cid], answers[cid]
                similar.append(Similar(
                    comment_id=cid, post_slug=question.post_slug, post_title=question.post_title,
                    author_name=question.author_name, created_at=question.created_at,
                    excerpt=shorten(question.text, 200), answer_id=answer.id, answer_author=answer.author_name,
                    answer_excerpt=shorten(answer.text, 300), answer_body_md=answer.body_md, score=round(score, 3)))
        return similar
    except Exception as exc:
        _log_unavailable(exc)
        db.session.rollback()
        return []


# --- rebuild and status ----------------------------------------------------------------------------

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
            storage.remove_others(root, keep=_live(root) or root)
            raise
        replayed = _replay(root)
        storage.end_rebuilding(root)
        replayed += _replay(root)  # queued between the first replay and the marker's removal
    storage.remove_others(root, keep=gen)
    close()
    return RebuildSummary(posts=counts[0], comments=counts[1], staff_comments=counts[2],
                          seconds=time.perf_counter() - started, size_bytes=storage.size_of(gen), location=str(gen),
                          replayed=replayed)


# index → schema, [(documents function, fields, slot in the counts)]
_PARTS = {
    READER: (reader_schema, [("all_reader_posts", _reader_fields, 0), ("all_reader_comments", _reader_fields, 1)]),
    STAFF: (staff_schema, [("all_staff_comments", _staff_fields, 2)]),
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
            _refresh(root, posts, comments, replaying=True)
        except Exception:
            log.exception("search: applying the changes made during the rebuild failed; queued again")
            storage.queue(root, posts, comments)
    return len(posts) + len(comments)


def status() -> dict:
    """For `flask search status`: live generation, documents, size, queued changes."""
    root = location()
    gen = _live(root)
    info = {"location": str(root), "available": False, "generation": gen.name if gen else None,
            "reader_documents": None, "staff_documents": None, "size_bytes": storage.size_of(gen) if gen else 0,
            "pending": storage.queued(root), "rebuilding": storage.rebuilding(root)}
    if gen is not None:
        try:
            info["reader_documents"] = _searcher(READER).doc_count()
            info["staff_documents"] = _searcher(STAFF).doc_count()
            info["available"] = True
        except Exception as exc:
            log.error("search status: index unreadable: %s", exc)
    return info
