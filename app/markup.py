"""The one Markdown → safe HTML pipeline. The only module that imports markdown or bleach.

Python-Markdown renders; bleach keeps only what the context's allowlist names; every link that
leaves the site gets rel="nofollow noopener". Callers store the result: pages never render
Markdown per request.

Every render is bounded (see `markup_guard.py` and docs/ARCHITECTURE.md): a length limit per
context; inline syntax Python-Markdown would scan quadratically is defused first; the link
parser's scan stops at the link's own closing parenthesis; the number of elements is capped
before bleach (html5lib costs microseconds per tag); entities skip html5lib's slow path; the
linkifier's URL pattern cannot backtrack; and a time budget interrupts whatever is left. A
render that fails raises `RenderError` with a message for the writer, and its converter is
thrown away, so no later render inherits broken state.
"""
import bisect
import functools
import html
import logging
import re
import threading
from dataclasses import dataclass, field
from functools import partial

import bleach
import markdown
from bleach.linkifier import TLDS, LinkifyFilter
from flask_babel import lazy_gettext as _l
from markdown.extensions.attr_list import get_attrs_and_remainder
from markdown.extensions.codehilite import parse_hl_lines
from markdown.extensions.fenced_code import FencedBlockPreprocessor
from markdown.inlinepatterns import (
    BACKTICK_RE,
    IMAGE_LINK_RE,
    LINK_RE,
    BacktickInlineProcessor,
    ImageInlineProcessor,
    LinkInlineProcessor,
)
from markdown.treeprocessors import Treeprocessor
from markdown.util import AtomicString

from app import markup_guard, slugs

log = logging.getLogger(__name__)

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


@dataclass(frozen=True)
class Limits:
    """What one render may cost. Comments come from strangers: a fraction of a second at most."""

    max_length: int  # characters of Markdown
    max_marks: int  # inline syntax characters (* _ ` [ < & \\) outside code blocks: each costs a parser match
    max_tags: int  # HTML tags Markdown may produce (opening and closing count apart)
    seconds: float  # the time budget


LIMITS = {
    # Forms cap comments at COMMENT_MAX_LENGTH (10,000); staff answers and edits share the limit.
    # ~25 µs per tag in Markdown and bleach together: 2,000 tags stay under 100 ms; a long comment
    # with paragraphs, a list and links has a few hundred.
    "comment": Limits(max_length=20_000, max_marks=2_500, max_tags=2_000, seconds=0.5),
    # A 1 MB post of ordinary prose has ~21,000 tags and renders in about 1.4 s on one core.
    "post": Limits(max_length=1_000_000, max_marks=150_000, max_tags=60_000, seconds=2.0),
}


MAX_DEPTH = 24  # elements inside each other (a list in a quote in a list … is three or four)
# A line that opens more lists and quotes at once than MAX_DEPTH allows (possessive: no backtracking).
_DEEP_LINE = re.compile(r"^(?:[ \t]*+(?:[>*+-]|\d{1,9}[.)])[ \t]++){%d}" % (MAX_DEPTH + 1), re.MULTILINE)


class RenderError(ValueError):
    """The text could not be formatted within the limits; `message` says why, for its writer."""

    MESSAGES = {
        "too_long": _l("The text is too long to be formatted (at most %(limit)s characters)."),
        "too_much_formatting": _l("The text has too much formatting to be shown. Please simplify it "
                                  "(fewer lists, quotes, emphasis or links)."),
        "too_deep": _l("Lists or quotes are nested too deeply inside each other. Please simplify the text."),
        "too_slow": _l("The text is too complicated to be formatted in time. Please simplify its formatting."),
        "failed": _l("The text could not be formatted. Please check its formatting."),
    }

    DETAILS = {  # English, for logs and the command line
        "too_long": "longer than the limit", "too_much_formatting": "too much formatting",
        "too_deep": "nested too deeply", "too_slow": "took longer than its time budget", "failed": "renderer failed",
    }

    def __init__(self, reason: str, limit: int | None = None):
        self.reason = reason
        self.detail = self.DETAILS[reason] + (f" ({limit:,} characters)" if limit else "")
        self.message = self.MESSAGES[reason] if limit is None else _l(
            "The text is too long to be formatted (at most %(limit)s characters).", limit=limit)
        super().__init__(reason)


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


