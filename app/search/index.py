"""Full-text search for readers and staff: the only module that imports Whoosh.

Library: `whoosh-reloaded` 2.7.5 (import name `whoosh`), the fork of Whoosh 2.7.4 (2016) that
imports and runs cleanly on current Python. Both are unmaintained upstream; everything Whoosh is
kept in this one file (schemas, analyzers, writers, queries, highlighting), so the engine can be
swapped without touching callers. The rest of the app sees plain functions and dataclasses, and
`documents.py` (no Whoosh) decides from the database what goes in.

Layout under `DATA_DIR/search/` (or `SEARCH_DIR`)::

    CURRENT               "gen-<time>-<pid>-<rand> v<SCHEMA_VERSION>": the live generation
    gen-…/reader/         what readers may see: published/scheduled posts, approved comments
    gen-…/staff/          every comment, any status (moderators only; a separate directory, so
                          no filter bug can ever show a pending or spam comment to a reader)
    pending               ids still to apply: written during a rebuild or after a failed update
    REBUILDING            present while `rebuild()` runs
    rebuild.lock          flock: one rebuild at a time

Writers (several gunicorn workers): every `refresh()` opens a plain Whoosh writer with
`writer(timeout=SEARCH_WRITE_TIMEOUT, delay=SEARCH_WRITE_DELAY)` (waits for the file lock instead
of failing at once), retried `SEARCH_WRITE_ATTEMPTS` times, reads the rows *while holding the
lock* from a fresh database connection (so of two workers updating the same comment the later
one always writes the later state) and commits before returning: a search right after `refresh()`
finds the change in every process (read-your-writes). Rejected: `AsyncWriter` (returns at once,
the document lands later: a reader misses the comment just approved), a per-process
`BufferedWriter` (holds the lock for good: a second worker can never write), a plain `writer()`
(LockError under two workers). If the lock still cannot be had, or the index is missing or
broken, the ids go to `pending`, the error is logged and the caller carries on; the next
successful update (or the rebuild) applies them, so no update is lost.

Rebuild builds a new generation beside the live one (searches keep working), switches `CURRENT`
atomically, then replays the ids that changed meanwhile (they were queued in `pending` while
`REBUILDING` existed) and deletes the old generation. Readers notice the switch at their next
search; each thread keeps one searcher per index and reopens it when the index changed.

Analyzers: one per language (German Snowball stemmer and stop words for German posts and
comments, English for English ones), each document indexed into the fields of its own language
(`all_de` or `all_en`). A query is analysed for both languages and matches a
document in its own language. Before stemming, ä/ö/ü/ß become ae/oe/ue/ss (and other accents are
dropped), on both sides, so "Stoerung" finds "Störungen". A separate unstemmed `spell` field
feeds "did you mean".

Readers never see hidden content: drafts and deleted posts, and comments that are not approved,
are never written to the reader index; scheduled posts are indexed with their date and masked
until it has come; and every hit is checked against the database (`Post.visible(now)`, approved)
before it is shown.
"""
import logging
import math
import multiprocessing
import os
import re
import secrets
import shutil
import threading
import time
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from flask import current_app
from markupsafe import Markup, escape
from whoosh import collectors, highlight, scoring
from whoosh.analysis import BiWordFilter, Filter, LowercaseFilter, RegexTokenizer, StemFilter, StopFilter
from whoosh.columns import NumericColumn
from whoosh.fields import COLUMN, ID, STORED, TEXT, Schema
from whoosh.filedb.filestore import FileStorage
from whoosh.index import LockError
from whoosh.lang import stopwords_for_language
from whoosh.query import And, AndNot, Or, Require, Term
from whoosh.support.levenshtein import distance

from app.extensions import db
from app.models import CommentStatus
from app.search import documents
from app.search.documents import Doc

try:  # Unix: short exclusive locks around the `pending` file
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1  # bump when the schema or the analyzers change: old indexes then need a rebuild
LANGS = ("de", "en")
KINDS = ("all", "posts", "comments", "official")
SORTS = ("relevance", "date")
POINTER, PENDING, REBUILDING, REBUILD_LOCK = "CURRENT", "pending", "REBUILDING", "rebuild.lock"
READER, STAFF = "reader", "staff"
MAX_PAGE = 500  # deeper pages are answered with the last one this allows

DEFAULTS = {
    "SEARCH_DIR": None,  # None: DATA_DIR/search
    "SEARCH_WRITE_TIMEOUT": 10.0,  # seconds one attempt waits for the index write lock
    "SEARCH_WRITE_DELAY": 0.05,  # seconds between lock tries
    "SEARCH_WRITE_ATTEMPTS": 3,
    "SEARCH_MAX_QUERY_LENGTH": 200,  # characters; longer queries are shortened (with a notice)
    "SEARCH_MAX_TERMS": 10,  # words and phrases per query
    "SEARCH_SNIPPET_SCAN_CHARS": 3000,  # how much of a long text is searched for a snippet
    "SEARCH_REBUILD_MEMORY_MB": 256,
    "SEARCH_REBUILD_PROCESSES": None,  # writer processes for a rebuild; None: one per core (at most 4)
}


