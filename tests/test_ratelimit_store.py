"""The SQLite counter file the workers of one machine share (app/ratelimit_store.py), and where
the app counts: that file, Redis when there is one, or what RATELIMIT_STORAGE_URI names."""
import multiprocessing
import sqlite3
import types
from pathlib import Path

import pytest
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy import func, select

from app import create_app, ratelimit_store
from app.extensions import db, limiter
from app.models import Comment
from app.ratelimit_store import SQLiteStorage, uri_for
from tests import databases
from tests.comment_helpers import post_comment
from tests.conftest import Factory, IsolatedClient, make_settings


@pytest.fixture
def clock(monkeypatch):
    """The store's time, moved by hand: windows run out without waiting."""
    now = types.SimpleNamespace(t=1_800_000_000.0)
    monkeypatch.setattr(ratelimit_store, "time", types.SimpleNamespace(time=lambda: now.t))
    return now


@pytest.fixture
def store(tmp_path):
    return storage_from_string(uri_for(tmp_path / "dir with spaces & #hash" / "limits.sqlite"))


@pytest.fixture(autouse=True)
def _folder(tmp_path):
    (tmp_path / "dir with spaces & #hash").mkdir()


def test_the_uri_names_the_file_and_the_store(store, tmp_path):
    assert isinstance(store, SQLiteStorage)
    assert store.path == str(tmp_path / "dir with spaces & #hash" / "limits.sqlite")
    assert store.check()


def test_hits_count_within_the_window_and_start_again_after_it(store, clock):
    assert [store.incr("k", 60) for _ in range(3)] == [1, 2, 3]
    assert store.get("k") == 3 and store.get_expiry("k") == clock.t + 60
    clock.t += 59.9
    assert store.incr("k", 60) == 4 and store.get_expiry("k") == clock.t - 59.9 + 60  # the window does not move
    clock.t += 0.1
    assert store.get("k") == 0 and store.get_expiry("k") == clock.t  # ran out: nothing counted, nothing to wait
    assert store.incr("k", 60) == 1 and store.get_expiry("k") == clock.t + 60  # a new window from this hit


def test_a_hit_may_cost_more_than_one(store):
    assert store.incr("k", 60, amount=3) == 3
    assert store.incr("k", 60, amount=2) == 5


def test_keys_are_counted_apart_and_cleared_alone(store):
    store.incr("a", 60)
    store.incr("b", 60)
    store.clear("a")
    assert (store.get("a"), store.get("b")) == (0, 1)
    assert store.reset() == 1 and store.get("b") == 0


def test_windows_that_ran_out_are_swept_a_few_at_a_time(store, clock, monkeypatch):
    for n in range(5):
        store.incr(f"old{n}", 10)
    clock.t += 11
    monkeypatch.setattr(ratelimit_store, "SWEEP_EVERY", 1)  # sweep on this hit …
    monkeypatch.setattr(ratelimit_store, "SWEEP_ROWS", 3)  # … at most three rows
    store.incr("new", 10)
    assert rows(store) == 3  # "new" and two old ones: the oldest went first, the rest waits
    store.incr("new", 10)
    assert rows(store) == 1


def rows(store) -> int:
    with sqlite3.connect(store.path) as conn:
        return conn.execute("SELECT count(*) FROM counters").fetchone()[0]


def test_flask_limiters_fixed_window_on_the_store(store):
    limiter_ = FixedWindowRateLimiter(store)
    five = parse("5 per minute")
    assert [limiter_.hit(five, "reader") for _ in range(6)] == [True] * 5 + [False]
    assert not limiter_.test(five, "reader") and limiter_.test(five, "another reader")
    stats = limiter_.get_window_stats(five, "reader")
    assert stats.remaining == 0 and stats.reset_time > 0


