"""Where the index lives on disk, and the small files that coordinate workers. No Whoosh here.

Layout under `DATA_DIR/search/` (or `SEARCH_DIR`)::

    CURRENT         "gen-<time>-<pid>-<hex> v<schema version>": the live generation
    gen-…/reader/   Whoosh index of what readers may see
    gen-…/staff/    Whoosh index of every comment (moderators)
    pending         "p <id>" / "c <id>" lines: changes still to apply to the index
    REBUILDING      exists while a rebuild runs (changes are then queued for it as well)
    rebuild.lock    flock: one rebuild at a time

`CURRENT` is replaced atomically (write a temporary file, `os.replace`), so every reader sees
either the old or the new generation. `pending` is appended to and emptied under a short
`flock`, so several processes can queue and one can take.
"""
import os
import re
import secrets
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from flask import current_app

from app.search.settings import setting

try:  # Unix: advisory locks; elsewhere the files are used without them
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None

POINTER, PENDING, REBUILDING, REBUILD_LOCK = "CURRENT", "pending", "REBUILDING", "rebuild.lock"
_GENERATION = re.compile(r"gen-[0-9A-Za-z_-]+")


class RebuildRunning(Exception):
    """Another rebuild holds the lock."""


def location() -> Path:
    """The search directory: SEARCH_DIR, or DATA_DIR/search."""
    configured = setting("SEARCH_DIR")
    return Path(configured) if configured else Path(current_app.config["DATA_DIR"]) / "search"


def live(root: Path, version: int) -> Path | None:
    """The live generation's directory; None if there is none, it is gone, or it has another schema."""
    try:
        parts = (root / POINTER).read_text(encoding="ascii").split()
    except (OSError, UnicodeError):
        return None
    if len(parts) != 2 or parts[1] != f"v{version}" or not _GENERATION.fullmatch(parts[0]):
        return None
    path = root / parts[0]
    return path if path.is_dir() else None


def new_generation(root: Path) -> Path:
    return root / f"gen-{datetime.now(UTC):%Y%m%dT%H%M%S}-{os.getpid()}-{secrets.token_hex(3)}"


def switch_to(root: Path, generation: Path, version: int) -> None:
    """Make `generation` the live one, atomically."""
    tmp = root / f"{POINTER}.{os.getpid()}.tmp"
    tmp.write_text(f"{generation.name} v{version}\n", encoding="ascii")
    os.replace(tmp, root / POINTER)


def remove_others(root: Path, keep: Path) -> None:
    """Delete every generation but `keep` (processes still reading one keep their open files)."""
    for path in root.glob("gen-*"):
        if path != keep and path.is_dir():
            shutil.rmtree(path, ignore_errors=True)


def size_of(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def rebuilding(root: Path) -> bool:
    return (root / REBUILDING).exists()


@contextmanager
def rebuild_lock(root: Path) -> Iterator[None]:
    """Hold the rebuild lock and the REBUILDING marker; RebuildRunning if another rebuild has them."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / REBUILD_LOCK, "w") as lock:
        if fcntl is not None:
            try:
                fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise RebuildRunning("another search rebuild is running") from None
        (root / REBUILDING).write_text(str(os.getpid()), encoding="ascii")
        try:
            yield
        finally:
            (root / REBUILDING).unlink(missing_ok=True)


def end_rebuilding(root: Path) -> None:
    """Remove the marker early: updates from now on go to the new generation directly."""
    (root / REBUILDING).unlink(missing_ok=True)


def _locked(fh) -> None:
    if fcntl is not None:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)


def queue(root: Path, posts: Iterable[int], comments: Iterable[int]) -> None:
    """Remember changes the index has not got yet."""
    lines = [f"p {p}\n" for p in sorted(posts)] + [f"c {c}\n" for c in sorted(comments)]
    if not lines:
        return
    root.mkdir(parents=True, exist_ok=True)
    with open(root / PENDING, "a", encoding="ascii") as fh:
        _locked(fh)
        fh.write("".join(lines))


def take(root: Path) -> tuple[set[int], set[int]]:
    """Every queued change (post ids, comment ids), emptying the queue."""
    try:
        fh = open(root / PENDING, "r+", encoding="ascii")  # noqa: SIM115 (closed by the `with` below)
    except FileNotFoundError:
        return set(), set()
    with fh:
        _locked(fh)
        data = fh.read()
        if data:
            fh.seek(0)
            fh.truncate()
    posts, comments = set(), set()
    for line in data.splitlines():
        kind, _sep, number = line.partition(" ")
        if number.isdigit():
            (posts if kind == "p" else comments).add(int(number))
    return posts, comments


def queued(root: Path) -> int:
    try:
        with open(root / PENDING, encoding="ascii") as fh:
            return sum(1 for _ in fh)
    except OSError:
        return 0