def _setting(key: str):
    return current_app.config.get(key, DEFAULTS[key])


# --- analyzers ---------------------------------------------------------------------------------

_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "æ": "ae", "œ": "oe", "ø": "oe"})


def fold(text: str) -> str:
    """Lowercase text with umlauts spelt out and other accents dropped ("Störung" → "stoerung")."""
    text = text.translate(_UMLAUTS)
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


class FoldFilter(Filter):
    """Token filter applying `fold` (keeps positions and character offsets for highlighting)."""

    def __call__(self, tokens):
        for token in tokens:
            token.text = fold(token.text)
            yield token


WORD = r"\w+"


def _stops(lang: str) -> frozenset[str]:
    words = set(stopwords_for_language(lang)) | ({"dass"} if lang == "de" else set())
    return frozenset(words | {fold(w) for w in words})


def _language_analyzer(lang: str):
    return (RegexTokenizer(WORD) | LowercaseFilter() | StopFilter(stoplist=_stops(lang), minsize=1)
            | FoldFilter() | StemFilter(lang=lang, cachesize=100_000))


ANALYZERS = {lang: _language_analyzer(lang) for lang in LANGS}
PAIR = " "
# Adjacent word pairs ("router neu", "neu start") for "quoted phrases": a phrase becomes an AND of
# its pairs, plain posting lists instead of positions (Whoosh's position-checking phrase matcher
# took over 100 ms for common phrases on the benchmark corpus).
PAIR_ANALYZERS = {lang: _language_analyzer(lang) | BiWordFilter(sep=PAIR) for lang in LANGS}
# Real words for "did you mean": lowercased, not stemmed, not folded (suggest "Störung", not "stor").
SPELL_ANALYZER = RegexTokenizer(WORD) | LowercaseFilter() | StopFilter(
    stoplist=_stops("de") | _stops("en"), minsize=3, maxsize=40)


TITLE_WEIGHT = 3  # a post's title is indexed this many times: its words count more


def _text_fields(pairs: bool) -> dict:
    """One text field per language, `all_de` / `all_en`: title, text, category, tags, names.

    One posting list per word keeps matching fast (a union over title/body/meta fields per word,
    or an extra "title adds weight" clause, made common words two to three times slower); the
    title weighs more by being indexed `TITLE_WEIGHT` times. `pairs_xx` serves phrases.
    """
    fields = {f"all_{lang}": TEXT(analyzer=ANALYZERS[lang], phrase=False) for lang in LANGS}
    if pairs:
        fields.update({f"pairs_{lang}": TEXT(analyzer=PAIR_ANALYZERS[lang], phrase=False) for lang in LANGS})
    return fields


class Saturated(scoring.WeightingModel):
    """BM25's term-frequency saturation and idf, without its length normalisation.

    BM25F reads every matching document's field length from a column, which doubled the time of
    common-word searches; without it long posts are not penalised, which suits a blog where the
    posts are what readers look for first.
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


# Only the fields queries need are indexed. Dates are columns (sorting) rather than NUMERIC fields:
# Whoosh writes 16 trie terms per number and looks up a column file for every one of them while
# committing, which made numeric fields half of the rebuild time.
def reader_schema() -> Schema:
    return Schema(
        doc_id=ID(unique=True, stored=True),  # "p12" | "c345"
        kind=ID(),  # post | comment
        post_id=ID(),  # a post and its comments: replaced together, hidden together while scheduled
        lang=STORED(),
        category=ID(),  # category slug (absent: none)
        official=ID(),  # "1": an official answer by the team (absent otherwise)
        answered=ID(),  # "1": a reader's comment the team has answered (absent otherwise)
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
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return int(value.timestamp())


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
        fields["answered"] = "1"
    return fields


def _staff_fields(doc: Doc) -> dict:
    lang = _lang(doc.lang)
    return {"doc_id": f"c{doc.id}", "post_id": str(doc.post_id), "status": doc.status, "lang": lang,
            "date": _ts(doc.date), f"all_{lang}": " ".join(filter(None, [doc.body, doc.meta]))}


# --- where the index lives --------------------------------------------------------------------

class Unavailable(Exception):
    """The index is missing, being built for the first time, or unreadable."""


def location() -> Path:
    """The search directory: SEARCH_DIR, or DATA_DIR/search."""
    configured = _setting("SEARCH_DIR")
    return Path(configured) if configured else Path(current_app.config["DATA_DIR"]) / "search"


_GENERATION = re.compile(r"gen-[0-9A-Za-z_-]+")


def _live(root: Path) -> Path | None:
    """The live generation's directory, or None when there is none (or it is from an older schema)."""
    try:
        parts = (root / POINTER).read_text(encoding="ascii").split()
    except (OSError, UnicodeError):
        return None
    if len(parts) != 2 or parts[1] != f"v{SCHEMA_VERSION}" or not _GENERATION.fullmatch(parts[0]):
        return None
    path = root / parts[0]
    return path if path.is_dir() else None


