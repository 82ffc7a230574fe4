"""`posts export`: write posts as Markdown files with front matter that `posts import` reads back unchanged.

An exported post counts as in sync with its file (`synced_version = version`, the file's name and
hash stored), so importing the same files changes nothing, and a later change in the browser is
noticed by the next import (which then skips the post unless forced).
"""
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import Post


@dataclass
class ExportReport:
    written: list[tuple[str, str]] = field(default_factory=list)  # (file, slug)
    unchanged: list[tuple[str, str]] = field(default_factory=list)


def file_name(post: Post, directory: Path) -> str:
    """The post's file: the one it came from, else <slug>.md (never outside the directory)."""
    name = post.source_path or f"{post.slug}.md"
    target = (directory / name).resolve()
    if "/" in name or not name.endswith(".md") or target.parent != directory.resolve():
        name = f"{post.slug}.md"
    return name


def render_file(post: Post, tz: ZoneInfo) -> str:
    """Front matter (the keys `content/files.py` reads) and the Markdown body."""
    meta: dict = {"title": post.title, "slug": post.slug}
    if post.published_at is not None:
        meta["date"] = post.published_at.astimezone(tz).isoformat()
    if post.content_changed_at is not None:
        meta["updated"] = post.content_changed_at.astimezone(tz).isoformat()
    meta["status"] = str(post.status)
    if post.category is not None:
        meta["category"] = post.category.name
    meta["tags"] = [t.name for t in post.tags]
    meta["author"] = post.author.username
    meta["summary"] = post.summary or ""
    meta["language"] = post.lang
    meta["comments"] = bool(post.comments_open)
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, default_flow_style=False, width=10_000)
    return f"---\n{front}---\n\n{(post.body_md or '').strip()}\n"


def _in_sync(post: Post, name: str, existing: bytes) -> bool:
    unchanged_since = post.synced_version is None or post.version == post.synced_version
    return post.source_path == name and post.source_hash == hashlib.sha256(existing).hexdigest() and unchanged_since


def export_posts(directory: Path, tz: ZoneInfo) -> ExportReport:
    """Write every post to `directory` (created if missing); files whose text is the same are left alone."""
    directory.mkdir(parents=True, exist_ok=True)
    report = ExportReport()
    posts = db.session.scalars(
        select(Post).options(selectinload(Post.author), selectinload(Post.category), selectinload(Post.tags))
        .order_by(Post.slug)
    ).all()
    for post in posts:
        name = file_name(post, directory)
        path = directory / name
        existing = path.read_bytes() if path.is_file() else None
        if existing is not None and _in_sync(post, name, existing):
            # The file it came from still says what the post says: a hand-written file stays as written.
            report.unchanged.append((name, post.slug))
            post.synced_version = post.version
            continue
        data = render_file(post, tz).encode("utf-8")
        if existing == data:
            report.unchanged.append((name, post.slug))
        else:
            tmp = path.with_name(f".{path.name}.tmp")
            tmp.write_bytes(data)
            tmp.replace(path)  # never a half-written file for the next import
            report.written.append((name, post.slug))
        post.source_path, post.source_hash = name, hashlib.sha256(data).hexdigest()
        post.synced_version = post.version
    db.session.commit()
    return report
