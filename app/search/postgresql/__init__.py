"""The PostgreSQL search backend: full-text search in the app's own database (SEARCH_BACKEND = "postgresql").

The same functions as the Whoosh backend, taking and returning the same things (`app.search.results`),
re-exported by `app.search.index`; `documents.py` still says what goes in and `text.py` cleans
queries. The only package that writes full-text SQL (tsvector, tsquery, ts_headline, pg_trgm).

Storage: tables of its own in a schema of its own (`SEARCH_PG_SCHEMA`, default `dialog_search`),
derived from the app's tables the way Whoosh's files are: `reader_v1` (visible or scheduled posts
and approved comments), `staff_v1` (every comment, whatever its status), `words_v1` ("did you
mean" words with a trigram index), `pending` (changes still to apply) and `meta`. They are not
SQLAlchemy models in `app.models`: the app's tables are built by migrations on both databases and
by `create_all` in tests, and these exist only on PostgreSQL; a schema of their own also keeps
them out of Alembic's autogenerate. `rebuild` creates them (with `CREATE EXTENSION IF NOT EXISTS
pg_trgm`, a trusted extension the database owner may create); until then, or when a schema
version bump renamed them, search reports "unavailable" as with a missing Whoosh index.

As with Whoosh, reader and staff documents are separate tables rather than a status filter: a
pending or spam comment is never written where a reader's search looks, so no filter bug can leak it.

Text: each row is indexed with the built-in `german` or `english` configuration (Snowball stems,
stop words) after our own folding (`text.fold`: ä → ae, ß → ss, other accents dropped), and
queries are folded alike, so "Stoerung", "Störung" and "STÖRUNGEN" match each other exactly as
with Whoosh's FoldFilter. (The `unaccent` extension is not used: its rules turn ä into a, and
custom rules would need a file on the database server.) Title weighs A, text B, names C.

By concern: `schema.py` names, DDL, rows, locks; `opening.py` `Unavailable`; `writing.py`
`refresh`, `purge`; `queries.py` tsqueries and checked pages; `searching.py` `search`,
`staff_search`; `snippets.py` ts_headline; `suggestions.py` "did you mean"; `similar.py`
`similar_answered`; `rebuild.py` `rebuild`, `status`.
"""
from app.search.postgresql.opening import close
from app.search.postgresql.rebuild import rebuild, status
from app.search.postgresql.searching import MAX_PAGE, search, staff_search
from app.search.postgresql.similar import similar_answered
from app.search.postgresql.writing import purge, refresh
from app.search.steps import Unavailable

__all__ = ["MAX_PAGE", "Unavailable", "close", "purge", "rebuild", "refresh", "search", "similar_answered",
           "staff_search", "status"]
