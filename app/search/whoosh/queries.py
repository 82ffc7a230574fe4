"""Whoosh queries from the cleaned words, restrictions, collecting, and pages checked against the database."""
import logging
from collections.abc import Callable
from datetime import datetime
from itertools import pairwise

from whoosh import collectors
from whoosh.query import And, AndNot, Or, Require, Term

from app.search import documents
from app.search.results import Results
from app.search.settings import setting
from app.search.text import clean_query, parse_query
from app.search.whoosh.analysis import ANALYZERS, LANGS, PAIR

log = logging.getLogger(__name__)

# Hits checked on any page: the total of a result this small is always exact, at the cost of
# reading 50 stored ids (well under a millisecond) and one or two id lookups in the database.
CHECK_AT_LEAST = 50


def prepare(q: str | None, results: Results) -> tuple[list[list[str]], bool]:
    """The query's words and phrases (with notices on `results`); False when there is nothing to search."""
    text, shortened = clean_query(q, int(setting("SEARCH_MAX_QUERY_LENGTH")))
    results.query = text
    items, too_many = parse_query(text, int(setting("SEARCH_MAX_TERMS")))
    if shortened or too_many:
        results.notices += ("shortened",)
    if not text:
        results.state = "empty"
    return items, bool(text)


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


def checked_page(searcher, query, results: Results, shown: Callable[[list[str]], set[str]]) -> list[tuple[str, str]]:
    """(doc_id, lang) of the page's hits that `shown` lets through; sets `results.total` and `page` to agree.

    The index can hold documents the database no longer lets anyone see (an update that failed
    and waits in the queue, a change made without `refresh`). Counted first and dropped after,
    they made pages come up short and the total promise pages that were not there. So the best
    hits up to this page and one page beyond (at least `CHECK_AT_LEAST`) are checked (`shown`:
    ids only, a statement per 500) before anything is counted, more if too many fail; the total
    is every match in the index minus the hidden ones found. It is exact when all matches were
    checked (a result of up to 50, the last page); otherwise every page up to this one is full
    and the total is at most a few too high until a reader pages that far. A page beyond the end
    becomes the last.
    """
    want = results.page * results.per_page
    limit = max(want + results.per_page, CHECK_AT_LEAST)
    passed: dict[str, bool] = {}
    while True:
        found = collect(searcher, query, limit, by_date=results.sort == "date")
        matched = len(found)  # every match, not only the `limit` collected
        ranked = [(hit["doc_id"], hit["lang"]) for hit in found]
        unchecked = [doc_id for doc_id, _lang in ranked if doc_id not in passed]
        ok = shown(unchecked)
        passed.update((doc_id, doc_id in ok) for doc_id in unchecked)
        visible = [(doc_id, lang) for doc_id, lang in ranked if passed[doc_id]]
        if len(visible) >= want or len(ranked) >= matched:
            break
        limit *= 2  # many hidden ones among the best: look further (each round doubles, so few rounds)
    hidden = len(ranked) - len(visible)
    if hidden:
        log.info("search: %d indexed documents may not be shown (index behind the database); left out", hidden)
    results.total = matched - hidden
    results.page = min(results.page, results.pages)
    start = (results.page - 1) * results.per_page
    return visible[start:start + results.per_page]
