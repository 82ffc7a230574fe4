"""Snippets: escaped text with the query's words in <mark>, the only markup a snippet contains."""
from markupsafe import Markup, escape
from whoosh import highlight as whoosh_highlight

from app.search.settings import setting
from app.search.text import shorten
from app.search.whoosh.analysis import ANALYZERS, lang_of


class _MarkFormatter(whoosh_highlight.Formatter):
    """Escapes all text and wraps matches in <mark>."""

    def __init__(self, text_length: int):
        self.text_length = text_length

    def _text(self, text):
        return str(escape(text))

    def format_token(self, text, token, replace=False):
        return f"<mark>{escape(whoosh_highlight.get_text(text, token, replace))}</mark>"

    def format(self, fragments, replace=False):
        if not fragments:
            return ""
        out = " … ".join(self.format_fragment(f, replace=replace) for f in fragments)
        if fragments[0].startchar > 0:
            out = "… " + out
        if fragments[-1].endchar < self.text_length:
            out += " …"
        return out


def highlight(text: str, lang: str, terms: dict, *, fallback: str = "", whole: bool = False,
              length: int = 240) -> Markup:
    """Escaped text with the query's words marked: the best passages (or all of it), else the start."""
    lang = lang_of(lang)
    wanted = terms.get(lang)
    if wanted and text:
        scan = text if whole else text[:int(setting("SEARCH_SNIPPET_SCAN_CHARS"))]
        fragmenter = whoosh_highlight.WholeFragmenter() if whole else whoosh_highlight.ContextFragmenter(
            maxchars=length, surround=60)
        marked = whoosh_highlight.highlight(scan, wanted, ANALYZERS[lang], fragmenter, _MarkFormatter(len(text)),
                                            top=2, minscore=1)
        if marked:
            return Markup(marked)
    return Markup.escape(text if whole else shorten(fallback or text, length))
