"""Which database the suite runs on: SQLite files per test (default) or the throwaway PostgreSQL
cluster that `python -m tests.services --postgresql` started (its URL in DIALOG_TEST_POSTGRESQL).

On PostgreSQL each pytest worker builds its schema once and empties every table before each test
(as fresh as a new SQLite file, at a fraction of the cost); servers built through the migrations
(`fresh_url`) get a database of their own.
"""
import itertools
import os

import psycopg
from sqlalchemy import text

from tests.services import PG_ENV, REDIS_ENV

ADMIN_URL = os.environ.get(PG_ENV) or None
ON_POSTGRESQL = ADMIN_URL is not None
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
_numbers = itertools.count(1)
_schema_built: set[str] = set()


def _admin_dsn() -> str:
    return ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")


def _url(name: str) -> str:
    return ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def _create(name: str) -> str:
    with psycopg.connect(_admin_dsn(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return _url(name)


def worker_url() -> str | None:
    """The database the in-process tests of this worker share (None: a SQLite file per test)."""
    if not ON_POSTGRESQL:
        return None
    name = f"dialog_{_WORKER}"
    if name not in _schema_built:
        _create(name)
        _schema_built.add(name)
    return _url(name)


def fresh_url() -> str | None:
    """An empty database of its own, for a server that builds its schema through the migrations."""
    if not ON_POSTGRESQL:
        return None
    return _create(f"dialog_{_WORKER}_{os.getpid()}_{next(_numbers)}")


# The embedded default whatever the pass (`@pytest.mark.embedded`): a SQLite file in the data dir.
EMBEDDED = {"DATABASE_URL": None, "SEARCH_BACKEND": "whoosh", "REDIS_URL": None}


def unreachable_url(tmp_path) -> str:
    """A database that does not answer, on the pass's kind of database."""
    if ON_POSTGRESQL:
        from tests.services import free_port

        return f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/gone?connect_timeout=2"
    return f"sqlite:///{tmp_path}/missing/dir/db.sqlite"


def reset(db, *, embedded: bool = False) -> None:
    """The schema, with every table empty (PostgreSQL) — or simply the schema (a new SQLite file)."""
    from app.comments import service

    service._team_cache.clear()  # kept per database URL for half a minute: the tests share one URL
    if not ON_POSTGRESQL or embedded:
        db.create_all()
        return
    db.create_all()  # cheap when the tables exist: one catalogue query
    names = ", ".join(f'"{table.name}"' for table in db.metadata.sorted_tables)
    with db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


# The PostgreSQL pass is the deployment shape beyond one machine: PostgreSQL and Redis together.
REDIS_URL = os.environ.get(REDIS_ENV) if ON_POSTGRESQL else None
_prefixes = itertools.count(1)


def settings() -> dict:
    """What `make_settings` adds: nothing on SQLite (the embedded default); on PostgreSQL the
    worker's database and the Redis server, under a key prefix of each app's own, and PostgreSQL
    search in a schema of each app's own (reset() empties only the app's tables)."""
    if not ON_POSTGRESQL:
        return {}
    found = {"DATABASE_URL": worker_url(), "SEARCH_BACKEND": "postgresql",
             "SEARCH_PG_SCHEMA": f"search_{_WORKER}_{os.getpid()}_{next(_prefixes)}".lower()}
    if REDIS_URL:
        found.update(REDIS_URL=REDIS_URL, REDIS_PREFIX=f"t{_WORKER}-{os.getpid()}-{next(_prefixes)}")
    return found
