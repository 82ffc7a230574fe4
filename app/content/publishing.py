"""Saving post content: Markdown rendered to stored HTML once, at save time."""
from datetime import datetime

from app import markup
from app.content import uploads
from app.models import Page, Post


def apply_post_body(post: Post, body_md: str, *, summary: str = "", internal_hosts: tuple[str, ...] = (),
                    words_per_minute: int = 200, rendered: markup.Rendered | None = None) -> None:
    """Set a post's Markdown and everything derived from it: HTML, table of contents, reading time.
    `rendered`: `markup.render_post(body_md, internal_hosts)` made already (an import's worker)."""
    rendered = rendered or markup.render_post(body_md, internal_hosts)
    post.body_md = body_md
    post.body_html = uploads.responsive(rendered.html)
    post.toc = rendered.toc
    post.reading_minutes = max(1, round(rendered.words / words_per_minute))
    post.summary = summary or markup.summarize(rendered.html)


def apply_page_body(page: Page, body_md: str, *, summary: str = "", internal_hosts: tuple[str, ...] = (),
                    rendered: markup.Rendered | None = None) -> None:
    """Set a page's Markdown and its stored HTML."""
    rendered = rendered or markup.render_post(body_md, internal_hosts)
    page.body_md = body_md
    page.body_html = uploads.responsive(rendered.html)
    page.summary = summary or markup.summarize(rendered.html)


def readers_text(item: Post | Page) -> tuple[str | None, str | None, str | None]:
    """What readers read of a post or page (title, Markdown body, summary), to compare before and after a save."""
    return item.title, item.body_md, item.summary


def note_content_change(item: Post | Page, before: tuple, *, now: datetime, stated: datetime | None = None) -> bool:
    """Date a save: the author's stated time wins, else `now` if title, body or summary differ from `before`."""
    changed = readers_text(item) != before
    if stated is not None:
        item.content_changed_at = stated
    elif changed:
        item.content_changed_at = now
    return changed
