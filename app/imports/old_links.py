"""The old blog's addresses and where they lead now: `Redirect` rows written by the imports, and
the lookup a 404 makes before it answers.

Paths are kept normalised (`normalise`): percent-escapes decoded, lower case, no trailing
slash, and of the query only what WordPress routes by (`?p=12`, `?page_id=3`, `?cat=4` …), so
`/2019/05/03/Router/?utm_source=x` finds the row of `/2019/05/03/router/`. Besides the exact
paths an export names (each post's permalink, `/?p=<id>`, category, tag and author archives),
every post also gets a `/<its WordPress slug>` row, which lets `find` resolve the permalink
structures an export does not spell out (`/%category%/%postname%/`, `/%year%/%postname%/`,
`/category/<slug>/<postslug>/`, `/archives/<id>` …) from the path's last segment.
"""
import re
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from sqlalchemy import select

from app.content import editing
from app.extensions import db
from app.models import Comment, ImportedItem, Post, Redirect, utcnow

# The query parameters WordPress answers by (its "ugly" permalinks); every other one is noise.
ROUTING_KEYS = ("p", "page_id", "cat", "tag", "author", "attachment_id", "m")
_FEED = re.compile(r"^(.*?)/feed(?:/(?:rss2?|atom|rdf))?$")
_PAGED = re.compile(r"^(.*?)/page/(\d{1,6})$")
_COMMENT_PAGE = re.compile(r"^(.*?)/comment-page-\d{1,6}$")  # WordPress's paged comments
_DATE_ARCHIVE = re.compile(r"^/((?:19|20)\d\d)(?:/(0[1-9]|1[0-2]))?(?:/\d\d)?$")  # /2019/05/ (and /2019/05/03/)
_INDEX_PHP = re.compile(r"^/index\.php(?=/|$)")  # permalinks "with PATHINFO", and /index.php?p=12
# Our own first path segments: a number at the end of these is never an old WordPress id.
OWN_PREFIXES = {"posts", "uploads", "static", "admin", "moderation", "editor",
                "api", "account", "login", "logout", "search", "preview", "subscriptions", "language", "archive",
                "backoffice", "healthz"}


def normalise(url: str) -> str:
    """The form a path is kept and looked up in: "/2019/05/router", "/?p=12"."""
    parts = urlsplit(url.strip())
    path = unquote(parts.path or "/").lower()
    path = "/" + "/".join(segment for segment in path.split("/") if segment)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k in ROUTING_KEYS]
    return path + ("?" + urlencode(sorted(query)) if query else "")


def bare_host(host: str) -> str:
    """A host as the same site answers under it: lower case, no "www.", no trailing dot."""
    return host.lower().rstrip(".").removeprefix("www.")


def routing_query(args) -> str | None:
    """`?p=12` of a request's arguments, if it has any WordPress routes by (else None)."""
    query = sorted((k, args[k]) for k in ROUTING_KEYS if k in args)
    return "/?" + urlencode(query) if query else None


class Writer:
    """Collects one import's rows and writes each once (the caller commits)."""

    def __init__(self, origin: str):
        self.origin = origin
        self._written: set[str] = set()  # this run's: the first item to claim an address keeps it
        self._undo: dict[str, str | None] = {}  # this transaction's changes: old → the value before
        self._existing = {old: new for old, new in db.session.execute(select(Redirect.old_path, Redirect.new_path))}

    def add(self, old: str, new: str) -> bool:
        """Remember that `old` (a path or URL of the old site) now lives at `new`; False if it is ours already."""
        old = normalise(old)
        if old in ("", "/") or old == new or old.rstrip("/") == new.rstrip("/").lower():
            return False
        current = self._existing.get(old)
        if old in self._written:
            return current == new
        if current is not None and current != new and current.startswith("/posts/") and db.session.scalar(
                select(Post.id).where(Post.slug == current.removeprefix("/posts/"))) is not None:
            return False  # it leads to a post that is still there: the first claim stays
        self._undo.setdefault(old, current)
        self._written.add(old)
        if current == new:
            return True
        if current is None:
            db.session.add(Redirect(old_path=old, new_path=new, origin=self.origin))
        else:  # the same old address, a newer target (a re-import after a slug changed)
            db.session.execute(Redirect.__table__.update().where(Redirect.old_path == old).values(new_path=new))
        self._existing[old] = new
        return True

    def moved(self, old: str, new: str) -> None:
        """A post's address changed (a re-import after its slug changed in WordPress): the old one
        answers 301 to the new, and every row that led to the old one leads there too (no chains)."""
        editing.move_post_address(old.removeprefix("/posts/"), new.removeprefix("/posts/"))
        editing.claim_post_address(new.removeprefix("/posts/"))
        for key, value in list(self._existing.items()):
            if value == old or key == old:
                self._undo.setdefault(key, value)
                self._existing[key] = new
        self._undo.setdefault(old, None)
        self._existing[old] = new
        self._existing.pop(new, None)

    def commit(self) -> None:
        """The caller's transaction was committed: its addresses stay claimed."""
        self._undo.clear()

    def rollback(self) -> None:
        """The caller's transaction was rolled back: its rows are gone, their addresses free again."""
        for old, before in self._undo.items():
            self._written.discard(old)
            if before is None:
                self._existing.pop(old, None)
            else:
                self._existing[old] = before
        self._undo.clear()


