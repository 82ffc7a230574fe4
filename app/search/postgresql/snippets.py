"""Snippets with ts_headline: escaped text with the query's words in <mark>, the only markup a snippet contains.

ts_headline returns the document's text as it is (a comment's `<script>` included) with its
selection markers around the matches. So the markers are two private-use characters, removed
from the text beforehand; the output is escaped first, and only then do the markers become
<mark> and </mark>. Nothing ts_headline returns is trusted as HTML. Its parser also drops what
looks like a tag from its output ("<b>" of a comment that spoke about HTML), so < and > go in as
two more private-use characters and come out as &lt; and &gt;.
"""
from markupsafe import Markup, escape
from sqlalchemy import text

from app.search.postgresql.queries import Query
from app.search.postgresql.schema import config_of, lang_of
from app.search.settings import setting
from app.search.text import shorten

START, STOP, LT, GT = "\ue000", "\ue001", "\ue002", "\ue003"
_MARKERS = str.maketrans("", "", START + STOP + LT + GT)
_BRACKETS = str.maketrans({"<": LT, ">": GT})
_OPTIONS = f"StartSel={START}, StopSel={STOP}"
_WHOLE = f"{_OPTIONS}, HighlightAll=true"
_PASSAGES = f"{_OPTIONS}, MaxWords=35, MinWords=15"  # the best passage (fragment mode cut words up)


def highlight_all(conn, wanted: list[tuple[str, str, bool, str]], query: Query, length: int = 240) -> list[Markup]:
    """For each (text, lang, whole, fallback): the best passages (or all of it) with marks, else the start.

    One statement for the whole page of hits.
    """
    scan = int(setting("SEARCH_SNIPPET_SCAN_CHARS"))
    jobs = []
    for n, (value, lang, whole, _fallback) in enumerate(wanted):
        tsquery = query.marks.get(lang_of(lang))
        if tsquery and value:
            body = (value if whole else value[:scan]).translate(_MARKERS).translate(_BRACKETS)
            jobs.append((n, config_of(lang), body, tsquery, _WHOLE if whole else _PASSAGES))
    marked: dict[int, str] = {}
    if jobs:
        rows = conn.execute(text(
            "SELECT n, ts_headline(CAST(cfg AS regconfig), body, CAST(q AS tsquery), opts) FROM unnest("
            "CAST(:n AS integer[]), CAST(:cfg AS text[]), CAST(:body AS text[]), CAST(:q AS text[]), "
            "CAST(:opts AS text[])) AS job(n, cfg, body, q, opts)"),
            {key: [job[i] for job in jobs] for i, key in enumerate(("n", "cfg", "body", "q", "opts"))})
        marked = {n: out for n, out in rows if out and START in out}
    out = []
    for n, (value, _lang, whole, fallback) in enumerate(wanted):
        if n in marked:
            out.append(_markup(marked[n], value, whole))
        else:
            out.append(Markup.escape(value if whole else shorten(fallback or value, length)))
    return out


def _markup(headline: str, value: str, whole: bool) -> Markup:
    """Escape, then turn the markers into <mark>; an ellipsis where the passage is cut from the text."""
    html = str(escape(headline)).replace(START, "<mark>").replace(STOP, "</mark>")
    html = html.replace(LT, "&lt;").replace(GT, "&gt;")
    if not whole:
        plain = headline.translate({ord(LT): "<", ord(GT): ">", ord(START): None, ord(STOP): None}).strip()
        if plain and not value.startswith(plain[:30]):
            html = "… " + html
        if plain and not value.rstrip().endswith(plain[-30:]):
            html += " …"
    return Markup(html)
