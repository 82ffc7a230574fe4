"""WordPress HTML → our Markdown. The only module that imports markdownify and BeautifulSoup.

What WordPress stores is not what it shows: classic posts and comments have no <p> (its
`wpautop` makes paragraphs of blank lines and <br> of single line breaks at display time),
shortcodes (`[caption]`, `[gallery]`, `[embed]` …) are expanded at display time, and the block
editor wraps everything in `<!-- wp:… -->` comments. This does those steps once, then turns each
top-level block into Markdown, except blocks Markdown cannot hold without losing structure
(tables, nested lists, figures and galleries, definition lists, details): those stay HTML
blocks inside the Markdown. Nothing here is trusted: the result goes through `app/markup.py`
like anything typed in the editor, which removes scripts, event handlers and unknown tags.
"""
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape

from bs4 import BeautifulSoup, NavigableString, Tag
from markdownify import MarkdownConverter

_BLOCK_COMMENT = re.compile(r"<!--\s*/?wp:[^\n]*?-->\n?")
_MORE = re.compile(r"<!--\s*more\b[^>]*-->", re.IGNORECASE)
_NEXTPAGE = re.compile(r"<!--\s*nextpage\s*-->", re.IGNORECASE)
_SHORTCODE = re.compile(r"\[(\[?)(caption|wp_caption|gallery|embed|video|audio|playlist)\b([^\]]*)\]"
                        r"(?:([^\[]*(?:\[(?!/\2\])[^\[]*)*)\[/\2\])?(\]?)")
_ANY_SHORTCODE = re.compile(r"\[/?([a-z][a-z0-9_-]{1,40})(?:\s[^\]\n]{0,300})?\]")
_ATTRIBUTE = re.compile(r"""([\w-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|(\S+))""")
_BLOCK_TAGS = ("table|thead|tfoot|caption|col|colgroup|tbody|tr|td|th|div|dl|dd|dt|ul|ol|li|pre|form|map|area|"
               "blockquote|address|math|style|p|h[1-6]|hr|fieldset|legend|section|article|aside|hgroup|header|"
               "footer|nav|figure|figcaption|details|menu|summary")
_STARTS_BLOCK = re.compile(r"^\s*<(?:%s)\b" % _BLOCK_TAGS, re.IGNORECASE)
_PRE = re.compile(r"<pre\b.*?</pre>", re.IGNORECASE | re.DOTALL)
_PARAGRAPHS = re.compile(r"\n\s*\n")
# Blocks Markdown would flatten: kept as HTML (our sanitiser still decides what of them survives).
_KEEP_AS_HTML = {"table", "figure", "dl", "details", "div"}
_WP_SIZE = re.compile(r"-\d+x\d+(?=\.\w+$)")  # bild-300x200.jpg is a resized copy of bild.jpg


@dataclass
class Converted:
    markdown: str
    teaser: str = ""  # the text before <!--more-->, for the summary when there is no excerpt
    notes: list[str] = field(default_factory=list)  # what the writer should know (unknown shortcodes …)
    images: list[str] = field(default_factory=list)  # image URLs as found (before rewriting)
    links: list[str] = field(default_factory=list)  # link targets as found (a full-size image …)


_ESCAPE_CHARS = re.compile(r"([\\`*_\[\]>+])")
_LINE_SYNTAX = re.compile(r"(^|\n)([ \t]*)(-+(?=\s|$)|#{1,6}(?=\s|$)|\d{1,9}(?=[.)](?:\s|$)))")


class _Converter(MarkdownConverter):
    """markdownify with our choices: ATX headings, "-" bullets, and text escaped the way
    Python-Markdown reads escapes (markdownify's own `escape_misc` also escapes `&`, `=` and `|`,
    which Python-Markdown would show with their backslash)."""

    def __init__(self):
        super().__init__(heading_style="ATX", bullets="-", escape_misc=False, escape_asterisks=False,
                         escape_underscores=False, strip=["span", "font"], code_language="")

    def escape(self, text, parent_tags):
        if not text:
            return ""
        text = _ESCAPE_CHARS.sub(r"\\\1", text).replace("<", "&lt;")
        return _LINE_SYNTAX.sub(lambda m: m.group(1) + m.group(2) + (
            m.group(3) + "\\" if m.group(3)[0].isdigit() else "\\" + m.group(3)), text)


