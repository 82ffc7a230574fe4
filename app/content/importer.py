"""`posts import`: bring Markdown files into the database, idempotently.

Creates or updates by slug, skips files whose bytes did not change, creates missing categories,
tags and authors. A bad file is reported with its reason and skipped; the others still import.
Posts whose file is gone are reported, and unpublished (made drafts, the row kept) when asked to prune.
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

from app import markup, outbox
from app.content import categories, editing
from app.content.files import PageSource, PostSource, SourceError, read_page, read_post
from app.content.publishing import apply_page_body, apply_post_body, note_content_change, readers_text
from app.content.slugs import slugify
from app.extensions import db
from app.models import Category, Page, Post, PostStatus, Redirect, Role, Tag, User, utcnow
from app.users.service import USERNAME

CREATED, UPDATED, UNCHANGED, FAILED = "created", "updated", "unchanged", "failed"
SKIPPED = "skipped"  # changed in the browser since its last import or export: kept unless --force
DEFAULT_AUTHOR = "redaktion"


@dataclass
class ImportReport:
    """What one import did, file by file."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    # Posts still visible or scheduled whose file is gone: (file, slug); `unpublished` if pruned.
    missing: list[tuple[str, str]] = field(default_factory=list)
    unpublished: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed

    def add(self, name: str, outcome: str, reason: str = "") -> None:
        if outcome == FAILED:
            self.failed.append((name, reason))
        elif outcome == SKIPPED:
            self.skipped.append((name, reason))
        else:
            getattr(self, outcome).append(name)


