"""The steps of a search that are the same whatever engine answers it; both backends call these.

A query is cleaned and cut to its limits (`prepare`), a page of hits is checked against the
database before anything is counted (`checked_page`), similar answered questions are assembled
from ranked ids (`similar_from`), and an engine that fails is `Unavailable`, logged once a minute.
No engine is imported here.
"""
import logging
import time
from collections.abc import Callable
from datetime import datetime

from app.extensions import db
from app.search import documents
from app.search.results import KINDS, SORTS, Results, Similar
from app.search.settings import setting
from app.search.text import clean_query, parse_query, shorten

log = logging.getLogger("app.search")

MAX_PAGE = 500  # deeper pages are answered with the last one this allows
# Hits checked on any page: the total of a result this small is always exact, at the cost of
# reading 50 stored ids (well under a millisecond) and one or two id lookups in the database.
CHECK_AT_LEAST = 50


class Unavailable(Exception):
    """The index is missing, from an older schema version, or unreadable."""


def reader_results(*, kind: str, category: str | None, sort: str, page: int, per_page: int) -> Results:
    """An empty page of reader results with every argument brought within its bounds."""
    return Results(query="", kind=kind if kind in KINDS else "all", sort=sort if sort in SORTS else "relevance",
                   category=(category or "").strip()[:80] or None, per_page=min(max(int(per_page or 10), 1), 100),
                   page=min(max(int(page or 1), 1), MAX_PAGE))


def staff_results(*, sort: str, page: int, per_page: int) -> Results:
    return Results(query="", kind="comments", sort=sort if sort in SORTS else "relevance",
                   page=min(max(int(page or 1), 1), MAX_PAGE), per_page=min(max(int(per_page or 20), 1), 100))


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


def checked_page(fetch: Callable[[int], tuple[list[tuple[str, str]], int]], results: Results,
                 shown: Callable[[list[str]], set[str]]) -> list[tuple[str, str]]:
    """(doc_id, lang) of the page's hits that `shown` lets through; sets `results.total` and `page` to agree.

    `fetch(limit)` gives the engine's best `limit` hits as (doc_id, lang) and how many match in all.
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
        ranked, matched = fetch(limit)
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


def unavailable(results: Results, exc: Exception) -> Results:
    """`results` emptied and marked unavailable (the page says the index is being rebuilt); logged."""
    log_unavailable(exc)
    db.session.rollback()
    results.state, results.hits, results.total, results.page, results.suggestion = "unavailable", [], 0, 1, None
    return results


def similar_from(ranked: list[tuple[int, float]], now: datetime, limit: int) -> list[Similar]:
    """The first `limit` of the ranked (comment id, score) that readers may see and the team answered."""
    questions = documents.comments_by_id([cid for cid, _score in ranked], now)
    answers = documents.first_answers(list(questions))
    similar = []
    for cid, score in ranked:
        if cid in questions and cid in answers and len(similar) < limit:
            question, answer = questions[cid], answers[cid]
            similar.append(Similar(
                comment_id=cid, post_slug=question.post_slug, post_title=question.post_title,
                author_name=question.author_name, created_at=question.created_at,
                excerpt=shorten(question.text, 200), answer_id=answer.id, answer_author=answer.author_name,
                answer_excerpt=shorten(answer.text, 300), answer_body_md=answer.body_md, score=round(score, 3)))
    return similar


_last_logged: dict[str, float] = {}


def once_a_minute(what: str) -> bool:
    """True at most once a minute per process and topic: a missing index would log on every request."""
    now = time.monotonic()
    if now - _last_logged.get(what, -1e9) < 60:
        return False
    _last_logged[what] = now
    return True


def log_unavailable(exc: Exception) -> None:
    """Log a failed search (once a minute; with the traceback unless the index is simply missing)."""
    if once_a_minute("unavailable"):
        log.error("search unavailable: %s", exc, exc_info=not isinstance(exc, Unavailable))
