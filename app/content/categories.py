"""Categories in the browser: create, rename, describe, order, merge, and each one's first-answer
target. Every change writes an `AdminEvent`; a changed slug or a merge keeps the old URL as a 301
(`Redirect`).

Files and browser: `posts/categories.yml` creates the categories that do not exist yet and keeps
updating those nobody has changed in the browser. Once a category is changed here it is the
browser's: the file's name, description, position and target for it are ignored (the import
says so), and its old slugs, renamed or merged away, lead the file's entries and the posts'
`category:` lines to where the category now lives, so an import never brings one back.
"""
import math
import re
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update as sql_update
from sqlalchemy.orm import joinedload

from app import outbox
from app.content.slugs import slugify
from app.extensions import db
from app.models import AdminEvent, Category, Post, Redirect, Setting, User

BROWSER_KEY = "categories.changed_in_browser"  # Setting: ids of the categories the browser owns
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_NAME, MAX_SLUG, MAX_DESCRIPTION = 80, 80, 1_000
MAX_TARGET_MINUTES = 30 * 24 * 60  # thirty days
UNITS = {"minutes": 1, "hours": 60}


class CategoryError(Exception):
    """Input that cannot be saved; `errors` maps each field to its message."""

    def __init__(self, errors: dict[str, object]):
        super().__init__("; ".join(str(m) for m in errors.values()))
        self.errors = errors


@dataclass
class CategoryInput:
    name: str = ""
    slug: str = ""  # empty: from the name
    description: str = ""
    target: str = "4"  # as typed, in `unit`
    unit: str = "hours"
    business_hours: bool = False


def path(slug: str) -> str:
    """The public URL path of a category's page (what a Redirect remembers)."""
    return f"/category/{slug}"