# (number, total, file, outcome, detail): detail is why a file failed, or where a post now stands.
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
    prune: bool = False  # unpublish posts whose file is gone
    force: bool = False  # overwrite posts changed in the browser since their last import (their revisions stay)

    def run(self) -> ImportReport:
        """Import categories.yml, then every post file, then every page file; then find deleted files."""
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
            self._standing = ""
            try:
                outcome = job(path, name)
                db.session.commit()
                reason = self._standing
            except SourceError as exc:
                db.session.rollback()
                outcome, reason = FAILED, str(exc)
            except SQLAlchemyError as exc:
                db.session.rollback()
                detail = exc.orig if hasattr(exc, "orig") else exc
                outcome, reason = FAILED, f"database error: {exc.__class__.__name__}: {detail}"
            report.add(name, outcome, reason)
            if self.progress:
                self.progress(number, len(jobs), name, outcome, reason)
        if posts:  # no post files at all: the wrong directory, most likely; nothing counts as deleted
            self._deleted_files(report)
        outbox.index(posts=[post.id for post in self._changed_posts if post.id])
        db.session.commit()
        outbox.settle()  # after the commits
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
        owned = categories.browser_owned()  # changed in the browser: the browser's now (app/content/categories.py)
        kept: list[str] = []
        for position, entry in enumerate(entries):
            category, new = self._category(str(entry["name"]).strip(), entry.get("slug"))
            if category.id in owned:
                kept.append(category.name)
                continue
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
        if kept:
            self._standing = "changed in the browser, kept as they are there: " + ", ".join(kept)
        return CREATED if created else UPDATED if changed else UNCHANGED

    def _import_post(self, path: Path, name: str) -> str:
        source = read_post(path, self.tz)
        post = db.session.scalar(select(Post).where(Post.slug == source.slug).options(selectinload(Post.tags)))
        if post is None:
            # The file's post may have a new address given in the browser: never a second post at the old one.
            moved = db.session.scalar(select(Post).where(Post.source_path == name).options(selectinload(Post.tags)))
            if moved is not None:
                if not self.force:
                    self._standing = (f"its post is now /posts/{moved.slug} (the address was changed in the "
                                      f"browser); skipped, --force updates it and keeps the new address")
                    return SKIPPED
                post = moved
            elif db.session.scalar(select(Redirect.id).where(Redirect.old_path == f"/posts/{source.slug}")):
                raise SourceError(f"slug {source.slug!r} is the old address of another post (it redirects "
                                  "there); choose another slug")
        if post is not None and post.slug == source.slug:
            self._check_owner(post.source_path, name, source.slug)
            if post.source_hash == source.hash and post.source_path == name:
                self._standing = self._where_it_stands(post)
                return UNCHANGED
            if not self.force and post.synced_version is not None and post.version > post.synced_version:
                self._standing = (f"/posts/{post.slug} (\"{post.title}\") was changed in the browser since its "
                                  f"last import (version {post.version}, the file has {post.synced_version}); "
                                  "skipped, --force overwrites it (its revisions stay)")
                return SKIPPED
        outcome = CREATED if post is None else UPDATED
        if post is None:
            post = Post(slug=source.slug)
        self._fill_post(post, source, name, new=outcome == CREATED)
        post.version = 1 if outcome == CREATED else (post.version or 0) + 1
        post.synced_version = post.version
        db.session.add(post)  # only now: lookups while filling must not flush a half-filled row
        editing.record_revision(post, None, editing.IMPORT, now=self.now())
        self._changed_posts.append(post)
        self._standing = self._where_it_stands(post)
        return outcome

    def _import_page(self, path: Path, name: str) -> str:
        source = read_page(path, self.tz)
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
        self._fill_page(page, source, name, new=outcome == CREATED)
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

    def _fill_post(self, post: Post, source: PostSource, name: str, *, new: bool) -> None:
        before = readers_text(post)
        with _formatting():
            apply_post_body(post, source.body, summary=source.summary, internal_hosts=self.internal_hosts,
                            words_per_minute=self.words_per_minute)
        post.title = source.title
        post.lang = source.lang
        post.status = source.status
        if source.published_at is not None:
            post.published_at = source.published_at
        elif post.published_at is None and source.status == PostStatus.PUBLISHED:
            post.published_at = self.now()
        post.comments_open = source.comments_open
        post.author = self._author(source.author or DEFAULT_AUTHOR, source.author_name)
        post.category = self._category(source.category)[0] if source.category else None
        post.tags = [self._tag(tag) for tag in source.tags]
        post.source_path, post.source_hash = name, source.hash
        post.updated_at = self.now()
        if new:  # the first text dates from published_at, not from the import
            post.content_changed_at = source.updated_at
        else:
            note_content_change(post, before, now=self.now(), stated=source.updated_at)

    def _fill_page(self, page: Page, source: PageSource, name: str, *, new: bool) -> None:
        before = readers_text(page)
        with _formatting():
            apply_page_body(page, source.body, summary=source.summary, internal_hosts=self.internal_hosts)
        page.title = source.title
        page.lang = source.lang
        page.in_footer = source.in_footer
        page.position = source.position
        page.source_path, page.source_hash = name, source.hash
        page.updated_at = self.now()
        if new:  # a page has no date of its own: its first text is as old as its first import
            page.content_changed_at = source.updated_at or self.now()
        else:
            note_content_change(page, before, now=self.now(), stated=source.updated_at)

    def _category(self, name: str, slug: str | None = None) -> tuple[Category, bool]:
        slug = str(slug).strip() if slug else slugify(name)
        # A slug renamed or merged away in the browser leads to where the category lives now.
        # The exact name first: an exported post names its category, and another category's slug may
        # be what this name slugifies to.
        category = db.session.scalar(select(Category).where(Category.name == name)) or categories.resolve(slug)
        if category is not None:
            if category.name != name and category.id not in categories.browser_owned():
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
        return editing.tag_named(name)

    def _author(self, author: str, display_name: str | None) -> User:
        """The user named by `author:`: a user name or a display name (any case), or a new user name."""
        users = db.session.scalars(select(User).order_by(User.username)).all()  # the staff: a short list
        wanted = author.casefold()
        by_username = [u for u in users if u.username.casefold() == wanted]
        by_display = [u for u in users if " ".join(u.display_name.split()).casefold() == " ".join(wanted.split())]
        if by_username:
            return by_username[0]
        if len(by_display) == 1:
            return by_display[0]
        if by_display:
            names = ", ".join(u.username for u in by_display)
            raise SourceError(f"author {author!r} is the display name of several users; "
                              f"use one of the user names: {names}")
        if not USERNAME.match(author):
            known = ", ".join(u.username for u in users) or "none yet"
            raise SourceError(f"author {author!r} is no user's name or display name (user names: {known}); "
                              "a new author needs a user name: lowercase letters, digits, '.', '_' or '-'")
        # An author named in a file gets an account that cannot log in until an admin sets a password.
        derived = " ".join(part.capitalize() for part in author.replace("_", ".").split(".") if part)
        user = User(username=author, display_name=display_name or derived, role=Role.AUTHOR)
        db.session.add(user)
        db.session.flush()
        return user

    def _where_it_stands(self, post: Post) -> str:
        """Live, scheduled (in the site's time) or draft: what readers see of the post now."""
        if post.status == PostStatus.DRAFT or post.published_at is None:
            return "draft"
        if post.published_at > self.now():
            return f"scheduled for {post.published_at.astimezone(self.tz):%Y-%m-%d %H:%M} ({self.tz.key})"
        return "live"

    def _deleted_files(self, report: ImportReport) -> None:
        """Report posts still shown or scheduled whose file is gone; unpublish them when pruning."""
        orphans = db.session.scalars(
            select(Post).where(Post.source_path.is_not(None), Post.status != PostStatus.DRAFT)
            .order_by(Post.source_path)
        ).all()
        for post in orphans:
            if (self.directory / post.source_path).exists():
                continue
            if not self.prune:
                report.missing.append((post.source_path, post.slug))
                continue
            post.status = PostStatus.DRAFT
            post.source_hash = None  # a restored file imports again instead of counting as unchanged
            db.session.commit()
            report.unpublished.append((post.source_path, post.slug))
            self._changed_posts.append(post)

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