def test_a_broken_file_is_a_storage_error_not_a_crash(tmp_path):
    (tmp_path / "limits.sqlite").write_bytes(b"this is not a database" * 100)
    broken = storage_from_string(uri_for(tmp_path / "limits.sqlite"))
    assert not broken.check()
    with pytest.raises(sqlite3.DatabaseError):  # Flask-Limiter falls back to memory on this
        broken.incr("k", 60)


def _hit_many(uri: str, n: int, results) -> None:
    store = storage_from_string(uri)
    results.put([store.incr("shared", 60) for _ in range(n)])


def test_increments_from_several_processes_sum_exactly(store):
    store.incr("warm-up", 60)  # the parent's connection exists before the fork: children open their own
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    processes = [context.Process(target=_hit_many, args=(uri_for(store.path), 200, results)) for _ in range(6)]
    for process in processes:
        process.start()
    counts = [count for _ in processes for count in results.get(timeout=60)]
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    assert store.get("shared") == 1200
    assert sorted(counts) == list(range(1, 1201))  # each hit saw a count of its own: no lost update


def test_a_forked_process_does_not_reuse_its_parents_connection(store):
    store.incr("k", 60)
    parents = store._conn()
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    process = context.Process(target=lambda: results.put(store._conn() is parents))
    process.start()
    assert results.get(timeout=30) is False
    process.join(timeout=30)


# --- where the app counts ------------------------------------------------------------------

def test_without_redis_all_workers_count_in_a_file_in_the_data_dir(tmp_path):
    app = create_app(make_settings(tmp_path / "data", REDIS_URL=None))
    assert app.config["RATELIMIT_STORAGE_URI"] == uri_for(tmp_path / "data" / "ratelimits.sqlite")
    assert isinstance(limiter.storage, SQLiteStorage)
    assert app.config["RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"] and app.config["RATELIMIT_SWALLOW_ERRORS"]


def test_with_redis_the_limits_are_counted_there_in_the_blogs_namespace(tmp_path):
    app = create_app(make_settings(tmp_path / "data", REDIS_URL="redis://127.0.0.1:6390/2", REDIS_PREFIX="blog7"))
    assert app.config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6390/2"
    assert type(limiter.storage).__name__ == "RedisStorage" and limiter.storage.key_prefix == "blog7:limits"


def test_an_explicit_storage_uri_wins(tmp_path):
    app = create_app(make_settings(tmp_path / "data", REDIS_URL="redis://127.0.0.1:6390/2",
                                   RATELIMIT_STORAGE_URI="memory://"))
    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"
    assert type(limiter.storage).__name__ == "MemoryStorage"


def test_every_test_app_counts_apart(app):
    """On the PostgreSQL pass the whole suite counts on Redis, under a prefix per app; otherwise in
    the app's own data dir. Either way no test sees another's counts."""
    if databases.REDIS_URL:
        assert limiter.storage.key_prefix == app.config["REDIS_PREFIX"] + ":limits"
    else:
        assert limiter.storage.path == str(Path(app.config["DATA_DIR"]) / "ratelimits.sqlite")


def test_a_counter_file_that_fails_costs_no_comment_and_the_limit_holds_in_memory(tmp_path, monkeypatch):
    app = create_app(make_settings(tmp_path / "data", REDIS_URL=None, COMMENT_RATE_LIMIT="2 per minute"))
    app.test_client_class = IsolatedClient
    with app.app_context():
        databases.reset(db)
        Factory().post("Glasfaser für alle", slug="glasfaser")

        def locked(self):
            raise sqlite3.OperationalError("database is locked")

        monkeypatch.setattr(SQLiteStorage, "_conn", locked)
        client = app.test_client()
        try:
            statuses = [post_comment(client, "glasfaser", body=f"Frage {n}").status_code for n in range(3)]
        finally:
            limiter._storage_dead = False  # one limiter object serves every app of the process
        assert statuses == [302, 302, 429]
        assert db.session.scalar(select(func.count()).select_from(Comment)) == 2
        db.session.remove()
        db.engine.dispose()