@dataclass(frozen=True)
class Rendered:
    """The stored result of rendering a post or page."""

    html: str
    toc: list = field(default_factory=list)  # [{"level": 2, "id": "...", "title": "..."}]
    words: int = 0


def render_post(text: str, internal_hosts: tuple[str, ...] = ()) -> Rendered:
    """Render a post or page body: rich allowlist, heading anchors, table of contents."""
    return _render("post", text, internal_hosts)


def render_comment(text: str, internal_hosts: tuple[str, ...] = ()) -> str:
    """Render a reader's comment: raw HTML shows as typed text, only the small allowlist survives."""
    return _render("comment", text, internal_hosts).html


def plain_text(fragment: str) -> str:
    """The text of an HTML fragment this module made, without tags (summaries, word counts, search)."""
    text = _TAG.sub(lambda m: "" if m.group(1).lower() in _INLINE else " ", fragment or "")
    return " ".join(html.unescape(text).split())


def summarize(fragment: str, limit: int = 220) -> str:
    """The first sentence(s) of a fragment, cut at a word boundary."""
    text = plain_text(fragment)
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",;:.-–") + " …"


_INLINE_SYNTAX = re.compile(r"([\\`*_\[\]<>!~|])")
_LINE_START_SYNTAX = re.compile(r"^([#\-+>]|\d+(?=[.)]))")
_DOMAIN_DOT = re.compile(r"\.(?=\w)")
_WORD_JOINER = "\u2060"


def escape_markdown(text: str) -> str:
    """Plain text (a reader's name, a title) to put into Markdown so that it shows as typed: no link,
    no emphasis, no list, and no bare address the linkifier would turn into a link (an invisible
    word joiner after each dot inside a word breaks "evil.example" for it, not for readers)."""
    text = " ".join((text or "").split())
    text = _INLINE_SYNTAX.sub(r"\\\1", text)
    text = _LINE_START_SYNTAX.sub(lambda m: m.group(1) + "\\" if m.group(1)[0].isdigit() else "\\" + m.group(1),
                                  text, count=1)
    return _DOMAIN_DOT.sub("." + _WORD_JOINER, text)


def external_links(fragment: str) -> list[str]:
    """The targets of the links in a rendered fragment that leave the site (those carry rel="nofollow …")."""
    targets = []
    for anchor in _ANCHOR.finditer(fragment or ""):
        attributes = anchor.group(1)
        if 'rel="nofollow' in attributes:
            href = _HREF.search(attributes)
            targets.append(html.unescape(href.group(1)) if href else "")
    return targets


# --- internals --------------------------------------------------------------------------------

_TAG = re.compile(r"""<\s*/?\s*([a-zA-Z0-9]*)(?:[^>"']|"[^"]*"|'[^']*')*>""")
_INLINE = {"a", "em", "strong", "b", "i", "code", "del", "ins", "sup", "sub", "mark", "kbd", "abbr", "span", ""}
_ANCHOR = re.compile(r"<a\b([^>]*)>")
_HREF = re.compile(r'\bhref="([^"]*)"')
# Control characters no one types; STX/ETX are Python-Markdown's own placeholder markers, and
# U+E000–U+E003 are ours (see _sanitise): none may come from the writer.
_UNTYPABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ue000-\ue003]")


