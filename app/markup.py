"""The one Markdown → safe HTML pipeline. The only module that imports markdown or bleach.

Python-Markdown renders; bleach keeps only what the context's allowlist names; every link that
leaves the site gets rel="nofollow noopener". Callers store the result: pages never render
Markdown per request.
"""
import html
import re
import threading
from dataclasses import dataclass, field
from functools import partial
from urllib.parse import urlsplit

import bleach
import markdown
from bleach.linkifier import LinkifyFilter

PROTOCOLS = {"http", "https", "mailto"}

# Posts are written by staff and may use the whole Markdown language, tables and images included.
POST_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "b", "i", "del", "ins",
    "sup", "sub", "mark", "kbd", "abbr", "a", "ul", "ol", "li", "dl", "dt", "dd", "blockquote",
    "code", "pre", "table", "thead", "tbody", "tr", "th", "td", "img", "figure", "figcaption",
    "details", "summary",
}
# Comments come from anyone: text formatting, links, quotes, lists and code; no images, no headings.
COMMENT_TAGS = {"p", "br", "strong", "em", "a", "ul", "ol", "li", "blockquote", "code", "pre"}

_CODE_CLASS = re.compile(r"^language-[\w+#.-]{1,30}$")
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}


def _post_attribute(tag: str, name: str, value: str) -> bool:
    if name == "class":
        return (tag == "code" and bool(_CODE_CLASS.match(value))) or (tag == "a" and value == "headerlink")
    allowed = {
        "a": {"href", "title"},
        "img": {"src", "alt", "title", "width", "height"},
        "abbr": {"title"},
        "ol": {"start"},
        "th": {"align"},
        "td": {"align"},
    }
    if tag in _HEADINGS:
        return name == "id"
    return name in allowed.get(tag, ())


def _comment_attribute(tag: str, name: str, value: str) -> bool:
    if tag == "a":
        return name in {"href", "title"}
    if tag == "code":
        return name == "class" and bool(_CODE_CLASS.match(value))
    if tag == "ol":
        return name == "start"
    return False


# Elements whose *content* is meaningless once the tag is gone (bleach strips tags, keeps text).
_DEAD_CONTENT = re.compile(
    r"<(script|style|iframe|object|embed|template|noscript|textarea|title|svg|math)\b[^>]*>.*?</\1\s*>",
    re.IGNORECASE | re.DOTALL,
)


@dataclass(frozen=True)
class Rendered:
    """The stored result of rendering a post or page."""

    html: str
    toc: list = field(default_factory=list)  # [{"level": 2, "id": "...", "title": "..."}]
    words: int = 0


def render_post(text: str, internal_hosts: tuple[str, ...] = ()) -> Rendered:
    """Render a post or page body: rich allowlist, heading anchors, table of contents."""
    md = _markdown("post")
    raw = md.convert(text or "")
    toc = [
        {"level": t["level"], "id": t["id"], "title": html.unescape(t["name"])}
        for t in _flatten(md.toc_tokens)
        if t["level"] in (2, 3)
    ]
    safe = _cleaner("post", internal_hosts).clean(_DEAD_CONTENT.sub("", raw))
    return Rendered(html=safe, toc=toc, words=len(plain_text(safe).split()))


def render_comment(text: str, internal_hosts: tuple[str, ...] = ()) -> str:
    """Render a reader's comment: raw HTML shows as typed text, only the small allowlist survives."""
    raw = _markdown("comment").convert(text or "")
    return _cleaner("comment", internal_hosts).clean(raw)


def plain_text(fragment: str) -> str:
    """The text of an HTML fragment, without tags (for summaries, word counts, search)."""
    text = bleach.clean(_DEAD_CONTENT.sub(" ", fragment or ""), tags=set(), strip=True)
    return " ".join(html.unescape(text).split())


def summarize(fragment: str, limit: int = 220) -> str:
    """The first sentence(s) of a fragment, cut at a word boundary."""
    text = plain_text(fragment)
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",;:.-–") + " …"


# --- internals --------------------------------------------------------------------------------

# Markdown and bleach objects are not thread-safe but costly to build: one set per thread.
_local = threading.local()


def _markdown(context: str) -> markdown.Markdown:
    cache = _local.__dict__.setdefault("markdown", {})
    md = cache.get(context)
    if md is None:
        md = cache[context] = _build_markdown(context)
    md.reset()
    return md


def _build_markdown(context: str) -> markdown.Markdown:
    if context == "post":
        return markdown.Markdown(
            extensions=["fenced_code", "tables", "sane_lists", "toc", "abbr", "def_list"],
            extension_configs={
                "toc": {"permalink": True, "permalink_title": "", "toc_depth": "2-6"},
                "tables": {"use_align_attribute": True},
            },
            output_format="html",
        )
    md = markdown.Markdown(extensions=["fenced_code", "sane_lists"], output_format="html")
    # A reader's "<b>" is text they typed, not markup; headings and images are not for comments.
    md.preprocessors.deregister("html_block")
    md.inlinePatterns.deregister("html")
    md.inlinePatterns.deregister("image_link")
    md.inlinePatterns.deregister("image_reference")
    md.inlinePatterns.deregister("short_image_ref")
    md.parser.blockprocessors.deregister("hashheader")
    md.parser.blockprocessors.deregister("setextheader")
    return md


def _cleaner(context: str, internal_hosts: tuple[str, ...]) -> bleach.Cleaner:
    cache = _local.__dict__.setdefault("cleaners", {})
    key = (context, internal_hosts)
    cleaner = cache.get(key)
    if cleaner is None:
        rel = "nofollow noopener" if context == "post" else "nofollow ugc noopener"
        linkify = partial(
            LinkifyFilter,
            callbacks=[partial(_external_rel, rel=rel, internal_hosts=set(internal_hosts))],
            skip_tags={"pre", "code"},
            parse_email=False,
        )
        cleaner = cache[key] = bleach.Cleaner(
            tags=POST_TAGS if context == "post" else COMMENT_TAGS,
            attributes=_post_attribute if context == "post" else _comment_attribute,
            protocols=PROTOCOLS,
            strip=True,
            strip_comments=True,
            filters=[linkify],
        )
    return cleaner


def _external_rel(attrs: dict, new: bool = False, *, rel: str, internal_hosts: set) -> dict:
    """Mark links that leave the site; keep links to this site (relative or own host) as they are."""
    href = attrs.get((None, "href"), "")
    parts = urlsplit(href)
    if parts.scheme in ("http", "https") and parts.hostname and parts.hostname not in internal_hosts:
        attrs[(None, "rel")] = rel
    else:
        attrs.pop((None, "rel"), None)
    return attrs


def _flatten(tokens: list) -> list:
    out = []
    for token in tokens:
        out.append(token)
        out.extend(_flatten(token.get("children", [])))
    return out
