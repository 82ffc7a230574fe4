"""The backend's tables in their own PostgreSQL schema, the text search configurations, locks, rows.

Names are code constants or the validated `SEARCH_PG_SCHEMA` setting, always quoted; everything
a reader or a document brings is a bound parameter.
"""
import re
from datetime import UTC, datetime

from flask import current_app
from sqlalchemy import text

from app.search.documents import Doc
from app.search.text import WORD, fold

SCHEMA_VERSION = 1  # part of the live tables' names: after a bump they count as missing until rebuilt
DEFAULT_SCHEMA = "dialog_search"
LANGS = ("de", "en")
CONFIGS = {"de": "german", "en": "english"}  # built-in configurations: Snowball stemmer and stop words
READER, STAFF, WORDS = f"reader_v{SCHEMA_VERSION}", f"staff_v{SCHEMA_VERSION}", f"words_v{SCHEMA_VERSION}"
LIVE = {"reader": READER, "staff": STAFF, "words": WORDS}
BUILDING = {"reader": "reader_new", "staff": "staff_new", "words": "words_new"}
MAX_FIELD_CHARS = 200_000  # a tsvector holds at most 1 MB: longer texts are indexed up to here
MAX_WORDS_PER_DOC = 2000  # distinct "did you mean" words kept per document

# Advisory lock classes (the second key is the schema's hash): one rebuild at a time; a rebuild
# in progress (refreshes hold it shared and queue their ids instead while it is taken); writers.
LOCK_REBUILD, LOCK_BUILDING, LOCK_WRITE = 0x5EA4C01, 0x5EA4C02, 0x5EA4C03
_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_WORDS = re.compile(WORD)


def schema_name() -> str:
    """The schema holding the tables: `SEARCH_PG_SCHEMA` (tests give each app its own)."""
    name = current_app.config.get("SEARCH_PG_SCHEMA") or DEFAULT_SCHEMA
    if not _IDENTIFIER.fullmatch(name):
        raise ValueError(f"SEARCH_PG_SCHEMA must be a lowercase SQL identifier, not {name!r}")
    return name


def table(name: str) -> str:
    """`"schema"."name"` for SQL text."""
    return f'"{schema_name()}"."{name}"'


def lock(kind: int, how: str = "pg_advisory_xact_lock"):
    """SQL taking (or trying) an advisory lock of this class for this schema."""
    return text(f"SELECT {how}({int(kind)}, hashtext(:schema))").bindparams(schema=schema_name())


def config_of(lang: str | None) -> str:
    """The text search configuration of a document's language (German for anything else)."""
    return CONFIGS.get(lang or "", CONFIGS["de"])


def lang_of(code: str | None) -> str:
    return code if code in LANGS else LANGS[0]


def indexed(value: str) -> str:
    """Text as it goes into to_tsvector: lowercased and folded (the queries are folded alike)."""
    return fold((value or "")[:MAX_FIELD_CHARS].lower())


def spell_words(value: str) -> list[str]:
    """Real words for "did you mean": lowercased, neither stemmed nor folded, 3 to 40 letters."""
    seen = dict.fromkeys(w for w in _WORDS.findall((value or "")[:MAX_FIELD_CHARS].lower())
                         if 3 <= len(w) <= 40 and w.isalpha())
    return list(seen)[:MAX_WORDS_PER_DOC]


def _utc(value: datetime | None) -> datetime:
    if value is None:
        return datetime(1970, 1, 1, tzinfo=UTC)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def reader_row(doc: Doc) -> dict:
    """A post or approved comment as a reader-table row (parameters of `insert_reader`)."""
    lang = lang_of(doc.lang)
    return {"doc_id": f"{doc.kind[0]}{doc.id}", "kind": doc.kind, "ref": doc.id, "post_id": doc.post_id,
            "lang": lang, "cfg": config_of(lang), "category": doc.category or "", "official": bool(doc.official),
            "answered": bool(doc.answered), "date": _utc(doc.date), "title": indexed(doc.title),
            "body": indexed(doc.body), "meta": indexed(doc.meta),
            "words": spell_words(" ".join(filter(None, [doc.title, doc.body, doc.meta])))}


def staff_row(doc: Doc) -> dict:
    lang = lang_of(doc.lang)
    return {"doc_id": f"c{doc.id}", "ref": doc.id, "post_id": doc.post_id, "lang": lang, "cfg": config_of(lang),
            "status": doc.status, "date": _utc(doc.date), "body": indexed(doc.body), "meta": indexed(doc.meta)}