_CONVERTER = _Converter()


def wpautop(text: str) -> str:
    """WordPress's paragraphs: blank lines separate <p>s, single line breaks become <br />; blocks
    that start with a block-level tag and <pre> contents are left alone (simplified from wp-includes)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    kept: list[str] = []

    def keep(match: re.Match) -> str:
        kept.append(match.group(0))
        return f"\ue010{len(kept) - 1}\ue011"

    text = _PRE.sub(keep, text)
    blocks = []
    for chunk in _PARAGRAPHS.split(text.strip()):
        chunk = chunk.strip()
        if not chunk:
            continue
        if _STARTS_BLOCK.match(chunk) or chunk.startswith("\ue010"):
            blocks.append(chunk)
        else:
            blocks.append("<p>" + chunk.replace("\n", "<br />\n") + "</p>")
    text = "\n\n".join(blocks)
    return re.sub("\ue010(\\d+)\ue011", lambda m: kept[int(m.group(1))], text)


def _attributes(text: str) -> dict[str, str]:
    return {m.group(1).lower(): next(g for g in m.groups()[1:] if g is not None) for m in _ATTRIBUTE.finditer(text)}


def expand_shortcodes(text: str, attachments: dict[str, str]) -> str:
    """The shortcodes WordPress ships, as the HTML it would show; `[[x]]` is WordPress's escape."""

    def expand(match: re.Match) -> str:
        opening, name, attrs, inner, closing = match.groups()
        if opening and closing:  # [[caption]] shows as [caption]
            return match.group(0)[1:-1]
        attrs, inner = _attributes(attrs or ""), (inner or "").strip()
        if name in ("caption", "wp_caption"):
            caption = attrs.get("caption", "")
            image = re.match(r"\s*((?:<a\b[^>]*>)?\s*<img\b[^>]*>\s*(?:</a>)?)(.*)", inner, re.DOTALL | re.I)
            if image:
                inner, caption = image.group(1), (image.group(2).strip() or caption)
            return f"<figure>{inner}<figcaption>{caption}</figcaption></figure>\n\n" if caption else \
                f"<figure>{inner}</figure>\n\n"
        if name == "gallery":
            ids = [i.strip() for i in attrs.get("ids", attrs.get("include", "")).split(",") if i.strip()]
            images = "".join(f'<img src="{escape(attachments[i])}" alt="">' for i in ids if i in attachments)
            return f'<figure class="gallery">{images}</figure>\n\n' if images else ""
        url = inner or attrs.get("src", "") or attrs.get("mp4", "") or attrs.get("mp3", "")
        return f'<p><a href="{escape(url)}">{escape(url)}</a></p>\n\n' if url.startswith(("http://", "https://")) \
            else ""

    return _SHORTCODE.sub(expand, text)


def _is_nested_list(node: Tag) -> bool:
    return node.name in ("ul", "ol") and node.find(("ul", "ol")) is not None


def _keep_as_html(node: Tag) -> bool:
    return node.name in _KEEP_AS_HTML or _is_nested_list(node) or \
        (node.name == "p" and node.find(("table", "figure")) is not None)


def _to_markdown(soup: BeautifulSoup) -> str:
    parts = []
    for node in list(soup.contents):
        if isinstance(node, NavigableString):
            text = str(node).strip()
            if text and not text.startswith("<!--"):
                parts.append(_CONVERTER.convert(escape(text)).strip())
            continue
        if not isinstance(node, Tag):
            continue
        if _keep_as_html(node):
            parts.append(str(node))
        else:
            converted = _CONVERTER.convert(str(node)).strip()
            if converted:
                parts.append(converted)
    return "\n\n".join(parts)


