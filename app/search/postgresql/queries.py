"""tsqueries from the cleaned words, restrictions, and pages checked against the database.

No query syntax reaches PostgreSQL: the words `text.parse_query` found are bound parameters of
`plainto_tsquery` (a word) or `phraseto_tsquery` (a "phrase"), folded as the documents were,
combined with `&&`; PostgreSQL hands back each language's tsquery as text, which is bound again
(its own canonical output) in the search. Stop words are recognised before folding, as the
Whoosh analyzers do ("für" is one, and so is "in"): a word that is one in a language is left out
of that language's query.
"""
from dataclasses import dataclass, field

from sqlalchemy import text

from app.search.postgresql.schema import CONFIGS, LANGS, lang_of, live_tables_exist, table
from app.search.text import fold

_EMPTY = "CAST('' AS tsquery)"
_SPELT_OUT = (("ae", "ä"), ("oe", "ö"), ("ue", "ü"))


@dataclass
class Query:
    """Per language: the tsquery text documents must match, and the one that marks words in snippets."""

    match: dict[str, str] = field(default_factory=dict)  # lang → tsquery text (languages with terms only)
    marks: dict[str, str] = field(default_factory=dict)
    ready: bool = True  # the live tables exist

    @property
    def empty(self) -> bool:
        return not self.match


def respelt(word: str) -> str:
    """"stoerung" → "störung": the documents' own words are not folded for snippets."""
    for spelt, umlaut in _SPELT_OUT:
        word = word.replace(spelt, umlaut)
    return word


def build(conn, items: list[list[str]]) -> Query:
    """Both languages' tsqueries for these words and phrases (one statement), and whether the tables exist."""
    params, columns = {}, []
    for n, words in enumerate(items):
        params[f"f{n}"] = fold(" ".join(words).lower())
        for i, word in enumerate(words):
            params[f"r{n}_{i}"] = word.lower()
            for k, variant in enumerate(dict.fromkeys([word.lower(), fold(word.lower()), respelt(word.lower())])):
                params[f"v{n}_{i}_{k}"] = variant
    for lang in LANGS:
        cfg = CONFIGS[lang]  # a constant: the configuration's name is not a parameter of the functions below
        match, marks = [], []
        for n, words in enumerate(items):
            if len(words) > 1:
                # Stop words inside a phrase keep their place, so "Störung in X" needs the words in order.
                match.append(f"phraseto_tsquery('{cfg}', :f{n})")
            else:
                match.append(f"CASE WHEN numnode(plainto_tsquery('{cfg}', :r{n}_0)) = 0 THEN {_EMPTY} "
                             f"ELSE plainto_tsquery('{cfg}', :f{n}) END")
            for i, _word in enumerate(words):
                variants = " || ".join(f"plainto_tsquery('{cfg}', :{key})" for key in params
                                       if key.startswith(f"v{n}_{i}_"))
                marks.append(f"CASE WHEN numnode(plainto_tsquery('{cfg}', :r{n}_{i})) = 0 THEN {_EMPTY} "
                             f"ELSE {variants} END")
        columns.append(" && ".join(match) if match else _EMPTY)
        columns.append(" || ".join(marks) if marks else _EMPTY)
    sql = ", ".join(f"CAST({c} AS text)" for c in columns)
    row = conn.execute(text(f"SELECT {sql}"), params).one()
    query = Query(ready=live_tables_exist(conn))
    for n, lang in enumerate(LANGS):
        if row[2 * n]:
            query.match[lang], query.marks[lang] = row[2 * n], row[2 * n + 1]
    return query


def matching(query: Query) -> tuple[str, dict]:
    """SQL condition: the row's own language's query matches it (either language may)."""
    parts, params = [], {}
    for lang, tsquery in query.match.items():
        parts.append(f"(lang = :lang_{lang} AND tsv @@ CAST(:q_{lang} AS tsquery))")
        params[f"lang_{lang}"], params[f"q_{lang}"] = lang, tsquery
    return "(" + " OR ".join(parts) + ")", params


def rank(query: Query, prefer: str | None) -> str:
    """SQL: ts_rank with the row's language's query (title A above body B above names C), the
    reader's language a little higher. No length normalisation: long posts are not penalised."""
    cases = " ".join(f"WHEN :lang_{lang} THEN CAST(:q_{lang} AS tsquery)" for lang in query.match)
    boost = "CASE WHEN lang = :prefer THEN 1.2 ELSE 1.0 END" if prefer else "1.0"
    return f"ts_rank(tsv, CASE lang {cases} END) * {boost}"


def ranked(conn, name: str, query: Query, where: list[str], params: dict, limit: int, *, by_date: bool,
           prefer: str | None = None) -> tuple[list[tuple[str, str]], int]:
    """(doc_id, lang) of the best `limit` matching rows of table `name`, and how many match in all."""
    condition, match_params = matching(query)
    order = "date DESC, doc_id DESC" if by_date else f"{rank(query, prefer)} DESC, date DESC, doc_id"
    sql = (f"SELECT doc_id, lang, count(*) OVER () FROM {table(name)} WHERE {' AND '.join([condition, *where])} "
           f"ORDER BY {order} LIMIT :limit")
    rows = conn.execute(text(sql), {**params, **match_params, "prefer": lang_of(prefer), "limit": limit}).all()
    return [(doc_id, lang) for doc_id, lang, _n in rows], (rows[0][2] if rows else 0)
