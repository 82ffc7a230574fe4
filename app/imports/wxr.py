"""Reading a WordPress eXtended RSS export (WXR 1.0–1.2, WordPress 3.x to 6.x), one item at a time.

The file is read twice with a streaming parser: `scan` checks the whole file first (well-formed,
a WXR of a known version, no entity declarations: defusedxml refuses entity-expansion bombs and
external entities) and collects the site, authors and terms, so a broken file imports nothing;
`items` then hands out posts, pages and attachments one by one, each element cleared after use,
so memory stays flat however large the export is.
"""
import html
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from app.imports import old_links

KNOWN_VERSIONS = ("1.0", "1.1", "1.2")
_WP_NAMESPACE = re.compile(r"^http://wordpress\.org/export/(\d+\.\d+)/$")
CONTENT = "{http://purl.org/rss/1.0/modules/content/}"
DC = "{http://purl.org/dc/elements/1.1/}"


class ExportError(ValueError):
    """The file cannot be imported at all; the message says why, in words for the person running it."""


@dataclass
class Site:
    title: str = ""
    link: str = ""
    base_site_url: str = ""
    base_blog_url: str = ""
    language: str = ""
    version: str = ""
    authors: list["Author"] = field(default_factory=list)
    categories: list["Term"] = field(default_factory=list)
    tags: list["Term"] = field(default_factory=list)
    items: int = 0  # <item>s in the file
    comments: int = 0  # <wp:comment>s in the file
    attachments: dict[str, str] = field(default_factory=dict)  # attachment post id → its file's URL

    @property
    def origin(self) -> str:
        """What tells this blog's ids apart from another's: its address without scheme and "www."
        (an export taken after the blog moved to https is the same blog)."""
        parts = urlsplit(self.base_blog_url or self.base_site_url or self.link)
        return "wordpress:" + old_links.bare_host(parts.hostname or "") + parts.path.rstrip("/")


@dataclass
class Author:
    id: str
    login: str
    email: str = ""
    display_name: str = ""


@dataclass
class Term:
    id: str
    slug: str
    name: str
    parent: str = ""  # the parent category's slug
    description: str = ""


@dataclass
class WpComment:
    id: str
    author: str = ""
    email: str = ""
    url: str = ""
    ip: str = ""
    date: str = ""  # local time of the old site, "YYYY-MM-DD HH:MM:SS"
    date_gmt: str = ""
    content: str = ""
    approved: str = "1"  # 1 | 0 | spam | trash (| post-trashed)
    type: str = ""  # "" or comment | pingback | trackback
    parent: str = "0"
    user_id: str = "0"
    prepared: tuple[str, str | None, str | None] | None = None  # (Markdown, HTML, error): see workers.py


@dataclass
class Item:
    id: str
    type: str = "post"
    title: str = ""
    link: str = ""
    guid: str = ""
    creator: str = ""  # the author's login
    content: str = ""
    excerpt: str = ""
    date: str = ""
    date_gmt: str = ""
    comment_status: str = "open"
    slug: str = ""
    status: str = "publish"
    parent: str = "0"
    password: str = ""
    sticky: bool = False
    attachment_url: str = ""
    categories: list[tuple[str, str, str]] = field(default_factory=list)  # (domain, nicename, name)
    meta: dict[str, str] = field(default_factory=dict)
    comments: list[WpComment] = field(default_factory=list)
    prepared: tuple | None = None  # (Converted, markup.Rendered or None, error or None): see workers.py


class _Counting:
    """A binary file that counts what the parser has read (for the progress bar)."""

    def __init__(self, raw, on_read: Callable[[int], None] | None):
        self.raw, self.on_read = raw, on_read

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        if self.on_read and data:
            self.on_read(len(data))
        return data


def _events(path, events=("start-ns", "end"), on_read=None):
    with open(path, "rb") as raw:
        yield from iterparse(_Counting(raw, on_read), events=events, forbid_dtd=False, forbid_entities=True,
                             forbid_external=True)


def checked_events(path, events, on_read=None):
    """`iterparse`'s events of an export (WordPress or Disqus); what makes the file unreadable is an
    `ExportError` in words for the person running the import."""
    check_not_empty(path)
    try:
        yield from _events(path, events=events, on_read=on_read)
    except DefusedXmlException as exc:
        raise ExportError("The file declares XML entities (an entity-expansion bomb or an external "
                          f"entity?); refused, nothing imported. ({type(exc).__name__})") from None
    except ParseError as exc:
        raise ExportError(_parse_error(exc)) from None
    except OSError as exc:
        raise ExportError(f"The file cannot be read: {exc.strerror or exc}") from None


def _text(element: Element | None, name: str) -> str:
    child = element.find(name) if element is not None else None
    return (child.text or "").strip() if child is not None and child.text else ""


def _name(element: Element | None, name: str) -> str:
    """A title or name: WordPress keeps them with HTML entities (`Router &amp; WLAN`, `&#8211;`)."""
    return " ".join(html.unescape(_text(element, name)).split())


def _raw(element: Element, name: str) -> str:
    """Content as written (HTML keeps its leading and trailing line breaks out, inner ones in)."""
    child = element.find(name)
    return (child.text or "").strip("\r\n") if child is not None else ""


def check_not_empty(path) -> None:
    try:
        with open(path, "rb") as raw:
            if not raw.read(4096).strip():
                raise ExportError("The file is empty.")
    except OSError as exc:
        raise ExportError(f"The file cannot be read: {exc.strerror or exc}") from None


