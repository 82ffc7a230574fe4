"""Where cached pages and the content generation live: this process (one machine) or Redis (all).

The generation is a number that every change readers could see moves on (see `invalidation.py`);
a cached page remembers the generation it was rendered in and counts only while that is current.
- `LocalStore` (no REDIS_URL): the generation is a small file in DATA_DIR, replaced on each change,
  so every worker of the machine sees a change at its next request by one `stat()`; pages are kept
  per process, least recently used out first, within PAGE_CACHE_MEMORY_MB.
- `RedisStore`: generation and pages in Redis, one round trip per request (MGET), shared by every
  worker and app server; pages expire by themselves.
An entry is bytes in our own format (a JSON head, then the body): nothing in the cache is ever
unpickled, so a cache server someone else can write to cannot run code in ours.
"""
import json
import os
import threading
import time
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from pathlib import Path

from app import redis_store

GENERATION_FILE = "page-cache-generation"


@dataclass
class Entry:
    """A cached answer: what it was rendered from (generation), until when it holds, its bytes."""

    generation: str
    expires: float  # unix time
    status: int
    content_type: str
    etag: str  # without quotes or W/
    last_modified: int  # unix time (seconds)
    body: bytes = b""
    gzip_body: bytes = b""  # compressed once at store time (pages without per-request fields)
    fields: list[str] = field(default_factory=list)  # per-request fields to fill in: "csrf", "ts"
    headers: list[tuple[str, str]] = field(default_factory=list)

    def dump(self) -> bytes:
        head = asdict(self)
        body, gzip_body = head.pop("body"), head.pop("gzip_body")
        head["lengths"] = [len(body), len(gzip_body)]
        return json.dumps(head, separators=(",", ":")).encode() + b"\n" + body + gzip_body

    @classmethod
    def load(cls, raw: bytes | None) -> "Entry | None":
        if not raw:
            return None
        try:
            head_raw, rest = raw.split(b"\n", 1)
            head = json.loads(head_raw)
            n_body, n_gzip = head.pop("lengths")
            head["headers"] = [tuple(pair) for pair in head.get("headers", [])]
            return cls(**head, body=rest[:n_body], gzip_body=rest[n_body:n_body + n_gzip])
        except (ValueError, TypeError, KeyError):
            return None  # not ours, or from an older release: a miss


class LocalStore:
    def __init__(self, data_dir: str, memory_bytes: int):
        self.path = Path(data_dir) / GENERATION_FILE
        self.memory_bytes = memory_bytes
        self._entries: OrderedDict[str, tuple[Entry, int]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def generation(self) -> str:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return "0"
        # A new file per change (written aside, renamed into place): inode and mtime tell it apart.
        return f"{st.st_ino}-{st.st_mtime_ns}"

    def lookup(self, key: str) -> tuple[Entry | None, str]:
        generation = self.generation()
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
        entry = found[0] if found else None
        return (entry if entry and entry.generation == generation else None), generation

    def put(self, key: str, entry: Entry) -> None:
        size = len(entry.body) + len(entry.gzip_body) + 512
        if size > self.memory_bytes // 4:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old:
                self._size -= old[1]
            self._entries[key] = (entry, size)
            self._size += size
            while self._size > self.memory_bytes and self._entries:
                _, (_, dropped) = self._entries.popitem(last=False)
                self._size -= dropped

    def bump(self) -> None:
        tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(f"{time.time_ns()}\n")
        os.replace(tmp, self.path)

    def forget(self) -> None:
        """Drop this process's pages (other workers keep theirs)."""
        with self._lock:
            self._entries.clear()
            self._size = 0


class RedisStore:
    def __init__(self, config):
        self.config = config
        self.generation_key = redis_store.key("pages", "generation", config=config)

    def _client(self):
        return redis_store.client(self.config)

    def _page_key(self, key: str) -> str:
        return redis_store.key("pages", key, config=self.config)

    def lookup(self, key: str) -> tuple[Entry | None, str]:
        generation, raw = self._client().mget([self.generation_key, self._page_key(key)])
        generation = (generation or b"0").decode()
        entry = Entry.load(raw)
        return (entry if entry and entry.generation == generation else None), generation

    def put(self, key: str, entry: Entry) -> None:
        ttl = max(1, int(entry.expires - time.time()))
        self._client().set(self._page_key(key), entry.dump(), ex=ttl)

    def bump(self) -> None:
        self._client().incr(self.generation_key)