def _open(path: Path):
    return FileStorage(str(path)).open_index()


@dataclass
class _Cached:
    path: Path
    stamp: tuple
    searcher: object


_local = threading.local()


def _stamp(ix, path: Path) -> tuple:
    generation = ix.latest_generation()
    toc = os.stat(path / f"_MAIN_{generation}.toc")
    return generation, toc.st_ino, toc.st_size, toc.st_mtime_ns


def _searcher(name: str):
    """This thread's searcher on the live `name` index, reopened when the index has changed."""
    gen = _live(location())
    if gen is None:
        raise Unavailable("no search index (run: flask --app wsgi search rebuild)")
    path = gen / name
    cache: dict = _local.__dict__.setdefault("searchers", {})
    entry = cache.get(name)
    if entry is not None and entry.path == path and _stamp(entry.searcher._ix, path) == entry.stamp:
        return entry.searcher
    # Changed (or first use): open afresh. Whoosh's `Searcher.refresh()` is not used on purpose:
    # it reuses segment readers with their old deletions, so a deleted comment would stay findable.
    _close(name)
    ix = _open(path)
    searcher = ix.searcher(weighting=WEIGHTING)
    cache[name] = _Cached(path, _stamp(ix, path), searcher)
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


_last_logged = {"at": 0.0}


def _log_unavailable(exc: Exception) -> None:
    """Log a broken or missing index at most once a minute per process (every search would)."""
    if time.monotonic() - _last_logged["at"] > 60:
        _last_logged["at"] = time.monotonic()
        log.error("search unavailable: %s", exc, exc_info=not isinstance(exc, Unavailable))


# --- pending ids -------------------------------------------------------------------------------

def _locked(fh) -> None:
    if fcntl is not None:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)


def _pending_add(root: Path, posts: Iterable[int], comments: Iterable[int]) -> None:
    lines = [f"p {p}\n" for p in sorted(posts)] + [f"c {c}\n" for c in sorted(comments)]
    if not lines:
        return
    root.mkdir(parents=True, exist_ok=True)
    with open(root / PENDING, "a", encoding="ascii") as fh:
        _locked(fh)
        fh.write("".join(lines))


def _pending_take(root: Path) -> tuple[set[int], set[int]]:
    try:
        fh = open(root / PENDING, "r+", encoding="ascii")
    except FileNotFoundError:
        return set(), set()
    with fh:
        _locked(fh)
        data = fh.read()
        fh.seek(0)
        fh.truncate()
    posts, comments = set(), set()
    for line in data.splitlines():
        kind, _sep, number = line.partition(" ")
        if number.isdigit():
            (posts if kind == "p" else comments).add(int(number))
    return posts, comments


# --- keeping the index in step with the database ------------------------------------------------

def refresh(posts: Iterable[int] = (), comments: Iterable[int] = ()) -> None:
    """Make the index match the database for these posts (with their comments) and comments.

    Call after the commit of anything that changes what readers may see: publish, unpublish,
    edit, approve, reject, spam, delete, restore, reply (the answer and its question), erase.
    Never raises: on failure the ids are queued and the error logged.
    """
    posts, comments = {int(p) for p in posts}, {int(c) for c in comments}
    if not posts and not comments:
        return
    try:
        root = location()
        _refresh(root, posts, comments)
    except Exception:
        log.exception("search: index update failed (posts %s, comments %s); queued for retry",
                      sorted(posts)[:20], sorted(comments)[:20])
        try:
            _pending_add(location(), posts, comments)
        except Exception:
            log.exception("search: could not queue the ids either")