def scan(path) -> Site:
    """Check the whole file and read what comes before the items; `ExportError` if it cannot be imported."""
    site, wp, root_seen = Site(), None, False
    for event, value in checked_events(path, events=("start-ns", "start", "end")):
        if event == "start-ns":
            match = _WP_NAMESPACE.match(value[1])
            if match and wp is None:
                wp = "{" + value[1] + "}"
                site.version = match.group(1)
            continue
        if event == "start":
            if not root_seen:
                root_seen = True
                if value.tag != "rss":
                    raise ExportError(f"This is not a WordPress export: the file starts with <{value.tag}>, "
                                      "not <rss>. (A Disqus export? Use `import disqus`.)")
                if wp is None:
                    raise ExportError("This is not a WordPress export: the wp: namespace is missing.")
                if site.version not in KNOWN_VERSIONS:
                    raise ExportError(f"WXR version {site.version} is not one this importer knows "
                                      f"({', '.join(KNOWN_VERSIONS)}; WordPress 3.x to 6.x).")
            continue
        tag, element = value.tag, value
        if tag == wp + "comment":
            site.comments += 1
        elif tag == "item":
            site.items += 1
            if _text(element, wp + "post_type") == "attachment":  # galleries name them by id
                site.attachments[_text(element, wp + "post_id")] = _text(element, wp + "attachment_url")
            element.clear()
        elif tag == wp + "author":
            site.authors.append(Author(
                id=_text(element, wp + "author_id"), login=_text(element, wp + "author_login"),
                email=_text(element, wp + "author_email"),
                display_name=_name(element, wp + "author_display_name")))
        elif tag == wp + "category":
            site.categories.append(Term(
                id=_text(element, wp + "term_id"), slug=_text(element, wp + "category_nicename"),
                name=_name(element, wp + "cat_name"), parent=_text(element, wp + "category_parent"),
                description=_text(element, wp + "category_description")))
        elif tag == wp + "tag":
            site.tags.append(Term(id=_text(element, wp + "term_id"), slug=_text(element, wp + "tag_slug"),
                                  name=_name(element, wp + "tag_name"),
                                  description=_text(element, wp + "tag_description")))
        elif tag == "channel":
            site.title, site.link = _text(element, "title"), _text(element, "link")
            site.language = _text(element, "language")
            site.base_site_url = _text(element, wp + "base_site_url")
            site.base_blog_url = _text(element, wp + "base_blog_url")
    if not root_seen:
        raise ExportError("The file is empty.")
    return site


def _parse_error(exc: ParseError) -> str:
    line, column = getattr(exc, "position", (0, 0))
    reason = str(exc).split(":")[0]
    if reason in ("no element found", "unclosed CDATA section", "partial character") or \
            reason.startswith("unclosed token"):
        return f"The file ends in the middle (truncated at line {line}?); nothing imported."
    return f"This is not well-formed XML ({reason}, line {line}, column {column}); nothing imported."


def items(path, version: str, on_read: Callable[[int], None] | None = None) -> Iterator[Item]:
    """Every <item> of a file `scan` accepted, one at a time."""
    wp = "{http://wordpress.org/export/%s/}" % version
    excerpt = "{http://wordpress.org/export/%s/excerpt/}encoded" % version
    channel = None
    for event, element in _events(path, events=("start", "end"), on_read=on_read):
        if event == "start":
            if element.tag == "channel":
                channel = element
            continue
        if element.tag != "item":
            continue
        item = Item(
            id=_text(element, wp + "post_id"), type=_text(element, wp + "post_type") or "post",
            title=_name(element, "title"), link=_text(element, "link"), guid=_text(element, "guid"),
            creator=_text(element, DC + "creator"), content=_raw(element, CONTENT + "encoded"),
            excerpt=_raw(element, excerpt), date=_text(element, wp + "post_date"),
            date_gmt=_text(element, wp + "post_date_gmt"),
            comment_status=_text(element, wp + "comment_status") or "open",
            slug=_text(element, wp + "post_name"), status=_text(element, wp + "status") or "publish",
            parent=_text(element, wp + "post_parent") or "0", password=_text(element, wp + "post_password"),
            sticky=_text(element, wp + "is_sticky") == "1", attachment_url=_text(element, wp + "attachment_url"),
        )
        for category in element.findall("category"):
            item.categories.append((category.get("domain", ""), category.get("nicename", ""),
                                    html.unescape((category.text or "").strip())))
        for meta in element.findall(wp + "postmeta"):
            item.meta[_text(meta, wp + "meta_key")] = _text(meta, wp + "meta_value")
        for comment in element.findall(wp + "comment"):
            item.comments.append(WpComment(
                id=_text(comment, wp + "comment_id"), author=_name(comment, wp + "comment_author"),
                email=_text(comment, wp + "comment_author_email"), url=_text(comment, wp + "comment_author_url"),
                ip=_text(comment, wp + "comment_author_IP"), date=_text(comment, wp + "comment_date"),
                date_gmt=_text(comment, wp + "comment_date_gmt"), content=_raw(comment, wp + "comment_content"),
                approved=_text(comment, wp + "comment_approved") or "0", type=_text(comment, wp + "comment_type"),
                parent=_text(comment, wp + "comment_parent") or "0",
                user_id=_text(comment, wp + "comment_user_id") or "0"))
        element.clear()
        if channel is not None:
            channel.remove(element)
        yield item
