"""Where cached pages and the content generation live: this process (one machine) or Redis (all).

The generation is a number that every change readers could see moves on (see `invalidation.py`);
a cached page remembers the generation it was rendered in and counts only while that is current.
- `LocalStore` (no REDIS_URL): the generation is a small file in DATA_DIR, replaced on each change,
  so every worker of the machine sees a change at its next request by one `stat()`; pages (and
  fragments: rendered threads, see app/comments/thread_html.py) are kept per process, least
  recently used out first, within PAGE_CACHE_MEMORY_MB.
- `RedisStore`: generation and pages in Redis, one round trip per request (MGET), shared by every
  worker and app server; pages expire by themselves.
An entry is bytes in our own format (a JSON head, then the body): nothing in the cache is ever
unpickled, so a cache server someone else can write to cannot run code in ours.
"""
import json
import os
import re
import threading
import time
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from pathlib import Path

from app import redis_store

GENERATION_FILE = "page-cache-generation"
# Where a cached page holds a per-reader field (filled in on every hit).
CSRF_MARK = b"@@dialog-csrf@@"
TS_MARK = b"@@dialog-ts@@"
MARKS = (CSRF_MARK, TS_MARK)
_SPLIT = re.compile(b"(" + b"|".join(re.escape(mark) for mark in MARKS) + b")")


@dataclass
class Entry:
    """A cached answer: what it was rendered from (generation), until when it holds, its bytes."""

    generation: str
    expires: float  # unix time
    status: int
    content_type: str
    etag: str  # without quotes or W/
    last_modified: int  # unix time (seconds)
    body: bytes = b""  # with a mark where each per-reader field goes
    gzip_body: bytes = b""  # the fixed parts between the marks, each compressed (deflate.segments)
    gzip_lengths: list[int] = field(default_factory=list)  # of each compressed part
    headers: list[tuple[str, str]] = field(default_factory=list)  # as the miss sent them (hits.PER_ANSWER aside)
    meta: dict = field(default_factory=dict)  # what the view said of the page (a post page: its threads)

    def parts(self) -> tuple[list[bytes], list[bytes]]:
        """The body's fixed parts and the marks between them (split once per entry in memory)."""
        found = self.__dict__.get("_parts")
        if found is None:
            pieces = _SPLIT.split(self.body)
            found = self.__dict__["_parts"] = (pieces[0::2], pieces[1::2])
        return found

    def segments(self) -> list[bytes]:
        found = self.__dict__.get("_segments")
        if found is None:
            found, start = [], 0
            for length in self.gzip_lengths:
                found.append(self.gzip_body[start:start + length])
                start += length
            self.__dict__["_segments"] = found
        return found

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
            entry = cls(**head, body=rest[:n_body], gzip_body=rest[n_body:n_body + n_gzip])
            if entry.gzip_body and sum(entry.gzip_lengths) != len(entry.gzip_body):
                return None
            return entry
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
        self._remember(key, entry, len(entry.body) + len(entry.gzip_body) + 512)

    def _remember(self, key: str, entry, size: int) -> None:
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

    def fragments(self, keys: list[str]) -> list[bytes | None]:
        """Rendered pieces (keys name their generation, so a change makes them unreachable)."""
        with self._lock:
            found = [self._entries.get("f:" + key) for key in keys]
            for key, hit in zip(keys, found, strict=True):
                if hit is not None:
                    self._entries.move_to_end("f:" + key)
        return [hit[0] if hit is not None else None for hit in found]

    def put_fragments(self, pieces: dict[str, bytes], seconds: int) -> None:
        for key, value in pieces.items():
            self._remember("f:" + key, value, len(value) + 128)

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

    def generation(self) -> str:
        return (self._client().get(self.generation_key) or b"0").decode()

    def lookup(self, key: str) -> tuple[Entry | None, str]:
        generation, raw = self._client().mget([self.generation_key, self._page_key(key)])
        generation = (generation or b"0").decode()
        entry = Entry.load(raw)
        return (entry if entry and entry.generation == generation else None), generation

    def put(self, key: str, entry: Entry) -> None:
        ttl = max(1, int(entry.expires - time.time()))
        self._client().set(self._page_key(key), entry.dump(), ex=ttl)

    def fragments(self, keys: list[str]) -> list[bytes | None]:
        return self._client().mget([self._page_key("f:" + key) for key in keys]) if keys else []

    def put_fragments(self, pieces: dict[str, bytes], seconds: int) -> None:
        pipe = self._client().pipeline(transaction=False)
        for key, value in pieces.items():
            pipe.set(self._page_key("f:" + key), value, ex=max(1, seconds))
        pipe.execute()

    def bump(self) -> None:
        self._client().incr(self.generation_key)