_SAFE_SCHEMES = ("http", "https", "mailto")
_SCHEME = re.compile(r"^\s*([a-zA-Z][a-zA-Z0-9+.-]*):")


def _defuse_links(soup: BeautifulSoup) -> None:
    """A link to javascript:, data: … keeps its text and loses its target (the sanitiser would drop
    the target anyway; done here, the Markdown holds no half link)."""
    for link in soup.find_all("a"):
        scheme = _SCHEME.match("".join(ch for ch in link.get("href", "") if ch.isprintable()))
        if scheme and scheme.group(1).lower() not in _SAFE_SCHEMES:
            link.unwrap()


def _rewrite_media(soup: BeautifulSoup, media: Callable[[str], str | None], images: list[str],
                   links: list[str]) -> None:
    for image in soup.find_all("img"):
        src = image.get("src", "")
        images.append(src)
        new = media(src)
        if new:
            image["src"] = new
        for attribute in ("srcset", "sizes", "class", "loading", "decoding", "style"):
            image.attrs.pop(attribute, None)
    for link in soup.find_all("a"):
        href = link.get("href", "")
        links.append(href)
        new = media(href) if href else None
        if new:
            link["href"] = new


def post_to_markdown(html: str, *, attachments: dict[str, str] | None = None,
                     media: Callable[[str], str | None] = lambda url: None) -> Converted:
    """A post's or page's `content:encoded` as Markdown (with HTML blocks where Markdown would lose structure)."""
    attachments = attachments or {}
    block_editor = "<!-- wp:" in html
    text = _BLOCK_COMMENT.sub("", html)
    text = _NEXTPAGE.sub("<hr />", text)
    teaser = ""
    more = _MORE.search(text)
    if more:
        teaser, text = text[:more.start()], text[:more.start()] + text[more.end():]
    text = expand_shortcodes(text, attachments)
    notes = sorted({f"shortcode [{name}] left as text" for name in _ANY_SHORTCODE.findall(text)})
    if not block_editor:
        text = wpautop(text)
    soup = BeautifulSoup(text, "html.parser")
    _defuse_links(soup)
    images: list[str] = []
    links: list[str] = []
    _rewrite_media(soup, media, images, links)
    converted = Converted(_to_markdown(soup), notes=notes, images=images, links=links)
    if teaser.strip():
        converted.teaser = BeautifulSoup(wpautop(expand_shortcodes(teaser, attachments)), "html.parser").get_text(
            " ", strip=True)
    return converted


def comment_to_markdown(html: str) -> str:
    """A comment's text (plain text with line breaks and a few tags, as WordPress keeps it) as Markdown."""
    text = wpautop(html)
    if "<" not in html and "&" not in html:  # the common case: plain text, no parser needed
        return "\n\n".join(_escape_plain(p[3:-4]) for p in text.split("\n\n"))
    soup = BeautifulSoup(text, "html.parser")
    for image in soup.find_all("img"):  # comments show no images: a link to it instead
        link = soup.new_tag("a", href=image.get("src", ""))
        link.string = image.get("alt") or image.get("src", "")
        image.replace_with(link)
    _defuse_links(soup)
    return _to_markdown(soup)


def _escape_plain(paragraph: str) -> str:
    return "  \n".join(_CONVERTER.escape(line.removesuffix("<br />"), None) for line in paragraph.split("\n"))


def plain(html: str) -> str:
    """The text of a fragment (an excerpt, a pingback), without markup."""
    return " ".join(BeautifulSoup(html or "", "html.parser").get_text(" ").split())


def original_upload(url: str) -> str:
    """`…/2019/05/bild-300x200.jpg` → `…/2019/05/bild.jpg`: WordPress's resized copies name their original."""
    return _WP_SIZE.sub("", url)