def _refresh(root: Path, posts: set[int], comments: set[int], *, replaying: bool = False) -> None:
    rebuilding = (root / REBUILDING).exists()
    if rebuilding and not replaying:
        _pending_add(root, posts, comments)  # the rebuild applies them to the new index
    gen = _live(root)
    if gen is None:
        if not rebuilding:
            _pending_add(root, posts, comments)
        log.warning("search: no index yet; %d post(s) and %d comment(s) wait for the rebuild",
                    len(posts), len(comments))
        return
    if not rebuilding:
        queued_posts, queued_comments = _pending_take(root)
        posts |= queued_posts  # in place: if this fails, the caller queues them again
        comments |= queued_comments
    with db.engine.connect() as conn:
        with _writing(_open(gen / READER)) as writer:
            for pid in posts:
                writer.delete_by_term("post_id", str(pid))
            for cid in comments:
                writer.delete_by_term("doc_id", f"c{cid}")
            docs = {}
            for doc in [*documents.reader_posts(conn, posts), *documents.reader_comments(conn, comments, posts)]:
                docs[(doc.kind, doc.id)] = doc
            for doc in docs.values():
                writer.add_document(**_reader_fields(doc))
            conn.rollback()  # end the read transaction: the next one sees the newest rows
        with _writing(_open(gen / STAFF)) as writer:
            for pid in posts - documents.existing_posts(conn, posts):
                writer.delete_by_term("post_id", str(pid))  # a deleted post took its comments along
            for cid in comments:
                writer.delete_by_term("doc_id", f"c{cid}")
            for doc in documents.staff_comments(conn, comments):
                writer.add_document(**_staff_fields(doc))


class _writing:
    """A writer that waits for the lock (a few times) and commits, or cancels on error."""

    def __init__(self, ix):
        self.ix = ix

    def __enter__(self):
        attempts = max(1, int(_setting("SEARCH_WRITE_ATTEMPTS")))
        for attempt in range(1, attempts + 1):
            try:
                self.writer = self.ix.writer(timeout=float(_setting("SEARCH_WRITE_TIMEOUT")),
                                             delay=float(_setting("SEARCH_WRITE_DELAY")))
                return self.writer
            except LockError:
                if attempt == attempts:
                    raise
                log.warning("search: index write lock busy (attempt %d of %d)", attempt, attempts)

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.writer.commit()
        else:
            self.writer.cancel()
        self.ix.close()
        return False


# --- reader search -------------------------------------------------------------------------------

@dataclass
class Hit:
    """One result: a post, or a comment under its post."""

    kind: str  # post | comment
    id: int
    post_slug: str
    title: str  # the post's title (a comment's: the post it is under)
    title_html: Markup
    snippet: Markup  # escaped text, only <mark> added
    date: datetime
    lang: str
    category: str | None = None
    author_name: str = ""
    is_official: bool = False
    status: str = CommentStatus.APPROVED  # staff search: any status
    post_id: int | None = None

    @property
    def comment_id(self) -> int | None:
        return self.id if self.kind == "comment" else None

    @property
    def endpoint(self) -> str:
        return "comments.permalink" if self.kind == "comment" else "blog.post"

    @property
    def url_values(self) -> dict:
        if self.kind == "comment":
            return {"slug": self.post_slug, "comment_id": self.id}
        return {"slug": self.post_slug}


@dataclass
class Results:
    """A page of results. `state`: "ok", "empty" (no query given) or "unavailable" (being rebuilt)."""

    query: str
    state: str = "ok"
    hits: list[Hit] = field(default_factory=list)
    total: int = 0
    page: int = 1
    per_page: int = 10
    suggestion: str | None = None  # "did you mean", a whole query string
    notices: tuple[str, ...] = ()  # "shortened" (query cut to length/terms), "no_terms" (only stop words)
    kind: str = "all"
    category: str | None = None
    sort: str = "relevance"

    @property
    def unavailable(self) -> bool:
        return self.state == "unavailable"

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def first(self) -> int:
        return (self.page - 1) * self.per_page + 1 if self.total else 0

    @property
    def last(self) -> int:
        return min(self.total, self.page * self.per_page)


_INVISIBLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]")
_QUOTED = re.compile(r'"([^"]*)"')
_WORDS = re.compile(WORD)


def clean_query(q: str | None) -> tuple[str, bool]:
    """The query without control or invisible characters, whitespace collapsed, length capped."""
    text = unicodedata.normalize("NFC", str(q or ""))
    text = " ".join(_INVISIBLE.sub(" ", text).split())
    limit = int(_setting("SEARCH_MAX_QUERY_LENGTH"))
    if len(text) <= limit:
        return text, False
    cut = text[:limit]
    return (cut.rsplit(" ", 1)[0] if " " in cut else cut).strip(), True