def _render(context: str, text: str, internal_hosts: tuple[str, ...]) -> Rendered:
    limits = LIMITS[context]
    text = _UNTYPABLE.sub("", (text or "").replace("\r\n", "\n").replace("\r", "\n"))
    if len(text) > limits.max_length:
        raise RenderError("too_long", limit=limits.max_length)
    if _DEEP_LINE.search(text):  # "+ + + + …": refused before Python-Markdown recurses into it
        raise RenderError("too_deep")
    try:
        return markup_guard.within(limits.seconds, _convert, context, text, internal_hosts, limits)
    except RenderError:
        _forget()
        raise
    except markup_guard.Overtime:
        _forget()
        log.warning("markup: a %s of %d characters ran past its %.1f s budget", context, len(text), limits.seconds)
        raise RenderError("too_slow") from None
    except RecursionError:
        _forget()
        raise RenderError("too_deep") from None
    except Exception:
        _forget()
        log.exception("markup: a %s of %d characters could not be rendered", context, len(text))
        raise RenderError("failed") from None


def _convert(context: str, text: str, internal_hosts: tuple[str, ...], limits: Limits) -> Rendered:
    md = _markdown(context)
    raw = md.convert(text)
    if raw.count("<") > limits.max_tags:
        raise RenderError("too_much_formatting")
    if context == "comment":
        return Rendered(html=_sanitise(raw, context, internal_hosts))
    toc = [
        {"level": t["level"], "id": t["id"], "title": html.unescape(t["name"])}
        for t in _flatten(md.toc_tokens)
        if t["level"] in (2, 3)
    ]
    safe = _sanitise(_drop_dead_content(raw), context, internal_hosts)
    return Rendered(html=safe, toc=toc, words=len(plain_text(safe).split()))


# Markdown and bleach objects are not thread-safe but costly to build: one set per thread, thrown
# away after any failure (a converter interrupted half-way keeps broken state).
_local = threading.local()


def _forget() -> None:
    _local.__dict__.clear()


def _markdown(context: str) -> markdown.Markdown:
    cache = _local.__dict__.setdefault("markdown", {})
    md = cache.get(context)
    if md is None:
        md = cache[context] = _build_markdown(context)
    md.reset()
    return md


def _build_markdown(context: str) -> markdown.Markdown:
    if context == "post":
        md = markdown.Markdown(
            # No "abbr": its definition pattern is quadratic in C, where no budget can stop it, and
            # WordPress never writes "*[HTML]: …" (an <abbr title> in the text still works).
            extensions=["fenced_code", "tables", "sane_lists", "toc", "def_list"],
            extension_configs={
                # Anchors transliterate as URLs do: "Wie groß ist die Wohnung?" → #wie-gross-ist-die-wohnung
                "toc": {"permalink": True, "permalink_title": "", "toc_depth": "2-6",
                        "slugify": lambda value, separator: slugs.slugify(value) or "abschnitt"},
                "tables": {"use_align_attribute": True},
            },
            output_format="html",
        )
        _quick_table_test(md.parser.blockprocessors["table"])
    else:
        # nl2br: a reader's line break is a line break ("Viele Grüße⏎Petra" stays on two lines).
        md = markdown.Markdown(extensions=["fenced_code", "sane_lists", "nl2br"], output_format="html")
        # A reader's "<b>" is text they typed, not markup; headings and images are not for comments.
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")
        md.inlinePatterns.deregister("image_link")
        md.inlinePatterns.deregister("image_reference")
        md.inlinePatterns.deregister("short_image_ref")
        md.parser.blockprocessors.deregister("hashheader")
        md.parser.blockprocessors.deregister("setextheader")
    fences = md.preprocessors["fenced_code_block"]
    md.preprocessors.register(_Fences(md, fences.config), "fenced_code_block", 25)
    md.treeprocessors.register(_Defuse(md, context), "defuse", 25)  # after the blocks, before inline (20)
    md.inlinePatterns.register(_CodeSpans(BACKTICK_RE), "backtick", 190)
    md.inlinePatterns.register(_BoundedLink(LINK_RE, md), "link", 160)
    if "image_link" in md.inlinePatterns:
        md.inlinePatterns.register(_BoundedImage(IMAGE_LINK_RE, md), "image_link", 150)
    return md


