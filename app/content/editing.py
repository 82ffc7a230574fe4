"""Writing posts in the browser: save with revisions and an optimistic lock, restore, diff, preview links.

Plain functions: the editor's routes (and tests) pass the user, the time and the settings in.
Every save goes through `save()`, which validates, renders through `publishing` (the same
pipeline as the import), keeps a `PostRevision` and moves `version` with a conditional UPDATE,
so two saves from the same version never both win: the later one is a `StaleEdit`.
"""
import difflib
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app import markup, outbox
from app.auth.permissions import Permission, can
from app.content import categories as category_service, posts_admin
from app.content.publishing import apply_post_body, note_content_change, readers_text
from app.content.slugs import is_valid_slug, slugify
from app.extensions import db
from app.models import (
    LANGUAGES,
    Category,
    Comment,
    CommentStatus,
    Post,
    PostRevision,
    PostStatus,
    Redirect,
    Tag,
    User,
)

EDITOR, IMPORT, RESTORE = "editor", "import", "restore"
MAX_TITLE = 300
MAX_TAGS = 30
MAX_TAG_LENGTH = 80
# A line diff of two long texts can be quadratic: beyond this many differing lines only counts are shown.
MAX_DIFF_LINES = 4000
DATE_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%d.%m.%Y %H:%M",
                "%d.%m.%Y", "%Y-%m-%d")


class EditError(ValueError):
    """Input the editor refuses; `errors` maps a field name to its message (for the writer)."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__(", ".join(errors))


@dataclass
class StaleEdit(Exception):
    """Someone saved the post after the writer loaded it: nothing was saved."""

    post: Post
    latest: PostRevision | None  # who saved, when (None: changed without a revision, e.g. an old import)
    diff: list[tuple[str, str]]  # their saved text against what the writer typed


@dataclass
class PostInput:
    """What the editor's form says about a post (strings already stripped; the date already parsed)."""

    title: str
    body_md: str = ""
    slug: str = ""
    summary: str = ""
    category_id: int | None = None
    tags: list[str] = field(default_factory=list)
    lang: str = "de"
    comments_open: bool = True
    status: str = PostStatus.DRAFT
    published_at: datetime | None = None


@dataclass(frozen=True)
class Settings:
    """What a save needs from the app's configuration."""

    tz: ZoneInfo
    internal_hosts: tuple[str, ...] = ()
    words_per_minute: int = 200
    authors_may_publish: bool = False


# --- who may do what -----------------------------------------------------------------------------

def may_publish(user, settings: Settings) -> bool:
    """Publish and schedule: editors and admins; authors when the site allows it."""
    return can(user, Permission.PUBLISH_POSTS) or (settings.authors_may_publish and can(user, Permission.WRITE_POSTS))


def allowed_statuses(user, settings: Settings, post: Post | None = None) -> list[str]:
    """The statuses the user may choose; someone who may not publish keeps a post's live status, no more."""
    if may_publish(user, settings):
        return [PostStatus.DRAFT, PostStatus.REVIEW, PostStatus.SCHEDULED, PostStatus.PUBLISHED]
    statuses = [PostStatus.DRAFT, PostStatus.REVIEW]
    if post is not None and post.status in (PostStatus.SCHEDULED, PostStatus.PUBLISHED):
        statuses.append(post.status)
    return statuses


# --- reading ---------------------------------------------------------------------------------------

def get_post(post_id: int) -> Post | None:
    """A post with what the editor shows (author, category, tags)."""
    return db.session.scalar(
        select(Post).where(Post.id == post_id)
        .options(selectinload(Post.author), selectinload(Post.category), selectinload(Post.tags))
    )


def post_by_slug(slug: str) -> Post | None:
    """Any post by slug, whatever its status (staff viewing a draft at its URL)."""
    return db.session.scalar(
        select(Post).where(Post.slug == slug)
        .options(selectinload(Post.author), selectinload(Post.category), selectinload(Post.tags))
    )