def parse_query(text: str) -> tuple[list[list[str]], bool]:
    """Words and "quoted phrases" (as lists of words); everything else is punctuation.

    There is no query syntax: AND, OR, NOT are words, and * ? ~ : ( ) are ignored, so no input
    can fail to parse or turn into an expensive wildcard query. An unbalanced quote is ignored.
    """
    items: list[list[str]] = []
    seen: set[str] = set()
    position = 0
    for match in _QUOTED.finditer(text):
        items.extend([w] for w in _WORDS.findall(text[position:match.start()]))
        phrase = _WORDS.findall(match.group(1))
        if phrase:
            items.append(phrase)
        position = match.end()
    items.extend([w] for w in _WORDS.findall(text[position:]))
    unique = []
    for item in items:
        key = " ".join(item).casefold()
        if key not in seen:
            seen.add(key)
            unique.append(item)
    limit = int(_setting("SEARCH_MAX_TERMS"))
    return unique[:limit], len(unique) > limit


def _analyse(lang: str, words: list[str]) -> list[str]:
    return [token.text for token in ANALYZERS[lang](" ".join(words))]


def _text_query(items: list[list[str]], *, prefer: str | None = None, pairs: bool = True):
    """Every word (or phrase) must match, in the fields of one language; either language may match.

    A phrase matches as all of its adjacent word pairs (`pairs_xx`); without pairs (the staff
    index) as all of its words. Returns the query (None if nothing is left after stop words) and
    the analysed terms per language (for highlighting).
    """
    per_lang, terms = [], {}
    for lang in LANGS:
        clauses, used = [], set()
        for words in items:
            tokens = _analyse(lang, words)
            if not tokens:
                continue  # a stop word in this language
            used.update(tokens)
            if len(tokens) > 1 and pairs:
                clauses.extend(Term(f"pairs_{lang}", a + PAIR + b) for a, b in zip(tokens, tokens[1:]))
            else:
                clauses.extend(Term(f"all_{lang}", token) for token in tokens)
        if not clauses:
            continue
        query = clauses[0] if len(clauses) == 1 else And(clauses)
        per_lang.append(query.with_boost(1.2) if lang == prefer else query)
        terms[lang] = used
    if not per_lang:
        return None, terms
    return (per_lang[0] if len(per_lang) == 1 else Or(per_lang)), terms


def _reader_filter(kind: str, category: str | None):
    parts = []
    if kind == "posts":
        parts.append(Term("kind", "post"))
    elif kind == "comments":
        parts.append(Term("kind", "comment"))
    elif kind == "official":
        parts.append(Term("official", "1"))
    if category:
        parts.append(Term("category", category))
    return And(parts) if len(parts) > 1 else (parts[0] if parts else None)


def _future(now: datetime):
    """Documents of scheduled posts (and their comments) whose date has not come: the database says which."""
    ids = documents.scheduled_post_ids(now)
    return Or([Term("post_id", str(pid)) for pid in ids]) if ids else None


def _restricted(query, *, require=None, exclude=None):
    """`query` limited to documents matching `require` and not `exclude`, scored by `query` alone.

    Done in the query (intersecting posting lists) rather than with Whoosh's `filter=`/`mask=`:
    those become bit sets whose truth test scans every byte for every matching document, which
    made a common word take seconds on 120,000 documents.
    """
    if require is not None:
        query = Require(query, require)
    if exclude is not None:
        query = AndNot(query, exclude)
    return query


def search(q: str | None, *, kind: str = "all", category: str | None = None, sort: str = "relevance",
           page: int = 1, per_page: int = 10, lang: str = "de", now: datetime | None = None) -> Results:
    """What readers may find for `q`, one page of it. Never raises."""
    kind = kind if kind in KINDS else "all"
    sort = sort if sort in SORTS else "relevance"
    category = (category or "").strip()[:80] or None
    per_page = min(max(int(per_page or 10), 1), 100)
    page = min(max(int(page or 1), 1), MAX_PAGE)
    text, shortened = clean_query(q)
    results = Results(query=text, kind=kind, category=category, sort=sort, page=page, per_page=per_page)
    if not text:
        results.state = "empty"
        return results
    items, too_many = parse_query(text)
    if shortened or too_many:
        results.notices += ("shortened",)
    query, terms = _text_query(items, prefer=lang)
    now = now or datetime.now(timezone.utc)
    try:
        searcher = _searcher(READER)
        if query is None:
            results.notices += ("no_terms",)
            return results
        restrict = {"require": _reader_filter(kind, category), "exclude": _future(now)}
        found = _run(searcher, _restricted(query, **restrict), results)
        results.hits = _reader_hits(found, terms, now)
        if results.total == 0:
            results.suggestion = _did_you_mean(searcher, items, restrict)
    except Exception as exc:
        _log_unavailable(exc)
        db.session.rollback()
        return Results(query=text, state="unavailable", kind=kind, category=category, sort=sort,
                       per_page=per_page)
    return results