class _Fences(FencedBlockPreprocessor):
    """Fenced code blocks found line by line. Python-Markdown's one regular expression for them is
    cubic in C on unclosed fences with `hl_lines=` ('```hl_lines="' * 800 took 24 s holding the GIL,
    so nothing - not even the watchdog - ran meanwhile)."""

    OPENING = re.compile(r"""(?P<fence>~{3,}|`{3,})[ ]*(?:\{(?P<attrs>[^\n]*)\}|\.?(?P<lang>[\w#.+-]*)[ ]*"""
                         r"""(?:hl_lines=(?P<quot>["'])(?P<hl_lines>[^"'\n]*)(?P=quot)[ ]*)?)""")

    def run(self, lines: list[str]) -> list[str]:
        closers: dict[str, list[int]] = {}  # a fence as its own line → where it stands
        for number, line in enumerate(lines):
            if line[:1] in "`~":
                closers.setdefault(line.rstrip(" "), []).append(number)
        out, i = [], 0
        while i < len(lines):
            m = self.OPENING.fullmatch(lines[i]) if lines[i][:1] in "`~" else None
            candidates = closers.get(m.group("fence"), ()) if m else ()
            k = bisect.bisect_right(candidates, i)
            if not m or k == len(candidates):
                out.append(lines[i])
                i += 1
                continue
            end = candidates[k]
            block = self._block(m, "".join(line + "\n" for line in lines[i + 1:end]))
            if block is None:
                out.append(lines[i])
                i += 1
                continue
            out += ["", self.md.htmlStash.store(block), ""]
            i = end + 1
        return out

    def _block(self, m: re.Match, code: str) -> str | None:
        """The <pre><code> of one block, as Python-Markdown writes it (None: malformed {attrs})."""
        lang, classes = m.group("lang"), []
        if m.group("attrs"):
            attrs, remainder = get_attrs_and_remainder(m.group("attrs"))
            if remainder:
                return None
            _id, classes, _config = self.handle_attrs(attrs)
            lang = classes.pop(0) if classes else None
        elif m.group("hl_lines"):
            parse_hl_lines(m.group("hl_lines"))  # accepted and ignored, as without highlighting
        lang_attr = f' class="{self.config.get("lang_prefix", "language-")}{html.escape(lang)}"' if lang else ""
        return f"<pre><code{lang_attr}>{self._escape(code)}</code></pre>"


def _quick_table_test(tables) -> None:
    """A block whose first line has no pipe is no table. The tables extension splits and strips the
    whole block to find out, for every block the parser tries - and a block of headings or list
    items is tried again after each line it gives up: quadratic in the lines of a block."""
    full_test = tables.test

    def test(parent, block: str) -> bool:
        first_line_end = block.find("\n")
        return block.find("|", 0, first_line_end if first_line_end >= 0 else len(block)) >= 0 and \
            full_test(parent, block)

    tables.test = test


class _Defuse(Treeprocessor):
    """After the blocks, before inline parsing: refuse nesting deeper than people write (html5lib
    pays for depth on every element), and defuse the brackets of every text the inline parser will
    read that cannot pair (markup_guard.defuse_inline): Python-Markdown would scan to the end of the
    text for each."""

    def __init__(self, md, context: str):
        super().__init__(md)
        self.context = context

    def run(self, root):
        literal = self.md.htmlStash.store  # a placeholder the inline parser skips, restored at the end
        max_marks = LIMITS[self.context].max_marks
        marks = 0
        stack = [(root, 0)]
        while stack:
            element, depth = stack.pop()
            if depth > MAX_DEPTH:
                raise RenderError("too_deep")
            for attribute in ("text", "tail"):
                text = getattr(element, attribute)
                if text and not isinstance(text, AtomicString):
                    marks += sum(map(text.count, _MARKS))
                    setattr(element, attribute, markup_guard.defuse_inline(text, literal))
            if marks > max_marks:  # ~15 µs per inline match in Python-Markdown: refuse before paying
                raise RenderError("too_much_formatting")
            stack.extend((child, depth + 1) for child in element)