def post_by_preview_token(token: str) -> Post | None:
    """The post a secret preview link opens, or None (no such link, or revoked)."""
    if not token or len(token) > 64:
        return None
    return db.session.scalar(
        select(Post).where(Post.preview_token == token)
        .options(selectinload(Post.author), selectinload(Post.category), selectinload(Post.tags))
    )


def redirect_for(path: str) -> str | None:
    """Where an old path now answers (a post's changed slug), or None."""
    return db.session.scalar(select(Redirect.new_path).where(Redirect.old_path == path))


@dataclass
class ListRow:
    post: Post
    comments: int = 0
    pending: int = 0


def list_posts(user, *, status: str = "", category_id: int | None = None, q: str = "", page: int = 1,
               per_page: int = 25):
    """The editor's list: own posts (all for editors), filtered, with comment counts. Three queries."""
    stmt = select(Post).options(selectinload(Post.category), selectinload(Post.author))
    if not can(user, Permission.EDIT_ALL_POSTS):
        stmt = stmt.where(Post.author_id == user.id)
    if status in set(PostStatus):
        stmt = stmt.where(Post.status == status)
    if category_id:
        stmt = stmt.where(Post.category_id == category_id)
    q = " ".join(q.split())[:200]
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(or_(Post.title.ilike(pattern, escape="\\"), Post.slug.ilike(pattern, escape="\\")))
    stmt = stmt.order_by(func.coalesce(Post.published_at, Post.updated_at).desc(), Post.id.desc())
    pagination = db.paginate(stmt, page=page, per_page=per_page, error_out=False, max_per_page=None, count=True)
    ids = [p.id for p in pagination.items]
    counts = {}
    if ids:
        rows = db.session.execute(
            select(Comment.post_id,
                   func.sum(case((Comment.status == CommentStatus.APPROVED, 1), else_=0)),
                   func.sum(case((Comment.status == CommentStatus.PENDING, 1), else_=0)))
            .where(Comment.post_id.in_(ids)).group_by(Comment.post_id)
        )
        counts = {post_id: (int(approved or 0), int(pending or 0)) for post_id, approved, pending in rows}
    rows = [ListRow(p, *counts.get(p.id, (0, 0))) for p in pagination.items]
    return pagination, rows


def categories() -> list[Category]:
    return list(db.session.scalars(select(Category).order_by(Category.position, Category.name)))


def tag_names(limit: int = 500) -> list[str]:
    """Existing tags, the suggestions of the tags field."""
    return list(db.session.scalars(select(Tag.name).order_by(Tag.name).limit(limit)))


def revisions(post: Post) -> list[PostRevision]:
    """A post's revisions, newest first, with their authors."""
    return list(db.session.scalars(
        select(PostRevision).where(PostRevision.post_id == post.id)
        .options(selectinload(PostRevision.author)).order_by(PostRevision.id.desc())
    ))


def get_revision(post: Post, revision_id: int) -> PostRevision | None:
    return db.session.scalar(
        select(PostRevision).where(PostRevision.post_id == post.id, PostRevision.id == revision_id)
        .options(selectinload(PostRevision.author))
    )


def latest_revision(post: Post) -> PostRevision | None:
    return db.session.scalar(
        select(PostRevision).where(PostRevision.post_id == post.id)
        .options(selectinload(PostRevision.author)).order_by(PostRevision.id.desc()).limit(1)
    )


# --- parsing the form's values ---------------------------------------------------------------------

def parse_local_datetime(value: str, tz: ZoneInfo) -> datetime | None:
    """'2026-12-01T14:30' (or 01.12.2026 14:30) in the site's time zone → aware datetime; '' → None.

    Raises ValueError for anything else."""
    value = " ".join((value or "").split())
    if not value:
        return None
    for fmt in DATE_FORMATS:
        try:
            parsed = datetime.strptime(value, fmt)
        except ValueError:
            continue
        if not 1900 <= parsed.year <= 9998:
            raise ValueError(value)
        return parsed.replace(tzinfo=tz)
    raise ValueError(value)