def _collect(searcher, query, limit: int, *, by_date: bool = False, terms: bool = False):
    """Whoosh `Results` for `query`, counted exactly.

    Built by hand rather than with `Searcher.search()`: its default collector's block-quality
    skipping trips an assertion inside `Require` matchers, and its periodic "matcher replacement"
    loses documents of phrase/AndMaybe queries (a query counted 1,592 of its 14,168 matches).
    Neither buys anything here, since every match is counted for the total anyway.
    """
    if by_date:
        collector = collectors.SortingCollector("date", limit=limit, reverse=True)
    else:
        collector = collectors.TopCollector(limit, usequality=False, replace=0)
    if terms:
        collector = collectors.TermsCollector(collector)
    searcher.search_with_collector(query, collector)
    return collector.results()


def _run(searcher, query, results: Results) -> list:
    """Search, clamp the page into range, set total and page; the hits of that page."""
    found = _collect(searcher, query, results.page * results.per_page, by_date=results.sort == "date")
    results.total = len(found)
    results.page = min(results.page, results.pages)  # beyond the end: the last page (all of it is in `found`)
    start = (results.page - 1) * results.per_page
    return [(hit["doc_id"], hit["lang"]) for hit in found[start:start + results.per_page]]


def _reader_hits(found: list, terms: dict, now: datetime) -> list[Hit]:
    """Hits checked against the database (visible now), with their titles and snippets."""
    post_ids = [int(d[1:]) for d, _lang in found if d.startswith("p")]
    comment_ids = [int(d[1:]) for d, _lang in found if d.startswith("c")]
    posts = documents.visible_posts(post_ids, now)
    comments = documents.comments_by_id(comment_ids, now)
    hits = []
    for doc_id, lang in found:
        number = int(doc_id[1:])
        if doc_id.startswith("p") and number in posts:
            p = posts[number]
            hits.append(Hit(kind="post", id=p.id, post_id=p.id, post_slug=p.slug, title=p.title,
                            title_html=_highlight(p.title, lang, terms, whole=True),
                            snippet=_highlight(p.text, lang, terms, fallback=p.summary),
                            date=p.published_at, lang=p.lang, category=p.category))
        elif doc_id.startswith("c") and number in comments:
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
    """Escapes the text and wraps matches in <mark>: the only markup a snippet contains."""

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
    """Escaped text with the query's words marked: the best passages, or the beginning."""
    lang = _lang(lang)
    wanted = terms.get(lang)
    if wanted and text:
        scan = text if whole else text[:int(_setting("SEARCH_SNIPPET_SCAN_CHARS"))]
        if whole:
            fragmenter = highlight.WholeFragmenter()
        else:
            fragmenter = highlight.ContextFragmenter(maxchars=length, surround=60)
        marked = highlight.highlight(scan, wanted, ANALYZERS[lang], fragmenter, _MarkFormatter(len(text)),
                                     top=2, minscore=1)
        if marked:
            return Markup(marked)
    if whole:
        return Markup.escape(text)
    return Markup.escape(_shorten(fallback or text, length))


def _shorten(text: str, length: int) -> str:
    if len(text) <= length:
        return text
    return text[:length].rsplit(" ", 1)[0].rstrip(",;:.-–") + " …"


def _did_you_mean(searcher, items: list[list[str]], restrict: dict) -> str | None:
    """A corrected query built from words in the index, if it finds something."""
    reader = searcher.reader()
    changed, corrected = False, []
    for words in items:
        fixed = []
        for word in words:
            lower = word.lower()
            if len(lower) < 4 or not lower.isalpha() or reader.doc_frequency("spell", lower):
                fixed.append(lower)
                continue
            best = _closest(reader, lower)
            changed = changed or best is not None
            fixed.append(best or lower)
        corrected.append(fixed)
    if not changed:
        return None
    query, _terms = _text_query(corrected)
    if query is None or _collect(searcher, _restricted(query, **restrict), 1).is_empty():
        return None
    return " ".join(f'"{" ".join(words)}"' if len(words) > 1 else words[0] for words in corrected)


_SPELT_OUT = (("ae", "ä"), ("oe", "ö"), ("ue", "ü"))


def _closest(reader, word: str) -> str | None:
    """The most frequent indexed word within one (short words) or two edits, same first letter.

    Umlauts typed as ae/oe/ue ("Stoerumg") are also tried as umlauts, and candidates are compared
    folded, so "stoerumg" leads to "störung".
    """
    maxdist = 1 if len(word) < 7 else 2
    variants = {word}
    umlauts = word
    for spelt, umlaut in _SPELT_OUT:
        umlauts = umlauts.replace(spelt, umlaut)
    variants.add(umlauts)
    folded = fold(word)
    candidates = {}
    for variant in variants:
        for w in reader.terms_within("spell", variant, maxdist, prefix=1):
            if fold(w) != folded:
                candidates[w] = (distance(folded, fold(w)), -reader.doc_frequency("spell", w), w)
    return min(candidates.values())[2] if candidates else None