def _exact(path: str) -> str | None:
    return db.session.scalar(select(Redirect.new_path).where(Redirect.old_path == path))


OURS = ("/posts/", "/category/", "/tag/", "/author/")


def find(path: str, query: str | None = None, *, guess: bool = True, readers_only: bool = True) -> str | None:
    """Where an old address leads now, or None. `query`: the request's routing query (`?p=12`).
    `guess`: also try the permalink structures the table does not spell out (by the last segment).
    Never to a post readers may not see: a draft's address stays secret (the old one answers 404)."""
    target = _find(path, query, guess=guess)
    if readers_only and target and target.startswith("/posts/"):
        slug = target.removeprefix("/posts/").split("/")[0]
        if db.session.scalar(select(Post.id).where(Post.slug == slug, Post.visible(utcnow()))) is None:
            return None
    return target


def _find(path: str, query: str | None = None, *, guess: bool = True, suffix: bool = True) -> str | None:
    """`suffix`: one …/feed/, …/page/2/ or …/comment-page-2/ may be taken off (one: a path of a
    thousand "/feed" costs one lookup more, not a thousand)."""
    key = normalise(_INDEX_PHP.sub("", path) or "/") + (normalise("/?" + query)[1:] if query else "")
    found = _exact(key)
    if found or "?" in key:
        return found
    if suffix and (feed := _FEED.match(key)):  # …/feed/ is the feed of what … is
        base = feed.group(1)
        target = (_find(base, guess=guess, suffix=False) or (base if base.startswith(OURS) else None)) \
            if base else "/"
        return _feed_of(target)
    if suffix and (paged := _PAGED.match(key)):
        base = paged.group(1) or "/"
        base = _find(base, guess=guess, suffix=False) or (base if base == "/" or base.startswith(OURS) else None)
        if base is None:
            return None
        return f"{base}?page={paged.group(2)}" if "?" not in base and not base.startswith("/posts/") else base
    if suffix and (comments := _COMMENT_PAGE.match(key)):
        return _find(comments.group(1) or "/", guess=guess, suffix=False)
    if guess and (archive := _DATE_ARCHIVE.match(key)):  # WordPress's date archives: ours by month
        year, month = archive.groups()
        return f"/archive/{year}/{int(month)}/" if month else "/archive/"
    segments = [s for s in key.split("/") if s]
    if guess and segments and segments[0] not in OWN_PREFIXES:
        last = segments[-1]
        found = _exact("/" + last)  # a post's WordPress slug under any permalink structure
        if found is None and last.isdigit() and (len(segments) == 1 or segments[0] == "archives"):
            found = _exact(f"/?p={last}")  # /archives/12
        if found and found.startswith("/posts/"):
            return found
    return None


def _feed_of(target: str | None) -> str | None:
    if target == "/":
        return "/feed.atom"
    if target and target.startswith("/posts/"):
        return target + "/comments.atom"
    if target and target.startswith("/category/"):
        return target + "/feed.atom"
    return target


def listing(origin: str | None = None) -> list[tuple[str, str, str]]:
    """Every row (old, new, origin), for `flask redirects list`."""
    stmt = select(Redirect.old_path, Redirect.new_path, Redirect.origin).order_by(Redirect.old_path)
    if origin is not None:
        stmt = stmt.where(Redirect.origin == origin)
    return [tuple(r) for r in db.session.execute(stmt)]


def imported_comment(post_id: int, source_id: str) -> int | None:
    """Our id of the old blog's comment `source_id` on this post (WordPress numbers them per site)."""
    return db.session.scalar(
        select(ImportedItem.target_id).join(Comment, Comment.id == ImportedItem.target_id)
        .where(ImportedItem.kind == "comment", ImportedItem.origin.startswith("wordpress:"),
               ImportedItem.source_id == source_id[:200], Comment.post_id == post_id).limit(1))