class _CodeSpans(BacktickInlineProcessor):
    """A code span ends at the next run of exactly as many backticks, found by a regex in C; with no
    such run the backticks are literal text. (Python-Markdown walks the rest of the text in Python
    for every unpaired run, then falls back to pairing with a shorter one.)"""

    def find_code_spans(self, start: int, text: str) -> tuple[int, int | None]:
        ticks = _run_length(text, start)
        closer = _closing_ticks(ticks).search(text, start + ticks)
        if closer is None:
            return start + ticks, None
        return start + ticks, closer.start()


def _run_length(text: str, start: int) -> int:
    end = start
    while end < len(text) and text[end] == "`":
        end += 1
    return end - start


@functools.lru_cache(maxsize=64)
def _closing_ticks(ticks: int) -> re.Pattern:
    return re.compile(f"(?<!`)`{{{ticks}}}(?!`)")


_MARKS = ("*", "_", "`", "[", "<", "&", "\\")
_QUOTE_THEN_PAREN = re.compile(r"""["']\s*\)""")
_ANGLE_TARGET = re.compile(r"\s*<[^<>\n]{0,%d}>" % markup_guard.MAX_LINK_TARGET)
_PARENS = re.compile(r"[()]")
QUOTE_WINDOW = 200  # how far past the closing parenthesis a quoted title may still end


class _BoundedTarget:
    """Python-Markdown reads `(target "title")` to the end of the text when a quote does not close.
    Here it reads at most to the target's own closing parenthesis (or a quoted title just past it)."""

    def getLink(self, data: str, index: int):
        if not data.startswith("(", index):
            return "", None, index, False
        angle = _ANGLE_TARGET.match(data, index + 1)
        if angle:  # (<target with any parentheses> "title"): Python-Markdown's own regex reads it
            return super().getLink(data[:angle.end() + QUOTE_WINDOW], index)
        depth, close = 0, None
        for m in _PARENS.finditer(data, index, index + 6 * markup_guard.MAX_LINK_TARGET):
            depth += 1 if m.group() == "(" else -1
            if depth == 0:
                close = m.start()
                break
        if close is None:
            return "", None, index, False
        limit = close + 1
        if "'" in data[index:close] or '"' in data[index:close]:
            title_end = _QUOTE_THEN_PAREN.search(data, limit, limit + QUOTE_WINDOW)
            limit = title_end.end() if title_end else limit
        return super().getLink(data[:limit], index)


class _BoundedLink(_BoundedTarget, LinkInlineProcessor):
    pass


class _BoundedImage(_BoundedTarget, ImageInlineProcessor):
    pass


# Elements whose *content* is meaningless once the tag is gone (bleach strips tags, keeps text).
_DEAD = ("script", "style", "iframe", "object", "embed", "template", "noscript", "textarea", "title", "svg", "math")
_DEAD_TAG = re.compile(r"<(/?)(" + "|".join(_DEAD) + r")\b[^<>]*>", re.IGNORECASE)


def _drop_dead_content(raw: str) -> str:
    """Remove such elements with their content: each opening tag up to the next closing tag of its
    kind, in one pass (a lazy `.*?` regex would rescan the rest of the text for every unclosed one)."""
    tags = list(_DEAD_TAG.finditer(raw))
    if not tags:
        return raw
    next_close: list[int | None] = [None] * len(tags)
    upcoming: dict[str, int] = {}
    for k in range(len(tags) - 1, -1, -1):
        name = tags[k].group(2).lower()
        next_close[k] = upcoming.get(name)
        if tags[k].group(1):
            upcoming[name] = k
    out, last, k = [], 0, 0
    while k < len(tags):
        tag, partner = tags[k], next_close[k]
        if not tag.group(1) and partner is not None:
            out.append(raw[last:tag.start()])
            last = tags[partner].end()
            k = partner + 1
        else:
            k += 1
    out.append(raw[last:])
    return "".join(out)