# --- staff search and similar answered comments -----------------------------------------------------

def staff_search(q: str | None, page: int = 1, per_page: int = 20, *, sort: str = "relevance",
                 status: str | None = None) -> Results:
    """All comments, pending and spam included (moderators only). Never raises."""
    sort = sort if sort in SORTS else "relevance"
    per_page = min(max(int(per_page or 20), 1), 100)
    text, shortened = clean_query(q)
    results = Results(query=text, sort=sort, page=min(max(int(page or 1), 1), MAX_PAGE), per_page=per_page,
                      kind="comments")
    if not text:
        results.state = "empty"
        return results
    items, too_many = parse_query(text)
    if shortened or too_many:
        results.notices += ("shortened",)
    query, terms = _text_query(items, pairs=False)
    try:
        searcher = _searcher(STAFF)
        if query is None:
            results.notices += ("no_terms",)
            return results
        flt = Term("status", status) if status in set(CommentStatus) else None
        found = _run(searcher, _restricted(query, require=flt), results)
        rows = documents.comments_by_id([int(d[1:]) for d, _lang in found], None)
        results.hits = [_comment_hit(rows[int(d[1:])], lang, terms) for d, lang in found if int(d[1:]) in rows]
    except Exception as exc:
        _log_unavailable(exc)
        db.session.rollback()
        return Results(query=text, state="unavailable", sort=sort, per_page=per_page, kind="comments")
    return results


@dataclass
class Similar:
    """An earlier reader comment the team has answered, and the (first) answer."""

    comment_id: int
    post_slug: str
    post_title: str
    author_name: str
    created_at: datetime
    excerpt: str
    answer_id: int
    answer_author: str
    answer_excerpt: str
    answer_body_md: str  # to reuse as the start of a new answer
    score: float