# Title above body above names: ts_rank's default weights are A 1.0, B 0.4, C 0.2.
_TSV = ("setweight(to_tsvector(CAST(:cfg AS regconfig), :title), 'A') || "
        "setweight(to_tsvector(CAST(:cfg AS regconfig), :body), 'B') || "
        "setweight(to_tsvector(CAST(:cfg AS regconfig), :meta), 'C')")
_STAFF_TSV = ("setweight(to_tsvector(CAST(:cfg AS regconfig), :body), 'B') || "
              "setweight(to_tsvector(CAST(:cfg AS regconfig), :meta), 'C')")


def insert_reader(name: str):
    return text(f"INSERT INTO {table(name)} (doc_id, kind, ref, post_id, lang, category, official, answered, date, "
                f"words, tsv) VALUES (:doc_id, :kind, :ref, :post_id, :lang, :category, :official, :answered, "
                f":date, CAST(:words AS text[]), {_TSV})")


def insert_staff(name: str):
    return text(f"INSERT INTO {table(name)} (doc_id, ref, post_id, lang, status, date, tsv) VALUES "
                f"(:doc_id, :ref, :post_id, :lang, :status, :date, {_STAFF_TSV})")


def create_tables(conn, names: dict[str, str]) -> None:
    """The three derived tables under these names (no indexes yet: they are built after loading)."""
    conn.execute(text(f"CREATE TABLE {table(names['reader'])} (doc_id text PRIMARY KEY, kind text NOT NULL, "
                      "ref integer NOT NULL, post_id integer NOT NULL, lang text NOT NULL, category text NOT NULL, "
                      "official boolean NOT NULL, answered boolean NOT NULL, date timestamptz NOT NULL, "
                      "words text[] NOT NULL, tsv tsvector NOT NULL)"))
    conn.execute(text(f"CREATE TABLE {table(names['staff'])} (doc_id text PRIMARY KEY, ref integer NOT NULL, "
                      "post_id integer NOT NULL, lang text NOT NULL, status text NOT NULL, "
                      "date timestamptz NOT NULL, tsv tsvector NOT NULL)"))
    conn.execute(text(f"CREATE TABLE {table(names['words'])} (word text PRIMARY KEY, folded text NOT NULL, "
                      "ndoc integer NOT NULL)"))


def create_indexes(conn, names: dict[str, str]) -> None:
    reader, staff, words = (table(names[k]) for k in ("reader", "staff", "words"))
    conn.execute(text(f"CREATE INDEX ON {reader} USING gin (tsv)"))
    # More-like-this walks only answered comments (as Whoosh's `answered_xx` field).
    conn.execute(text(f"CREATE INDEX ON {reader} USING gin (tsv) WHERE answered"))
    conn.execute(text(f"CREATE INDEX ON {reader} (post_id)"))
    conn.execute(text(f"CREATE INDEX ON {staff} USING gin (tsv)"))
    conn.execute(text(f"CREATE INDEX ON {staff} (post_id)"))
    conn.execute(text(f"CREATE INDEX ON {words} USING gin (folded gin_trgm_ops)"))


def ensure_base(conn) -> None:
    """The extension, the schema and the small tables that outlive rebuilds (the queue, facts)."""
    conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema_name()}"'))
    conn.execute(text(f"CREATE TABLE IF NOT EXISTS {table('pending')} (kind char(1) NOT NULL, id integer NOT NULL, "
                      "PRIMARY KEY (kind, id))"))
    conn.execute(text(f"CREATE TABLE IF NOT EXISTS {table('meta')} (key text PRIMARY KEY, value text NOT NULL)"))


def live_tables_exist(conn) -> bool:
    """True when the live tables of this schema version are there.

    Read from pg_tables (a fresh snapshot per statement), not with to_regclass: that consults the
    session's catalogue cache, which inside a transaction that takes no locks can still miss
    tables a rebuild created meanwhile.
    """
    found = conn.execute(text("SELECT count(*) FROM pg_tables WHERE schemaname = :schema "
                              "AND tablename = ANY(CAST(:names AS text[]))"),
                         {"schema": schema_name(), "names": list(LIVE.values())}).scalar()
    return found == len(LIVE)
