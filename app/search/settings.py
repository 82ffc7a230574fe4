"""The search settings: every key can be set in the app config (or as BLOG_<KEY>); these are the defaults."""
from flask import current_app

DEFAULTS = {
    "SEARCH_DIR": None,  # None: DATA_DIR/search
    "SEARCH_PER_PAGE": 10,  # results per page on /search
    "SEARCH_WRITE_TIMEOUT": 10.0,  # seconds one attempt waits for the index write lock
    "SEARCH_WRITE_DELAY": 0.05,  # seconds between tries for the lock
    "SEARCH_WRITE_ATTEMPTS": 3,  # then the change is queued and applied by the next update
    "SEARCH_MAX_QUERY_LENGTH": 200,  # characters; longer queries are shortened (with a notice)
    "SEARCH_MAX_TERMS": 10,  # words and "phrases" per query; more are dropped (with a notice)
    "SEARCH_SNIPPET_SCAN_CHARS": 3000,  # how much of a long text is looked through for a snippet
    "SEARCH_REBUILD_MEMORY_MB": 256,  # per writer process
    "SEARCH_REBUILD_PROCESSES": None,  # writer processes for a rebuild; None: one per core (at most 4)
}


def setting(key: str):
    """The configured value of a SEARCH_* key, or its default."""
    return current_app.config.get(key, DEFAULTS[key])