# html5lib tokenizes every character reference on a slow path (~8 µs each): "&" * 10,000 took
# 80 ms. The four escapes Markdown writes become private-use characters while bleach works (the
# writer's own are removed by _UNTYPABLE) and are written back after; each stands for text,
# never markup, so nothing can turn into a tag on the way back.
_ESCAPES = {"&amp;": "\ue000", "&lt;": "\ue001", "&gt;": "\ue002", "&quot;": "\ue003"}
_ESCAPE = re.compile("|".join(map(re.escape, _ESCAPES)))
_BACK = {v: k for k, v in _ESCAPES.items()}
_PLACEHOLDER = re.compile("[\ue000-\ue003]")


def _sanitise(raw: str, context: str, internal_hosts: tuple[str, ...]) -> str:
    hidden = _ESCAPE.sub(lambda m: _ESCAPES[m.group()], raw)
    clean = _cleaner(context, internal_hosts).clean(hidden)
    return _PLACEHOLDER.sub(lambda m: _BACK[m.group()], clean)


# bleach's own URL pattern starts with `\(*` and retries every start inside "a-b-c…": quadratic
# in C, where no time budget can interrupt it ("(" * 10,000 took 1.4 s). The same pattern
# without those: a link starts only where a word starts (not after @ . - / or \\).
_URL = re.compile(
    r"""(?<![\w@.\-/\\])
    (?:(?:{protocols}):/{{0,3}}(?:(?:\w+:)?\w+@)?)?
    (?:[\w-]+\.)+(?:{tlds})(?::[0-9]+)?(?!\.\w)\b
    (?:[/?][^\s{{}}|\\^`<>"\ue000-\ue003]*)?
    """.format(protocols="|".join(sorted(PROTOCOLS)), tlds="|".join(sorted(TLDS, key=len, reverse=True))),
    re.IGNORECASE | re.VERBOSE | re.UNICODE,
)


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
            url_re=_URL,
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
    if leaves_site(attrs.get((None, "href"), ""), internal_hosts):
        attrs[(None, "rel")] = rel
    else:
        attrs.pop((None, "rel"), None)
    return attrs


_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*):(.*)$", re.DOTALL)
_TAB_OR_NEWLINE = re.compile("[\t\n\r]")
_C0_AND_SPACE = "".join(map(chr, range(0x21)))  # what browsers strip from both ends of a URL


def leaves_site(href: str, internal_hosts=()) -> bool:
    """Whether a browser following `href` on this site would go to another host.

    Read as browsers read it (the WHATWG URL parser), not as urlsplit does: character references
    decoded, tabs and newlines dropped, backslashes are slashes, any run of slashes before a host
    ("//", "///", "/\\") starts a host, and "http:evil.example" names one too. Anything with a
    host that is not ours counts, so does a scheme we do not know (mailto: and the like)."""
    url = _TAB_OR_NEWLINE.sub("", html.unescape(href or "")).strip(_C0_AND_SPACE).replace("\\", "/")
    scheme = _SCHEME.match(url)
    if scheme:
        if scheme.group(1).lower() not in ("http", "https"):
            return scheme.group(1).lower() != "mailto"
        rest = scheme.group(2)
    elif url.startswith("//"):
        rest = url
    else:
        return False  # a path, a query or a fragment on this site
    authority = re.split(r"[/?#]", rest.lstrip("/"), maxsplit=1)[0]
    host = authority.rpartition("@")[2].split(":")[0].strip("[]").lower().rstrip(".")
    return bool(host) and host not in internal_hosts


def _flatten(tokens: list) -> list:
    out = []
    for token in tokens:
        out.append(token)
        out.extend(_flatten(token.get("children", [])))
    return out
