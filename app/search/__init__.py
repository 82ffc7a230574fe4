"""Full-text search (issue 5): the reader page `/search`, staff search, similar answered comments.

`index.py` is the API the rest of the app calls (`refresh`, `purge`, `search`, `staff_search`,
`similar_answered`, `rebuild`, `status`, `close`); it dispatches on `SEARCH_BACKEND` to `whoosh/`
(the only package that imports Whoosh) or `postgresql/` (PostgreSQL full-text search).
`steps.py` holds what both do around their engine, `documents.py` reads from the database what
goes in, `storage.py` keeps the Whoosh files on disk, `text.py` cleans queries, `results.py`
holds what searches return, `settings.py` the SEARCH_* defaults. The blueprint (`bp`) is in
`routes.py`, the command in `app/cli/search.py`.
"""