def local_datetime_value(value: datetime | None, tz: ZoneInfo) -> str:
    """The value of a datetime-local input for a stored (UTC) time."""
    return value.astimezone(tz).strftime("%Y-%m-%dT%H:%M") if value else ""


def split_tags(text: str) -> list[str]:
    """'Glasfaser, Netz , glasfaser' → ['Glasfaser', 'Netz'] (one per slug, in order)."""
    names, seen = [], set()
    for item in (text or "").split(","):
        name = " ".join(item.split())
        slug = slugify(name)
        if name and slug not in seen:
            seen.add(slug)
            names.append(name)
    return names


def preview_html(body_md: str, settings: Settings) -> tuple[str, str | None]:
    """The sanitised HTML a body would be saved as (the published posts' pipeline), or the writer's message."""
    scratch = Post()  # never added to the session
    try:
        apply_post_body(scratch, normalise_body(body_md), internal_hosts=settings.internal_hosts,
                        words_per_minute=settings.words_per_minute)
    except markup.RenderError as exc:
        return "", str(exc.message)
    return scratch.body_html, None


# --- saving ----------------------------------------------------------------------------------------

def normalise_body(text: str) -> str:
    """Line endings as in files, outer blank lines trimmed (as the import reads a file's body)."""
    return (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def _validate(data: PostInput, post: Post | None, user, settings: Settings, now: datetime) -> dict:
    errors: dict[str, str] = {}
    title = " ".join(data.title.split())
    if not title:
        errors["title"] = _l("Please give the post a title.")
    elif len(title) > MAX_TITLE:
        errors["title"] = _l("The title may have at most %(n)s characters.", n=MAX_TITLE)
    slug = data.slug.strip() or slugify(title, max_length=200)
    if not slug:
        errors.setdefault("slug", _l("The address needs letters or digits: please type one."))
    elif not is_valid_slug(slug):
        errors["slug"] = _l("The address may only have lowercase letters (a–z), digits and single dashes, "
                            "such as “ueber-stoerungen”.")
    else:
        other = db.session.scalar(select(Post.id).where(Post.slug == slug))
        if other is not None and (post is None or other != post.id):
            errors["slug"] = _l("Another post already has the address “%(slug)s”. Please choose another one.",
                                slug=slug)
    if data.lang not in LANGUAGES:
        errors["lang"] = _l("Please choose a language.")
    category = None
    if data.category_id:
        category = db.session.get(Category, data.category_id)
        if category is None:
            errors["category"] = _l("This category no longer exists. Please choose another one.")
    if len(data.tags) > MAX_TAGS:
        errors["tags"] = _l("At most %(n)s tags, please.", n=MAX_TAGS)
    elif any(len(t) > MAX_TAG_LENGTH or not slugify(t) for t in data.tags):
        errors["tags"] = _l("Each tag needs letters or digits and at most %(n)s characters.", n=MAX_TAG_LENGTH)
    status = data.status
    if status not in allowed_statuses(user, settings, post):
        errors["status"] = _l("You may not choose this status. Submit the post for review instead.")
    published_at = data.published_at
    live_before = post is not None and post.status in (PostStatus.SCHEDULED, PostStatus.PUBLISHED)
    if not may_publish(user, settings) and live_before and post.status == status:
        published_at = post.published_at  # keeping a live post live, not rescheduling it
    if status == PostStatus.SCHEDULED and published_at is None:
        errors["published_at"] = _l("A scheduled post needs a date and time.")
    if status in (PostStatus.SCHEDULED, PostStatus.PUBLISHED):
        if published_at is None:
            published_at = now
        status = PostStatus.SCHEDULED if published_at > now else PostStatus.PUBLISHED
    if len(data.body_md) > markup.LIMITS["post"].max_length:
        errors["body_md"] = _l("The text is too long to be formatted (at most %(limit)s characters).",
                               limit=f"{markup.LIMITS['post'].max_length:,}")
    return {"errors": errors, "title": title, "slug": slug, "category": category, "status": status,
            "published_at": published_at}


def save(user: User, data: PostInput, settings: Settings, *, now: datetime, post: Post | None = None,
         loaded_version: int | None = None, source: str = EDITOR) -> Post:
    """Create (post None) or update a post from the editor; one revision per save. Commits.

    Raises EditError (nothing saved, messages per field) or StaleEdit (someone saved since
    `loaded_version`; nothing saved)."""
    data.body_md = normalise_body(data.body_md)
    data.summary = " ".join(data.summary.split())
    checked = _validate(data, post, user, settings, now)
    errors = checked["errors"]
    if post is not None and loaded_version != post.version and not errors:
        raise _stale(post, data)
    if errors:
        raise EditError(errors)
    new = post is None
    if new:
        post = Post(author_id=user.id, version=1, created_at=now)
        before = None
    else:
        before = readers_text(post)
    was_visible = not new and post.is_visible(now)
    old_slug = None if new else post.slug
    try:
        apply_post_body(post, data.body_md, summary=data.summary, internal_hosts=settings.internal_hosts,
                        words_per_minute=settings.words_per_minute)
    except markup.RenderError as exc:  # nothing was changed yet
        raise EditError({"body_md": exc.message}) from None
    post.title = checked["title"]
    post.slug = checked["slug"]
    post.lang = data.lang
    post.comments_open = data.comments_open
    post.status = checked["status"]
    # Drafts and posts in review keep the wished date (shown again); they are not live whatever it says.
    live = post.status in (PostStatus.SCHEDULED, PostStatus.PUBLISHED)
    post.published_at = checked["published_at"] if live else data.published_at
    post.category = checked["category"]
    try:
        post.tags = [tag_named(name) for name in data.tags]
        post.updated_at = now
        if not new:
            note_content_change(post, before, now=now)
        if new:
            db.session.add(post)
            db.session.flush()
        else:
            _bump_version(post, loaded_version, data)
        if was_visible and old_slug != post.slug:
            move_post_address(old_slug, post.slug)
        claim_post_address(post.slug)
        record_revision(post, user, source, now=now)
        outbox.index(posts=[post.id])
        db.session.commit()
    except IntegrityError as exc:  # another save took the slug (or created the same new tag) a moment ago
        db.session.rollback()
        if "tags" in str(exc.orig):
            raise EditError({"tags": _l("A tag was created by someone else at the same moment. Please save again.")}) \
                from None
        raise EditError({"slug": _l("This address was taken by another post a moment ago. Please choose another.")}) \
            from None
    outbox.settle()
    return get_post(post.id)  # reloaded with what the editor shows (the commit expired it)


def _bump_version(post: Post, loaded_version: int | None, data: PostInput) -> None:
    """The optimistic lock: only one save from a version wins, even when two race."""
    db.session.flush()
    moved = db.session.execute(
        update(Post).where(Post.id == post.id, Post.version == loaded_version)
        .values(version=Post.version + 1).execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:
        db.session.rollback()
        fresh = get_post(post.id)
        raise _stale(fresh, data)
    db.session.refresh(post, ["version"])


def _stale(post: Post, data: PostInput) -> StaleEdit:
    latest = latest_revision(post)
    theirs = text_of(latest) if latest is not None else _text_of_post(post)
    return StaleEdit(post=post, latest=latest, diff=diff_lines(theirs, _text_of_input(data)))


def tag_named(name: str) -> Tag:
    """The tag with this name's slug, created when new (the editor and the file import alike)."""
    slug = slugify(name)
    tag = db.session.scalar(select(Tag).where(Tag.slug == slug))
    if tag is None:
        tag = Tag(name=name, slug=slug)
        db.session.add(tag)
        db.session.flush()
    return tag


def post_path(slug: str) -> str:
    return f"/posts/{slug}"


def move_post_address(old_slug: str, new_slug: str) -> None:
    """/posts/<old> answers 301 to /posts/<new>; older redirects to <old> follow along (no chains)."""
    old, new = post_path(old_slug), post_path(new_slug)
    db.session.execute(update(Redirect).where(Redirect.new_path == old).values(new_path=new)
                       .execution_options(synchronize_session=False))
    existing = db.session.scalar(select(Redirect).where(Redirect.old_path == old))
    if existing is None:
        db.session.add(Redirect(old_path=old, new_path=new))
    else:
        existing.new_path = new


def claim_post_address(slug: str) -> None:
    """A post that now lives at a path takes it back from a redirect (and a redirect never points at itself)."""
    path = post_path(slug)
    for stale in db.session.scalars(select(Redirect).where(or_(Redirect.old_path == path,
                                                               Redirect.old_path == Redirect.new_path))):
        db.session.delete(stale)


def record_revision(post: Post, user: User | None, source: str, *, now: datetime | None = None) -> PostRevision:
    """Keep what the post says now as a revision (the caller commits)."""
    db.session.flush()
    revision = PostRevision(
        post_id=post.id, author_id=user.id if user is not None else None, version=post.version, source=source,
        title=post.title, slug=post.slug, summary=post.summary or "", body_md=post.body_md or "",
        meta=_meta(post),
    )
    if now is not None:
        revision.created_at = now
    db.session.add(revision)
    return revision


def _meta(post: Post) -> dict:
    category = post.category
    return {
        "category": category.slug if category is not None else None,
        "tags": sorted(t.name for t in post.tags),  # the order pages show them in (by name), whatever was typed
        "lang": post.lang,
        "status": post.status,
        "published_at": post.published_at.isoformat() if post.published_at else None,
        "comments_open": bool(post.comments_open),
    }


def restore(post: Post, revision: PostRevision, user: User, settings: Settings, *, now: datetime,
            loaded_version: int | None = None) -> Post:
    """Bring a revision's text back (title, address, summary, body, category, tags, language) as a new
    revision; status, date and comments stay as they are now."""
    meta = revision.meta or {}
    category_id = None
    if meta.get("category"):  # a category renamed or merged since is followed to where it is now
        found = category_service.resolve(meta["category"])
        category_id = found.id if found is not None else None
    slug = revision.slug
    taken = db.session.scalar(select(Post.id).where(Post.slug == slug, Post.id != post.id))
    data = PostInput(
        title=revision.title, body_md=revision.body_md, slug=post.slug if taken else slug, summary=revision.summary,
        category_id=category_id, tags=list(meta.get("tags") or []), lang=meta.get("lang") or post.lang,
        comments_open=post.comments_open, status=post.status, published_at=post.published_at,
    )
    # Whoever may edit the post may restore it: the status it has now stays allowed (allowed_statuses).
    # A restore without the version its page showed is checked like any stale save (None never matches).
    return save(user, data, settings, now=now, post=post, loaded_version=loaded_version, source=RESTORE)


def set_comments_open(post: Post, user: User, is_open: bool, settings: Settings, *, now: datetime,
                      loaded_version: int | None) -> Post:
    """Open or close comments on a post: the post page's audit event, and a save of its own (a revision, the
    version moves, so an editor form still showing the old setting cannot undo it silently)."""
    if loaded_version != post.version:
        raise _stale(post, input_from_post(post))
    data = input_from_post(post)
    data.comments_open = is_open
    if not posts_admin.set_comments_open(post, is_open, user):
        return post  # nothing to change
    return save(user, data, settings, now=now, post=post, loaded_version=loaded_version)


def input_from_post(post: Post) -> PostInput:
    """The post's current values as editor input."""
    return PostInput(
        title=post.title, body_md=post.body_md or "", slug=post.slug, summary=post.summary or "",
        category_id=post.category_id, tags=[t.name for t in post.tags], lang=post.lang,
        comments_open=post.comments_open, status=post.status, published_at=post.published_at,
    )


# --- preview links -----------------------------------------------------------------------------------

def create_preview_link(post: Post) -> str:
    """A new secret token for /preview/<token> (replacing an older one). Commits."""
    post.preview_token = secrets.token_urlsafe(32)
    db.session.commit()
    return post.preview_token


def revoke_preview_link(post: Post) -> None:
    post.preview_token = None
    db.session.commit()


# --- diffs ---------------------------------------------------------------------------------------------

def text_of(revision: PostRevision) -> str:
    """A revision as one text, front matter first, for line diffs."""
    meta = revision.meta or {}
    return _front(revision.title, revision.slug, revision.summary, meta.get("category"), meta.get("tags") or [],
                  meta.get("lang"), meta.get("status"), meta.get("published_at"), meta.get("comments_open"),
                  revision.body_md)


def _text_of_post(post: Post) -> str:
    return text_of(PostRevision(title=post.title, slug=post.slug, summary=post.summary, body_md=post.body_md,
                                meta=_meta(post)))


def typed_summary(post: Post) -> str:
    """The summary field's value: empty when the stored one was made from the text, so it follows the text."""
    return "" if post.summary == markup.summarize(post.body_html or "") else (post.summary or "")


def _text_of_input(data: PostInput) -> str:
    category = db.session.get(Category, data.category_id) if data.category_id else None
    summary = data.summary
    if not summary:  # made from the text on save: compare what it would be
        try:
            summary = markup.summarize(markup.render_post(data.body_md).html)
        except markup.RenderError:
            summary = ""
    return _front(data.title, data.slug, summary, category.slug if category else None, data.tags, data.lang,
                  data.status, data.published_at.isoformat() if data.published_at else None, data.comments_open,
                  data.body_md)


def _front(title, slug, summary, category, tags, lang, status, published_at, comments_open, body) -> str:
    lines = [f"title: {title}", f"slug: {slug}", f"summary: {summary or ''}", f"category: {category or ''}",
             f"tags: {', '.join(tags)}", f"language: {lang or ''}", f"status: {status or ''}",
             f"date: {published_at or ''}", f"comments: {'open' if comments_open else 'closed'}", "---"]
    return "\n".join(lines) + "\n" + (body or "")


def diff_lines(a: str, b: str, context: int = 3) -> list[tuple[str, str]]:
    """(kind, line) pairs of a unified diff from a to b; kind is 'add', 'del', 'hunk' or 'same'.

    Common first and last lines are cut before difflib runs, and a middle longer than
    MAX_DIFF_LINES is summarised instead of compared line by line (difflib can be quadratic)."""
    old, new = a.splitlines(), b.splitlines()
    start = 0
    while start < len(old) and start < len(new) and old[start] == new[start]:
        start += 1
    end = 0
    while end < len(old) - start and end < len(new) - start and old[-1 - end] == new[-1 - end]:
        end += 1
    middle_old, middle_new = old[start:len(old) - end], new[start:len(new) - end]
    if not middle_old and not middle_new:
        return []
    if len(middle_old) + len(middle_new) > MAX_DIFF_LINES:
        return [("hunk", f"@@ -{start + 1},{len(middle_old)} +{start + 1},{len(middle_new)} @@ "
                         f"(too long to compare line by line)")]
    lo, hi = max(0, start - context), end - context if end > context else 0
    old_part, new_part = old[lo:len(old) - hi], new[lo:len(new) - hi]
    result = []
    for line in difflib.unified_diff(old_part, new_part, lineterm="", n=context):
        if line.startswith(("---", "+++")):
            continue
        if line.startswith("@@"):
            # difflib counts from the cut start: shift the line numbers back to the whole text.
            result.append(("hunk", _shift_hunk(line, lo)))
        elif line.startswith("+"):
            result.append(("add", line[1:]))
        elif line.startswith("-"):
            result.append(("del", line[1:]))
        else:
            result.append(("same", line[1:]))
    return result


def _shift_hunk(header: str, offset: int) -> str:
    def shift(m):
        first = int(m.group(2)) + offset
        return f"{m.group(1)}{first}{m.group(3) or ''}"

    return _HUNK_NUMBERS.sub(shift, header, count=2)


_HUNK_NUMBERS = re.compile(r"([-+])(\d+)(,\d+)?")