def similar_answered(comment_id: int, limit: int = 3, *, now: datetime | None = None) -> list[Similar]:
    """Other comments the team has already answered whose text is like this one's, best first.

    More-like-this: Whoosh picks the comment's most telling words (Bo1 model, against the whole
    reader index), and answered comments sharing at least two of them are ranked. Never raises.
    """
    try:
        row = documents.comments_by_id([int(comment_id)], None).get(int(comment_id))
        if row is None or not row.text:
            return []
        lang = _lang(row.lang)
        searcher = _searcher(READER)
        body = f"all_{lang}"
        common = max(50, searcher.doc_count() // 10)  # a word in every tenth document says little, costs much
        key_terms = [(word, weight) for word, weight in searcher.key_terms_from_text(body, row.text[:5000], numterms=10)
                     if searcher.doc_frequency(body, word) <= common][:8]
        if not key_terms:
            return []
        query = Or([Term(body, word, boost=weight) for word, weight in key_terms])
        answered = And([Term("kind", "comment"), Term("answered", "1")])
        now = now or datetime.now(timezone.utc)
        itself = Or(list(filter(None, [Term("doc_id", f"c{row.id}"), _future(now)])))
        found = _collect(searcher, _restricted(query, require=answered, exclude=itself), limit * 3 + 5, terms=True)
        needed = 1 if len(key_terms) < 3 else 2  # one shared common word is not "similar"
        ranked = [(int(hit["doc_id"][1:]), hit.score) for hit in found
                  if len({text for name, text in hit.matched_terms() if name == body}) >= needed]
        questions = documents.comments_by_id([cid for cid, _score in ranked], now)
        answers = documents.first_answers(list(questions))
        similar = []
        for cid, score in ranked:
            if cid in questions and cid in answers and len(similar) < limit:
                question, answer = questions[cid], answers[cid]
                similar.append(Similar(
                    comment_id=cid, post_slug=question.post_slug, post_title=question.post_title,
                    author_name=question.author_name, created_at=question.created_at,
                    excerpt=_shorten(question.text, 200), answer_id=answer.id, answer_author=answer.author_name,
                    answer_excerpt=_shorten(answer.text, 300), answer_body_md=answer.body_md,
                    score=round(score, 3)))
        return similar
    except Exception as exc:
        _log_unavailable(exc)
        db.session.rollback()
        return []


# --- rebuild and status ----------------------------------------------------------------------------

class RebuildRunning(Exception):
    """Another rebuild holds the lock."""


@dataclass
class RebuildSummary:
    posts: int
    comments: int  # approved comments in the reader index
    staff_comments: int  # all comments in the staff index
    seconds: float
    size_bytes: int
    location: str
    replayed: int  # changes made during the rebuild, applied after the switch

    @property
    def documents(self) -> int:
        return self.posts + self.comments + self.staff_comments

    @property
    def per_second(self) -> float:
        return self.documents / self.seconds if self.seconds else 0.0


def rebuild(progress: Callable[[int, int], None] | None = None) -> RebuildSummary:
    """Build both indexes from the database beside the live ones, then switch over.

    `progress(done, total)` is called now and then. Raises on failure (the live index, if any,
    stays in place) and `RebuildRunning` if another rebuild is under way.
    """
    root = location()
    root.mkdir(parents=True, exist_ok=True)
    progress = progress or (lambda done, total: None)
    with open(root / REBUILD_LOCK, "w") as lock:
        if fcntl is not None:
            try:
                fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise RebuildRunning("another search rebuild is running") from None
        return _rebuild(root, progress)


def _rebuild(root: Path, progress) -> RebuildSummary:
    started = time.perf_counter()
    (root / REBUILDING).write_text(str(os.getpid()), encoding="ascii")
    _pending_take(root)  # older entries: the full read below includes them
    name = f"gen-{datetime.now(timezone.utc):%Y%m%dT%H%M%S}-{os.getpid()}-{secrets.token_hex(3)}"
    gen = root / name
    try:
        counts = _build(gen, progress)
        tmp = root / f"{POINTER}.{os.getpid()}.tmp"
        tmp.write_text(f"{name} v{SCHEMA_VERSION}\n", encoding="ascii")
        os.replace(tmp, root / POINTER)
    except BaseException:
        shutil.rmtree(gen, ignore_errors=True)
        (root / REBUILDING).unlink(missing_ok=True)
        raise
    replayed = _replay(root)
    (root / REBUILDING).unlink(missing_ok=True)
    replayed += _replay(root)  # anything queued between the first replay and the marker's removal
    for old in root.glob("gen-*"):
        if old.name != name and old.is_dir():
            shutil.rmtree(old, ignore_errors=True)  # open readers elsewhere keep their open files
    close()
    size = sum(f.stat().st_size for f in gen.rglob("*") if f.is_file())
    return RebuildSummary(posts=counts[0], comments=counts[1], staff_comments=counts[2],
                          seconds=time.perf_counter() - started, size_bytes=size, location=str(gen),
                          replayed=replayed)


# index → (schema, [(documents function, fields, slot in the counts)])
_PARTS = {
    READER: (reader_schema, [("all_reader_posts", _reader_fields, 0), ("all_reader_comments", _reader_fields, 1)]),
    STAFF: (staff_schema, [("all_staff_comments", _staff_fields, 2)]),
}


def _build(gen: Path, progress) -> tuple[int, int, int]:
    """Both indexes of a new generation, each written by `SEARCH_REBUILD_PROCESSES` processes.

    Analysis is pure Python: Whoosh's multiprocessing writer spreads the documents over the
    cores (each process writes its own segment), which took the benchmark corpus from about
    150 s to well under 100 s on two cores.
    """
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
    """Write one index from the database; counts of (posts, approved comments, staff comments)."""
    schema, parts = _PARTS[name]
    counts = [0, 0, 0]
    (gen / name).mkdir(parents=True)
    ix = FileStorage(str(gen / name)).create_index(schema())
    procs = _processes()
    # multisegment: each process's segment is kept as it is (merging them would cost a full pass).
    writer = ix.writer(limitmb=int(_setting("SEARCH_REBUILD_MEMORY_MB")), procs=procs, multisegment=procs > 1)
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
    configured = _setting("SEARCH_REBUILD_PROCESSES")
    if configured:
        return max(1, int(configured))
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1  # Whoosh's writer processes rely on fork
    return max(1, min(4, os.cpu_count() or 1))


def _replay(root: Path) -> int:
    posts, comments = _pending_take(root)
    if posts or comments:
        try:
            _refresh(root, posts, comments, replaying=True)
        except Exception:
            log.exception("search: replaying changes after the rebuild failed; queued again")
            _pending_add(root, posts, comments)
    return len(posts) + len(comments)


def status() -> dict:
    """What `flask search status` shows: live generation, document counts, size, queued changes."""
    root = location()
    info = {"location": str(root), "available": False, "generation": None, "reader_documents": None,
            "staff_documents": None, "size_bytes": 0, "pending": 0, "rebuilding": (root / REBUILDING).exists()}
    try:
        info["pending"] = sum(1 for _ in open(root / PENDING, encoding="ascii"))
    except OSError:
        pass
    gen = _live(root)
    if gen is None:
        return info
    info["generation"] = gen.name
    info["size_bytes"] = sum(f.stat().st_size for f in gen.rglob("*") if f.is_file())
    try:
        info["reader_documents"] = _searcher(READER).doc_count()
        info["staff_documents"] = _searcher(STAFF).doc_count()
        info["available"] = True
    except Exception as exc:
        log.error("search status: index unreadable: %s", exc)
    return info
