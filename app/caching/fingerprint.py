"""Fingerprints: of the running code (the page cache's build) and of each static file (its URL).

Static URLs carry `?v=<hash of the file>`, so a browser may keep a file for a year: a changed
file has a new URL. The build fingerprint keeps a new release from serving pages cached by the
old one (several servers share one Redis during a rolling restart).
"""
import hashlib
import os
from functools import lru_cache
from pathlib import Path

from app.config import PROJECT_ROOT

BUILD_PARTS = ("app", "templates", "static")
BUILD_SUFFIXES = {".py", ".html", ".txt", ".xml", ".mo", ".css", ".js", ".svg"}
YEAR = 365 * 24 * 3600


@lru_cache(maxsize=1)
def build() -> str:
    """One hash over the code, templates, catalogs and assets this process serves (computed once)."""
    digest = hashlib.sha256()
    for part in BUILD_PARTS:
        for path in sorted((PROJECT_ROOT / part).rglob("*")):
            if path.suffix in BUILD_SUFFIXES and path.is_file():
                digest.update(str(path.relative_to(PROJECT_ROOT)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


_static: dict[str, tuple[int, str]] = {}


def static_version(folder: str, filename: str) -> str | None:
    """A short hash of the file's content (re-read only when its mtime changes); None if missing."""
    path = Path(folder) / filename
    try:
        mtime = os.stat(path).st_mtime_ns
    except (OSError, ValueError):
        return None
    known = _static.get(str(path))
    if known and known[0] == mtime:
        return known[1]
    if not path.resolve().is_relative_to(Path(folder).resolve()):
        return None
    version = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    _static[str(path)] = (mtime, version)
    return version
