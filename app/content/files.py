"""Reading post and page files: YAML front matter plus a Markdown body."""
import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import frontmatter
import yaml

from app.content.slugs import is_valid_slug, slugify
from app.models import LANGUAGES, PostStatus


class SourceError(ValueError):
    """A file that cannot be imported; the message says why."""


@dataclass
class PostSource:
    path: Path
    hash: str
    title: str
    slug: str
    body: str
    summary: str = ""
    lang: str = "de"
    status: str = PostStatus.PUBLISHED
    published_at: datetime | None = None
    updated_at: datetime | None = None  # `updated:`: when the text last changed, as the author says
    category: str | None = None
    tags: list[str] = field(default_factory=list)
    author: str | None = None
    author_name: str | None = None
    comments_open: bool = True


@dataclass
class PageSource:
    path: Path
    hash: str
    title: str
    slug: str
    body: str
    summary: str = ""
    lang: str = "de"
    in_footer: bool = False
    position: int = 0
    updated_at: datetime | None = None


def read_post(path: Path, tz: ZoneInfo) -> PostSource:
    """Parse a post file; raise SourceError naming what is wrong."""
    meta, body, digest = _load(path)
    status = str(meta.get("status", PostStatus.PUBLISHED)).strip().lower()
    if status not in set(PostStatus):
        raise SourceError(f"unknown status {status!r} (use one of: {', '.join(PostStatus)})")
    published_at = _parse_date(meta.get("date"), tz)
    if status == PostStatus.SCHEDULED and published_at is None:
        raise SourceError("a scheduled post needs a date")
    return PostSource(
        path=path,
        hash=digest,
        title=_title(meta),
        slug=_slug(meta, path),
        body=body,
        summary=_text(meta, "summary"),
        lang=_lang(meta),
        status=status,
        published_at=published_at,
        updated_at=_parse_date(meta.get("updated"), tz, "updated"),
        category=_text(meta, "category") or None,
        tags=_tags(meta.get("tags")),
        author=_text(meta, "author") or None,
        author_name=_text(meta, "author_name") or None,
        comments_open=_bool(meta, "comments", True),
    )


def read_page(path: Path, tz: ZoneInfo) -> PageSource:
    """Parse a page file (Impressum, Datenschutz …); raise SourceError naming what is wrong."""
    meta, body, digest = _load(path)
    order = meta.get("order", 0)
    if not isinstance(order, int) or isinstance(order, bool):
        raise SourceError(f"order must be a whole number, not {order!r}")
    return PageSource(
        path=path,
        hash=digest,
        title=_title(meta),
        slug=_slug(meta, path),
        body=body,
        summary=_text(meta, "summary"),
        lang=_lang(meta),
        in_footer=_bool(meta, "footer", False),
        position=order,
        updated_at=_parse_date(meta.get("updated"), tz, "updated"),
    )


def _load(path: Path) -> tuple[dict, str, str]:
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except OSError as exc:
        raise SourceError(f"cannot read file: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise SourceError(f"not UTF-8 text (byte {exc.start})") from exc
    if not text.lstrip("\ufeff \t\r\n").startswith("---"):
        raise SourceError("no front matter: the file must start with a '---' line, then 'title: …'")
    try:
        post = frontmatter.loads(text)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" at line {where.line + 1}" if where else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SourceError(f"front matter is not valid YAML{line}: {problem}") from exc
    except ValueError as exc:  # e.g. an impossible date such as 2026-13-45
        raise SourceError(f"front matter has an invalid value: {exc}") from exc
    if not isinstance(post.metadata, dict):
        raise SourceError("front matter must be a mapping of keys to values")
    return post.metadata, post.content, hashlib.sha256(raw).hexdigest()


def _title(meta: dict) -> str:
    title = " ".join(_text(meta, "title").split())  # one line, however the YAML was written
    if not title:
        raise SourceError("title is missing (every file needs 'title:' in its front matter)")
    if len(title) > 300:
        raise SourceError("title is longer than 300 characters")
    return title


def _slug(meta: dict, path: Path) -> str:
    slug = _text(meta, "slug") or slugify(path.stem)
    if not is_valid_slug(slug):
        raise SourceError(f"slug {slug!r} must be lowercase letters, digits and single dashes")
    return slug


def _lang(meta: dict) -> str:
    lang = (_text(meta, "language") or _text(meta, "lang") or "de").lower()
    if lang not in LANGUAGES:
        raise SourceError(f"unknown language {lang!r} (use one of: {', '.join(LANGUAGES)})")
    return lang


def _text(meta: dict, key: str) -> str:
    value = meta.get(key)
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        raise SourceError(f"{key} must be text")
    return str(value).strip()


def _bool(meta: dict, key: str, default: bool) -> bool:
    value = meta.get(key, default)
    if not isinstance(value, bool):
        raise SourceError(f"{key} must be true or false, not {value!r}")
    return value


def _tags(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        items = value.split(",")
    elif isinstance(value, list):
        items = value
    else:
        raise SourceError("tags must be a list or a comma-separated text")
    tags = []
    for item in items:
        if isinstance(item, (dict, list)):
            raise SourceError("each tag must be a word or phrase")
        name = str(item).strip()
        if name and name not in tags:
            tags.append(name)
    return tags


def _parse_date(value, tz: ZoneInfo, key: str = "date") -> datetime | None:
    """Dates without a zone are the site's local time; stored as aware datetimes."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    else:
        try:
            parsed = datetime.fromisoformat(str(value).strip())
        except ValueError as exc:
            raise SourceError(f"{key} {value!r} is not a date (use YYYY-MM-DD or YYYY-MM-DD HH:MM)") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)
