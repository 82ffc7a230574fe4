"""The threads of a post page as HTML, each thread rendered once per change.

Rendering the comments is most of a post page's cost. A reader the page cache cannot serve (a
comment of their own waiting, a message to show) still sees every other thread exactly as an
anonymous reader does, so those threads are kept rendered (the page cache's store, see
app/caching/stores.py) and only the reader's own threads are rendered for them. A kept thread is
found under the content generation it was rendered in: any change readers could see makes the
whole set unreachable at once, as it does cached pages.

Never from kept threads: signed-in users (moderators see pending comments and their controls),
and the threads holding one of the reader's own comments (their pending state, edit links).

When the page holds the same threads for them as for everyone (their comment waits on another
page, or in a thread that everyone sees too), the whole page comes from the page cache with
their own threads put in (`page_from_cache`): the layout, post and form are not rendered again.
"""
import hashlib

from flask import current_app, render_template
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from app.caching import fingerprint, pages
from app.caching.stores import CSRF_MARK
from app.comments import threads
from app.comments.browser_state import form_timestamp


class Kept:
    """The kept threads of one page: looked up before the comments are loaded."""

    def __init__(self, post, *, own_ids: set[int], comments_open: bool, locale: str, usable: bool):
        self.post, self.comments_open, self.locale = post, comments_open, locale
        self.usable = usable and current_app.config["PAGE_CACHE"]
        self.found: dict[int, Markup] = {}
        self.generation: str | None = None
        self.own_roots = threads.roots_of(own_ids) if self.usable and own_ids else set()

    def _key(self, root: int) -> str:
        if self._prefix is None:
            config = current_app.config
            raw = "\n".join(map(str, (fingerprint.build(), self.generation, self.locale, self.post.id, self.post.slug,
                                      self.comments_open, config["COMMENT_MAX_DEPTH"], config["TEAM_NAME"])))
            self._prefix = "thread:" + hashlib.sha256(raw.encode()).hexdigest()[:32] + ":"
        return f"{self._prefix}{root}"

    _prefix: str | None = None

    def known(self, roots: list[int]) -> set[int]:
        """For threads.load_page: the roots whose threads are kept (their comments need no loading)."""
        if not self.usable:
            return set()
        wanted = [root for root in roots if root not in self.own_roots]
        try:
            store = pages.store()
            self.generation = store.generation()  # before the comments are read: never newer than they
            found = store.fragments([self._key(root) for root in wanted])
        except Exception:  # an unreachable cache: render them all
            current_app.logger.warning("kept threads unavailable; rendering them", exc_info=True)
            self.usable = False
            return set()
        self.found = {root: Markup(raw.decode()) for root, raw in zip(wanted, found, strict=True) if raw is not None}
        return set(self.found)

    def page_from_cache(self, page: threads.ThreadPage, pagination: str, **context) -> bytes | None:
        """The anonymous readers' page of this URL, from the page cache, with this reader's own
        threads rendered into it: when that is all that differs (the same threads on the page and
        the same count, kept in the same generation; a page count of their own is put in too).
        None: render the page.

        The page cache's copy holds each thread as it was kept, byte for byte, so the reader's
        version takes its place; their form gets their own CSRF token and timer."""
        if not self.usable or self.generation is None:
            return None
        entry = pages.for_this_url()
        meta = entry.meta if entry is not None and entry.generation == self.generation else None
        if not meta or (meta.get("roots"), meta.get("page"), meta.get("approved")) != (
                page.roots, page.page, page.approved):  # what the page shows of the threads, but the page count
            return None
        swaps = []  # (bytes everyone got, bytes for this reader)
        if meta.get("pagination") != str(pagination):  # more pages for them: a new thread of their own
            if not meta.get("pagination"):
                return None
            swaps.append((meta["pagination"].encode(), str(pagination).encode()))
        own = [root for root in page.roots if root in self.own_roots]
        try:
            anonymous = pages.store().fragments([self._key(root) for root in own]) if own else []
        except Exception:  # an unreachable cache: render the page
            current_app.logger.warning("kept threads unavailable; rendering the page", exc_info=True)
            return None
        if any(html is None for html in anonymous):
            return None
        by_root = _by_root(page)
        for root, old in zip(own, anonymous, strict=True):
            if root not in by_root:
                return None
            swaps.append((old, render_template("comments/_thread.html", items=by_root[root], **context).encode()))
        parts, marks = entry.parts()
        parts = list(parts)
        for old, new in swaps:
            where = [index for index, part in enumerate(parts) if old in part]
            if len(where) != 1 or parts[where[0]].count(old) != 1:
                return None  # not where it was expected: render the page
            parts[where[0]] = parts[where[0]].replace(old, new)
        values = [generate_csrf().encode() if mark == CSRF_MARK else form_timestamp().encode() for mark in marks]
        return b"".join(pages.interleave(parts, values))

    def render(self, page: threads.ThreadPage, **context) -> list[Markup]:
        """Every thread of the page in order: kept ones as they are, the others rendered (and kept,
        unless they hold the reader's own comments)."""
        by_root = _by_root(page)
        html, fresh = [], {}
        for root in page.roots:
            if root in self.found:
                html.append(self.found[root])
            elif root in by_root:
                rendered = Markup(render_template("comments/_thread.html", items=by_root[root], **context))
                html.append(rendered)
                if self.usable and self.generation is not None and root not in self.own_roots:
                    fresh[self._key(root)] = str(rendered).encode()
        if fresh:
            try:
                pages.store().put_fragments(fresh, current_app.config["PAGE_CACHE_SECONDS"])
            except Exception:  # not kept this time
                current_app.logger.warning("could not keep rendered threads", exc_info=True)
        return html


def _by_root(page: threads.ThreadPage) -> dict[int, list]:
    """The page's loaded items, thread by thread."""
    found: dict[int, list] = {}
    for item in page.items:
        found.setdefault(item.comment.root_id, []).append(item)
    return found
