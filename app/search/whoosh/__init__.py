"""The Whoosh search backend: the only package that imports Whoosh.

Library: `whoosh-reloaded` 2.7.5 (import name `whoosh`), the fork of Whoosh 2.7.4 (2016) that
imports and runs cleanly on current Python; both are unmaintained upstream. Everything Whoosh
(analyzers, schemas, writers, queries, highlighting) lives in this package, behind the plain
functions that `app.search.index` re-exports and the dataclasses of `app.search.results`, so the
engine can be replaced without touching callers. `documents.py` reads from the database what
goes in, `storage.py` keeps the files on disk, `text.py` cleans queries; none of them imports
Whoosh.

By concern:
- `analysis.py` analyzers per language, umlaut folding, the scoring model;
- `schema.py` the two schemas and how a document becomes their fields;
- `opening.py` the live index, a cached searcher per thread, `Unavailable`;
- `writing.py` `refresh` (the index follows the database) and `purge` (erasure);
- `queries.py` queries from the cleaned words, restrictions, collecting, pages checked against the database;
- `searching.py` reader `search` and `staff_search`; `snippets.py` highlighting; `suggestions.py` "did you mean";
- `similar.py` `similar_answered`; `rebuild.py` `rebuild` and `status`.

Two indexes per generation (see `storage.py`): `reader` holds what readers may see, `staff`
every comment whatever its status. Separate directories rather than a status filter: a pending
or spam comment is never written where a reader's search looks, so no filter bug can leak it.

Whoosh pitfalls worked around here (measured on 20,000 posts and 100,000 comments): `filter=` and
`mask=` become bit sets whose truth test scans every byte per match (seconds per query), so
restrictions are part of the query (`Require`, `AndNot`); the default collector's block-quality
skipping trips an assertion in `Require` and its "matcher replacement" loses documents, so
results are collected by `queries.collect`; `Searcher.refresh()` reuses segment readers with
stale deletions, so changed indexes are reopened; NUMERIC fields write 16 terms per value and
look up a column file for each at commit, so dates are columns; position-checking phrase queries
took over 100 ms, so phrases match adjacent word pairs; BM25F reads a field length per match, so
scoring is BM25 without length normalisation (`analysis.Saturated`).
"""
