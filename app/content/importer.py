"""`posts import`: bring Markdown files into the database, idempotently.

Creates or updates by slug, skips files whose bytes did not change, creates missing categories,
tags and authors. A bad file is reported with its reason and skipped; the others still import.
"""
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import selectinload

from app import markup
from app.content.files import PageSource, PostSource, SourceError, read_page, read_post
from app.content.publishing import apply_page_body, apply_post_body
from app.content.slugs import slugify
from app.extensions import db
from app.search import index as search
from app.models import Category, Page, Post, PostStatus, Role, Tag, User, utcnow

CREATED, UPDATED, UNCHANGED, FAILED = "created", "updated", "unchanged", "failed"
DEFAULT_AUTHOR = "redaktion"


@dataclass
class ImportReport:
    """What one import did, file by file."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed

    def add(self, name: str, outcome: str, reason: str = "") -> None:
        if outcome == FAILED:
            self.failed.append((name, reason))
        else:
            getattr(self, outcome).append(name)


Progress = Callable[[int, int, str, str, str], None]


@dataclass
class Importer:
    directory: Path
    tz: ZoneInfo
    internal_hosts: tuple[str, ...] = ()
    is_reserved_path: Callable[[str], bool] = lambda slug: False
    progress: Progress | None = None
    words_per_minute: int = 200
    now: Callable[[], datetime] = utcnow

    def run(self) -> ImportReport:
        """Import categories.yml, then every post file, then every page file."""
        report = ImportReport()
        if not self.directory.is_dir():
            report.add(str(self.directory), FAILED, "not a directory")
            return report
        categories = self.directory / "categories.yml"
        posts = sorted(self.directory.glob("*.md"))
        pages = sorted((self.directory / "pages").glob("*.md"))
        jobs = ([(categories, self._import_categories)] if categories.exists() else [])
        jobs += [(p, self._import_post) for p in posts] + [(p, self._import_page) for p in pages]
        self._changed_posts: list[Post] = []
        for number, (path, job) in enumerate(jobs, start=1):
            name = self._name(path)
            try:
                outcome = job(path, name)
                db.session.commit()
                reason = ""
            except SourceError as exc:
                db.session.rollback()
                outcome, reason = FAILED, str(exc)
            except SQLAlchemyError as exc:
                db.session.rollback()
                outcome, reason = FAILED, f"database error: {exc.__class__.__name__}: {exc.orig if hasattr(exc, 'orig') else exc}"
            report.add(name, outcome, reason)
            if self.progress:
                self.progress(number, len(jobs), name, outcome, reason)
        search.refresh(posts=[post.id for post in self._changed_posts if post.id])  # after the commits
        return report

    # --- one file each -----------------------------------------------------------------------

    def _import_categories(self, path: Path, name: str) -> str:
        try:
            entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise SourceError(f"cannot read categories: {exc}") from exc
        if not isinstance(entries, list) or not all(isinstance(e, dict) and e.get("name") for e in entries):
            raise SourceError("expected a list of entries, each with at least a name")
        changed = created = False
        for position, entry in enumerate(entries):
            category, new = self._category(str(entry["name"]).strip(), entry.get("slug"))
            wanted = {"description": str(entry.get("description") or "").strip(), "position": position}
            if "response_target_hours" in entry:  # the team's first-answer promise for this category
                hours = entry["response_target_hours"]
                if not isinstance(hours, (int, float)) or isinstance(hours, bool) or hours <= 0:
                    raise SourceError(f"response_target_hours of {entry['name']!r} must be a positive number")
                wanted["response_target_minutes"] = round(hours * 60)
            if "business_hours" in entry:
                if not isinstance(entry["business_hours"], bool):
                    raise SourceError(f"business_hours of {entry['name']!r} must be true or false")
                wanted["business_hours_only"] = entry["business_hours"]
            for key, value in wanted.items():
                if getattr(category, key) != value:
                    setattr(category, key, value)
                    changed = True
            created |= new
        return CREATED if created else UPDATED if changed else UNCHANGED

    def _import_post(self, path: Path, name: str) -> str:
        source = read_post(path, self.tz)
        post = db.session.scalar(select(Post).where(Post.slug == source.slug).options(selectinload(Post.tags)))
        if post is not None:
            self._check_owner(post.source_path, name, source.slug)
            if post.source_hash == source.hash and post.source_path == name:
                return UNCHANGED
        outcome = CREATED if post is None else UPDATED
        if post is None:
            post = Post(slug=source.slug)
        self._fill_post(post, source, name)
        db.session.add(post)  # only now: lookups while filling must not flush a half-filled row
        self._changed_posts.append(post)
        return outcome

    def _import_page(self, path: Path, name: str) -> str:
        source = read_page(path)
        if self.is_reserved_path(source.slug):
            raise SourceError(f"slug {source.slug!r} is taken by a page of the blog itself")
        page = db.session.scalar(select(Page).where(Page.slug == source.slug))
        if page is not None:
            self._check_owner(page.source_path, name, source.slug)
            if page.source_hash == source.hash and page.source_path == name:
                return UNCHANGED
        outcome = CREATED if page is None else UPDATED
        if page is None:
            page = Page(slug=source.slug)
        self._fill_page(page, source, name)
        db.session.add(page)  # only now: lookups while filling must not flush a half-filled row
        return outcome

    # --- helpers -------------------------------------------------------------------------------

    def _check_owner(self, owner: str | None, name: str, slug: str) -> None:
        """A slug belongs to one file; a moved file may take it over once the old one is gone."""
        if owner == name:
            return
        if owner is None:
            raise SourceError(f"slug {slug!r} belongs to a post written in the browser")
        if (self.directory / owner).exists():
            raise SourceError(f"slug {slug!r} is already used by {owner}")

    def _fill_post(self, post: Post, source: PostSource, name: str) -> None:
        with _formatting():
            apply_post_body(post, source.body, summary=source.summary, internal_hosts=self.internal_hosts,
                            words_per_minute=self.words_per_minute)
        post.title = source.title
        post.lang = source.lang
        post.status = source.status
        if source.published_at is not None:
            post.published_at = source.published_at
        elif post.published_at is None and source.status != PostStatus.DRAFT:
            post.published_at = self.now()
        post.comments_open = source.comments_open
        post.author = self._author(source.author or DEFAULT_AUTHOR, source.author_name)
        post.category = self._category(source.category)[0] if source.category else None
        post.tags = [self._tag(tag) for tag in source.tags]
        post.source_path, post.source_hash = name, source.hash
        post.updated_at = self.now()

    def _fill_page(self, page: Page, source: PageSource, name: str) -> None:
        with _formatting():
            apply_page_body(page, source.body, summary=source.summary, internal_hosts=self.internal_hosts)
        page.title = source.title
        page.lang = source.lang
        page.in_footer = source.in_footer
        page.position = source.position
        page.source_path, page.source_hash = name, source.hash
        page.updated_at = self.now()

    def _category(self, name: str, slug: str | None = None) -> tuple[Category, bool]:
        slug = str(slug).strip() if slug else slugify(name)
        category = db.session.scalar(select(Category).where(Category.slug == slug))
        if category is not None:
            if category.name != name:
                category.name = name
            return category, False
        last = db.session.scalar(select(db.func.max(Category.position))) or 0
        category = Category(name=name, slug=slug, description="", position=last + 1)
        db.session.add(category)
        db.session.flush()
        return category, True

    def _tag(self, name: str) -> Tag:
        slug = slugify(name)
        if not slug:
            raise SourceError(f"tag {name!r} has no letters or digits")
        tag = db.session.scalar(select(Tag).where(Tag.slug == slug))
        if tag is None:
            tag = Tag(name=name, slug=slug)
            db.session.add(tag)
            db.session.flush()
        return tag

    def _author(self, username: str, display_name: str | None) -> User:
        user = db.session.scalar(select(User).where(User.username == username))
        if user is None:
            if not slugify(username):
                raise SourceError(f"author {username!r} is not a valid user name")
            # An author named in a file gets an account that cannot log in until an admin sets a password.
            derived = " ".join(part.capitalize() for part in username.replace("_", ".").split(".") if part)
            user = User(username=username, display_name=display_name or derived, role=Role.AUTHOR)
            db.session.add(user)
            db.session.flush()
        return user

    def _name(self, path: Path) -> str:
        try:
            return path.relative_to(self.directory).as_posix()
        except ValueError:
            return str(path)


@contextmanager
def _formatting():
    """A body that cannot be rendered within the limits is this file's error, named in the report."""
    try:
        yield
    except markup.RenderError as exc:
        raise SourceError(f"the text cannot be formatted: {exc.detail}") from None