def input_from(category: Category) -> CategoryInput:
    """The edit form's values for a category (hours when the target is whole hours)."""
    minutes = category.response_target_minutes
    hours = minutes % 60 == 0
    return CategoryInput(name=category.name, slug=category.slug, description=category.description or "",
                         target=str(minutes // 60 if hours else minutes), unit="hours" if hours else "minutes",
                         business_hours=category.business_hours_only)


def listing() -> list[tuple[Category, int]]:
    """Every category in navigation order with its number of posts (two queries)."""
    counts = dict(db.session.execute(
        select(Post.category_id, func.count()).where(Post.category_id.is_not(None)).group_by(Post.category_id)).all())
    return [(c, counts.get(c.id, 0)) for c in
            db.session.scalars(select(Category).order_by(Category.position, Category.name))]


def create(data: CategoryInput, actor: User | None) -> Category:
    """A new category at the end of the navigation; the caller commits."""
    values = _validated(data, None)
    last = db.session.scalar(select(func.max(Category.position)))
    category = Category(position=(last + 1) if last is not None else 0, **values)
    db.session.add(category)
    db.session.flush()
    _drop_redirect(path(category.slug))  # a new category under an old, redirected slug takes its URL back
    _own(category)
    _audit("category.create", category.slug, None, _snapshot(category), actor)
    return category


def update(category: Category, data: CategoryInput, actor: User | None) -> Category:
    """Rename, re-slug, describe, change the target; an old slug keeps answering with a 301."""
    values = _validated(data, category)
    before = _snapshot(category)
    old_slug = category.slug
    for key, value in values.items():
        setattr(category, key, value)
    if category.slug != old_slug:
        _redirect(old_slug, category.slug)
    after = _snapshot(category)
    if after != before:
        _own(category)
        _audit("category.update", category.slug, before, after, actor)
        if category.slug != old_slug or category.name != before["name"]:
            _reindex(category)
    db.session.flush()
    return category


def move(category: Category, offset: int, actor: User | None) -> None:
    """Move one place up (-1) or down (+1) in the navigation; positions become 0…n-1."""
    ordered = list(db.session.scalars(select(Category).order_by(Category.position, Category.name)))
    index = ordered.index(category)
    other = index + (1 if offset > 0 else -1)
    if not 0 <= other < len(ordered):
        return
    ordered[index], ordered[other] = ordered[other], ordered[index]
    for position, c in enumerate(ordered):
        if c.position != position:
            c.position = position
            _own(c)
    _audit("category.order", category.slug, None, [c.slug for c in ordered], actor)
    db.session.flush()


def merge(source: Category, target: Category, actor: User | None) -> int:
    """Move every post of `source` to `target`, remove `source`; its URL redirects to `target`.
    Comments stay with their posts. Returns the number of posts moved; the caller commits."""
    if source.id == target.id:
        raise CategoryError({"target": _l("A category cannot be merged into itself.")})
    post_ids = list(db.session.scalars(select(Post.id).where(Post.category_id == source.id)))
    db.session.execute(sql_update(Post).where(Post.category_id == source.id).values(category_id=target.id))
    before = _snapshot(source)
    _redirect(source.slug, target.slug)
    _own(target)
    _disown(source)
    db.session.delete(source)
    _audit("category.merge", source.slug, before, {"into": target.slug, "posts": len(post_ids)}, actor)
    outbox.index(posts=post_ids)
    db.session.flush()
    return len(post_ids)


def resolve(slug: str) -> Category | None:
    """The category at `slug`, or the one it was renamed or merged into (for the importer)."""
    category = db.session.scalar(select(Category).where(Category.slug == slug))
    if category is not None:
        return category
    moved = moved_to(path(slug))
    if moved and moved.startswith("/category/"):
        return db.session.scalar(select(Category).where(Category.slug == moved.removeprefix("/category/")))
    return None


def moved_to(old_path: str) -> str | None:
    """Where a renamed or merged category's old URL leads now (a 301), or None."""
    return db.session.scalar(select(Redirect.new_path).where(Redirect.old_path == old_path))


def browser_owned() -> set[int]:
    """Ids of the categories changed in the browser (the file no longer updates them)."""
    row = db.session.get(Setting, BROWSER_KEY)
    return {i for i in (row.value if row and isinstance(row.value, list) else []) if isinstance(i, int)}


# --- helpers -----------------------------------------------------------------------------------

def _validated(data: CategoryInput, category: Category | None) -> dict:
    errors: dict[str, object] = {}
    name = " ".join((data.name or "").split())
    slug = (data.slug or "").strip().lower() or slugify(name)
    description = (data.description or "").strip()
    if not name:
        errors["name"] = _l("Please enter a name.")
    elif len(name) > MAX_NAME:
        errors["name"] = _l("At most %(n)s characters, please.", n=MAX_NAME)
    else:
        clash = db.session.scalar(select(Category).where(func.lower(Category.name) == name.lower()))
        if clash is not None and clash is not category:
            errors["name"] = _l("There is already a category named “%(name)s”.", name=clash.name)
    if name and not slug:
        errors["slug"] = _l("Please enter a web address (letters, digits and hyphens).")
    elif slug and (len(slug) > MAX_SLUG or not SLUG.match(slug)):
        errors["slug"] = _l("Use only lower-case letters a–z, digits and single hyphens (at most %(n)s).", n=MAX_SLUG)
    elif slug:
        clash = db.session.scalar(select(Category).where(Category.slug == slug))
        if clash is not None and clash is not category:
            errors["slug"] = _l("The category “%(name)s” already has this web address.", name=clash.name)
    if len(description) > MAX_DESCRIPTION:
        errors["description"] = _l("At most %(n)s characters, please.", n=MAX_DESCRIPTION)
    minutes = _minutes(data.target, data.unit, errors)
    if errors:
        raise CategoryError(errors)
    return {"name": name, "slug": slug, "description": description, "response_target_minutes": minutes,
            "business_hours_only": bool(data.business_hours)}


def _minutes(value: str, unit: str, errors: dict) -> int | None:
    if unit not in UNITS:
        errors["target"] = _l("Please choose minutes or hours.")
        return None
    try:
        number = float(str(value).strip().replace(",", "."))
    except ValueError:
        errors["target"] = _l("Please enter a number.")
        return None
    minutes = round(number * UNITS[unit]) if math.isfinite(number) else 0  # NaN and infinities count as nothing
    if not 1 <= minutes <= MAX_TARGET_MINUTES:
        errors["target"] = _l("The target must be at least one minute and at most 30 days.")
        return None
    return minutes


def _redirect(old_slug: str, new_slug: str) -> None:
    """/category/<old> → /category/<new>; earlier redirects to <old> follow (no chains, no loops)."""
    old, new = path(old_slug), path(new_slug)
    db.session.execute(sql_update(Redirect).where(Redirect.new_path == old).values(new_path=new))
    _drop_redirect(new)  # renaming back: the new URL is live again
    existing = db.session.scalar(select(Redirect).where(Redirect.old_path == old))
    if existing is None:
        db.session.add(Redirect(old_path=old, new_path=new))
    else:
        existing.new_path = new
    db.session.flush()


def _drop_redirect(live_path: str) -> None:
    row = db.session.scalar(select(Redirect).where(Redirect.old_path == live_path))
    if row is not None:
        db.session.delete(row)
        db.session.flush()


def _own(category: Category) -> None:
    ids = browser_owned()
    if category.id not in ids:
        _store_owned(ids | {category.id})


def _disown(category: Category) -> None:
    ids = browser_owned()
    if category.id in ids:
        _store_owned(ids - {category.id})


def _store_owned(ids: set[int]) -> None:
    row = db.session.get(Setting, BROWSER_KEY) or Setting(key=BROWSER_KEY)
    row.value = sorted(ids)
    db.session.add(row)


def _reindex(category: Category) -> None:
    outbox.index(posts=db.session.scalars(select(Post.id).where(Post.category_id == category.id)).all())


def _snapshot(category: Category) -> dict:
    return {"name": category.name, "slug": category.slug, "description": category.description or "",
            "response_target_minutes": category.response_target_minutes,
            "business_hours_only": bool(category.business_hours_only)}


def _audit(action: str, subject: str, before, after, actor: User | None) -> None:
    db.session.add(AdminEvent(actor_id=getattr(actor, "id", None), action=action, subject=subject,
                              before=before, after=after))


def history(limit: int = 30) -> list[AdminEvent]:
    """The latest category changes, newest first, with their actors."""
    return list(db.session.scalars(
        select(AdminEvent).options(joinedload(AdminEvent.actor)).where(AdminEvent.action.like("category.%"))
        .order_by(AdminEvent.id.desc()).limit(limit)))
