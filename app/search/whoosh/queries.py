"""Whoosh queries from the cleaned words, restrictions, collecting, and pages checked against the database."""
from datetime import datetime
from itertools import pairwise

from whoosh import collectors
from whoosh.query import And, AndNot, Or, Require, Term

from app.search import documents
from app.search.whoosh.analysis import ANALYZERS, LANGS, PAIR


def text_query(items: list[list[str]], *, prefer: str | None = None, pairs: bool = True):
    """Every word (or phrase) must match, in the fields of one language; either language may match.

    A phrase matches as all of its adjacent word pairs (`pairs_xx`), or without pairs (the staff
    index) as all of its words. Returns the query (None if only stop words are left) and the
    analysed terms per language (for highlighting).
    """
    per_lang, terms = [], {}
    for lang in LANGS:
        clauses, used = [], set()
        for words in items:
            tokens = [token.text for token in ANALYZERS[lang](" ".join(words))]
            if not tokens:
                continue  # a stop word in this language
            used.update(tokens)
            if len(tokens) > 1 and pairs:
                clauses.extend(Term(f"pairs_{lang}", a + PAIR + b) for a, b in pairwise(tokens))
            else:
                clauses.extend(Term(f"all_{lang}", token) for token in tokens)
        if clauses:
            query = clauses[0] if len(clauses) == 1 else And(clauses)
            per_lang.append(query.with_boost(1.2) if lang == prefer else query)
            terms[lang] = used
    if not per_lang:
        return None, terms
    return (per_lang[0] if len(per_lang) == 1 else Or(per_lang)), terms


def reader_filter(kind: str, category: str | None):
    """The reader index's documents of this kind (posts, comments, official answers) and category."""
    parts = {"posts": [Term("kind", "post")], "comments": [Term("kind", "comment")],
             "official": [Term("official", "1")]}.get(kind, [])
    if category:
        parts.append(Term("category", category))
    return And(parts) if len(parts) > 1 else (parts[0] if parts else None)


def future(now: datetime):
    """Scheduled posts (and their comments) that are not due yet: the database says which."""
    ids = documents.scheduled_post_ids(now)
    return Or([Term("post_id", str(pid)) for pid in ids]) if ids else None


def restricted(query, *, require=None, exclude=None):
    """`query` limited to documents matching `require` and not `exclude`, scored by `query` alone."""
    if require is not None:
        query = Require(query, require)
    if exclude is not None:
        query = AndNot(query, exclude)
    return query


def collect(searcher, query, limit: int, *, by_date: bool = False, terms: bool = False):
    """Whoosh results for `query`, every match counted (see the package docstring for why by hand)."""
    if by_date:
        collector = collectors.SortingCollector("date", limit=limit, reverse=True)
    else:
        collector = collectors.TopCollector(limit, usequality=False, replace=0)
    if terms:
        collector = collectors.TermsCollector(collector)
    searcher.search_with_collector(query, collector)
    return collector.results()


def fetch(searcher, query, *, by_date: bool):
    """For `steps.checked_page`: the best `limit` hits as (doc_id, lang), and how many match in all."""
    def best(limit: int) -> tuple[list[tuple[str, str]], int]:
        found = collect(searcher, query, limit, by_date=by_date)
        return [(hit["doc_id"], hit["lang"]) for hit in found], len(found)  # len: every match, not `limit`
    return best
