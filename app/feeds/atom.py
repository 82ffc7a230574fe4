"""Atom feeds of posts, built with feedgen."""
import re
from collections.abc import Iterable
from datetime import datetime

from feedgen.ext.base import BaseEntryExtension
from feedgen.feed import FeedGenerator
from markupsafe import escape

from app.models import Post, utcnow

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
# The stored HTML is our own sanitiser's output: attributes in double quotes, the ¶ link as Markdown wrote it.
_HEADING_PERMALINK = re.compile(r'<a class="headerlink" href="#[^"]*"[^>]*>[^<]*</a>')
_FRAGMENT_HREF = re.compile(r'(\shref=")#')


class _EntryLanguage(BaseEntryExtension):
    """xml:lang on an entry: feedgen only sets it on the feed, and a feed mixes German and English posts.

    Also hreflang on the entry's link: feedgen 1.0 drops an entry link's rel, type and hreflang.
    """

    def __init__(self):
        self.code = None

    def lang(self, code: str) -> None:
        self.code = code

    def extend_atom(self, entry):
        if self.code:
            entry.set(XML_LANG, self.code)
            for link in entry.iterfind("link"):  # feedgen names its elements without the namespace
                link.set("hreflang", self.code)
        return entry


def feed_html(html: str, page_url: str) -> str:
    """A post's HTML as feed readers need it: no heading ¶ links, in-page links pointing at the post."""
    html = _HEADING_PERMALINK.sub("", html)
    return _FRAGMENT_HREF.sub(lambda m: f"{m.group(1)}{escape(page_url)}#", html)


def _second(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


def _entry_language(entry, code: str) -> None:
    entry.register_extension("language", _EntryLanguage, atom=True, rss=False)
    entry.language.lang(code)


def posts_feed(*, feed_id: str, title: str, subtitle: str, self_url: str, site_url: str, lang: str,
               posts: Iterable[Post], post_url) -> bytes:
    """An Atom document listing `posts` (newest first), each with its full HTML."""
    posts = list(posts)
    fg = FeedGenerator()
    fg.id(feed_id)
    fg.title(title)
    fg.subtitle(subtitle or title)
    fg.link(href=self_url, rel="self", type="application/atom+xml")
    fg.link(href=site_url, rel="alternate", type="text/html")
    fg.language(lang)
    fg.updated(_second(max((p.last_modified for p in posts), default=None) or utcnow()))
    fg.generator("Dialog")
    for post in posts:
        url = post_url(post)
        entry = fg.add_entry(order="append")
        entry.id(url)
        entry.title(post.title)
        entry.link(href=url, rel="alternate", type="text/html")
        _entry_language(entry, post.lang)
        entry.published(_second(post.published_at))
        entry.updated(_second(post.last_modified))
        entry.author(name=post.author.display_name)
        if post.summary:
            entry.summary(post.summary)
        entry.content(feed_html(post.body_html, url), type="html")
        if post.category:
            entry.category(term=post.category.slug, label=post.category.name)
    return fg.atom_str(pretty=True)


def comments_feed(*, post: Post, title: str, self_url: str, post_url: str, lang: str, comments, comment_url) -> bytes:
    """An Atom document of a post's approved comments, newest first."""
    comments = list(comments)
    fg = FeedGenerator()
    fg.id(self_url)
    fg.title(title)
    fg.link(href=self_url, rel="self", type="application/atom+xml")
    fg.link(href=post_url, rel="alternate", type="text/html")
    fg.language(lang)
    fg.updated(_second(max((c.approved_at or c.created_at for c in comments), default=None) or post.last_modified))
    fg.generator("Dialog")
    for comment in comments:
        url = comment_url(comment)
        entry = fg.add_entry(order="append")
        entry.id(url)
        entry.title(f"{comment.author_name}: {post.title}")
        entry.link(href=url, rel="alternate", type="text/html")
        _entry_language(entry, post.lang)  # Comment.lang is the writer's UI language, not the text's
        entry.published(_second(comment.created_at))
        entry.updated(_second(comment.edited_at or comment.created_at))
        entry.author(name=comment.author_name)
        entry.content(comment.body_html, type="html")
    return fg.atom_str(pretty=True)
