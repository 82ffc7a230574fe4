"""The import's heavy part, content converted and rendered, in worker processes.

A large export is mostly comments (50,000 in the benchmark), and each costs about a millisecond
to turn into Markdown and a millisecond to render through `app/markup.py`; a post about ten:
work that needs no database (images of `--media` are rewritten by the main process after).
Items are read and stored by the main process in file order, batch by batch, while the
workers prepare the next batch, so at most two batches are in memory. Workers are forked (they
inherit the app and `app/markup.py`'s state; the watchdog restarts itself in a fork), never
touch the database (the engine is disowned in each), and end with the pool.
"""
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from itertools import islice

from flask import Flask, current_app

from app import markup
from app.imports import wp_content

BATCH = 24  # items per batch: enough to keep both workers busy, little to hold
_app: Flask | None = None
_hosts: tuple[str, ...] = ()
_attachments: dict[str, str] = {}
_skip: "Skip | None" = None
POSTS = ("post", "page")


def _start() -> None:
    from app.extensions import db

    context = _app.app_context()
    context.push()
    db.engine.dispose(close=False)  # the parent's connections are the parent's


def comment(content: str, internal_hosts: tuple[str, ...]) -> tuple[str, str | None, str | None]:
    """A WordPress comment's text → (Markdown, rendered HTML or None, the reason it cannot be rendered)."""
    try:
        body_md = wp_content.comment_to_markdown(content)
    except RecursionError:  # markdownify recurses per element: hundreds of nested tags
        return content, None, "nested too deeply"
    try:
        return body_md, markup.render_comment(body_md, internal_hosts), None
    except markup.RenderError as exc:
        return body_md, None, exc.detail


def post(content: str, attachments: dict[str, str], internal_hosts: tuple[str, ...]):
    """A post's or page's content → (Converted, markup.Rendered or None, the reason it cannot be rendered)."""
    try:
        converted = wp_content.post_to_markdown(content, attachments=attachments)
    except RecursionError:  # markdownify recurses per element: hundreds of nested tags
        return wp_content.Converted(""), None, "nested too deeply"
    try:
        return converted, markup.render_post(converted.markdown, internal_hosts), None
    except markup.RenderError as exc:
        return converted, None, exc.detail


class Skip:
    """What an earlier run stored already, so a worker need not prepare it (read before the fork)."""

    def __init__(self, unchanged_item: Callable[[object], bool], known_comments: set[str]):
        self.unchanged_item, self.known_comments = unchanged_item, known_comments


def _prepare(item):
    if item.type in POSTS and item.status not in ("trash", "auto-draft", "inherit") and \
            not (_skip and _skip.unchanged_item(item)):
        item.prepared = post(item.content, _attachments, _hosts)
    for c in getattr(item, "comments", ()):
        if c.type not in ("pingback", "trackback") and not (_skip and c.id in _skip.known_comments):
            c.prepared = comment(c.content, _hosts)
    return item


def prepared(items: Iterable, *, jobs: int, internal_hosts: tuple[str, ...] = (),
             attachments: dict[str, str] | None = None, skip: Skip | None = None) -> Iterator:
    """`items` with their `prepared` content and comments, in order; `jobs` > 1: in that many processes
    (else as they are: the caller prepares each when it stores it)."""
    global _app, _hosts, _attachments, _skip
    _hosts, _attachments, _skip = internal_hosts, attachments or {}, skip
    if jobs <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        yield from items
        return
    _app = current_app._get_current_object()
    iterator = iter(items)
    with multiprocessing.get_context("fork").Pool(jobs, initializer=_start) as pool:
        pending = None
        while True:
            batch = list(islice(iterator, BATCH))
            future = pool.map_async(_prepare, batch, chunksize=max(1, len(batch) // (jobs * 2))) if batch else None
            if pending is not None:
                yield from pending.get()
            if future is None:
                break
            pending = future


def default_jobs(comments: int, threshold: int = 2_000) -> int:
    """Worker processes for an export with this many comments: none for a small one."""
    return min(os.cpu_count() or 1, 4) if comments > threshold else 1

