"""Rate-limit counters in a SQLite file that every worker of this machine shares (the default
without Redis): `dialog+sqlite:///path/to/ratelimits.sqlite` as RATELIMIT_STORAGE_URI.

Flask-Limiter's own memory store counts per process, so N gunicorn workers let N times the limit
through. This file is not the app's database: counting never waits for a content write, and
losing it loses nothing but counters. Fixed windows only (Flask-Limiter's default strategy): a
hit is one upsert that returns the new count, atomic across processes; `deduct_when` and `cost`
use the same `get` and `incr`.
"""
import contextlib
import os
import random
import sqlite3
import threading
import time
from urllib.parse import quote, unquote, urlsplit

from limits.storage import Storage

SCHEME = "dialog+sqlite"
BUSY_TIMEOUT_SECONDS = 1.0  # a write takes microseconds; longer waits mean trouble (then: memory fallback)
SWEEP_EVERY = 200  # hits, on average, between two sweeps of a process …
SWEEP_ROWS = 500  # … each removing at most this many expired windows (through the index)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS counters (
    key TEXT PRIMARY KEY,
    value INTEGER NOT NULL,
    expires REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS ix_counters_expires ON counters (expires);
"""

# A window that has run out starts again from this hit; a running one counts on. The SET
# expressions all see the old row, so `expires` is compared before either column changes.
_INCR = """
INSERT INTO counters (key, value, expires) VALUES (:key, :amount, :expires)
ON CONFLICT (key) DO UPDATE SET
    value = CASE WHEN counters.expires <= :now THEN excluded.value ELSE counters.value + excluded.value END,
    expires = CASE WHEN counters.expires <= :now THEN excluded.expires ELSE counters.expires END
RETURNING value
"""


def uri_for(path) -> str:
    """The storage URI of a counter file (quoted: a data dir may hold any character)."""
    return f"{SCHEME}://{quote(str(path))}"


class SQLiteStorage(Storage):
    """Fixed-window counters in one SQLite file (WAL), one connection per process and thread."""

    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **_options):
        # Options meant for another store (the limiter keeps them between apps) do not apply here.
        super().__init__(uri, wrap_exceptions=wrap_exceptions)
        self.path = unquote(urlsplit(uri or "").path)
        if not self.path:
            raise ValueError(f"{SCHEME}:// needs a file path, e.g. {SCHEME}:///srv/blog/ratelimits.sqlite")
        self._local = threading.local()

    @property
    def base_exceptions(self):
        return sqlite3.Error

    def _conn(self) -> sqlite3.Connection:
        # A connection must not cross a fork (gunicorn --preload): each process opens its own.
        conn, pid = getattr(self._local, "conn", None), getattr(self._local, "pid", None)
        if conn is None or pid != os.getpid():
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
            conn.execute("PRAGMA synchronous=NORMAL")  # counters need no fsync per hit
            conn.executescript(_SCHEMA)
            self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = time.time()
        conn = self._conn()
        # fetchall(): the statement runs to its end, so its write lock is released at once.
        (value,), = conn.execute(_INCR, {"key": key, "amount": amount, "expires": now + expiry, "now": now}).fetchall()
        if random.randrange(SWEEP_EVERY) == 0:
            self._sweep(conn, now)
        return value

    def get(self, key: str) -> int:
        row = self._conn().execute("SELECT value FROM counters WHERE key = ? AND expires > ?",
                                   (key, time.time())).fetchone()
        return row[0] if row else 0

    def get_expiry(self, key: str) -> float:
        now = time.time()
        row = self._conn().execute("SELECT expires FROM counters WHERE key = ? AND expires > ?",
                                   (key, now)).fetchone()
        return row[0] if row else now

    def clear(self, key: str) -> None:
        self._conn().execute("DELETE FROM counters WHERE key = ?", (key,))

    def reset(self) -> int | None:
        return self._conn().execute("DELETE FROM counters").rowcount

    def check(self) -> bool:
        try:
            self._conn().execute("SELECT 1").fetchall()
            return True
        except sqlite3.Error:
            return False

    def _sweep(self, conn: sqlite3.Connection, now: float) -> None:
        """Forget some windows that ran out: keys never hit again would otherwise stay for good."""
        with contextlib.suppress(sqlite3.OperationalError):  # busy: the hit counted, the next sweep takes these
            conn.execute("DELETE FROM counters WHERE key IN "
                         "(SELECT key FROM counters WHERE expires <= ? ORDER BY expires LIMIT ?)", (now, SWEEP_ROWS))
