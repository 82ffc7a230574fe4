"""Searching: one page of what readers may find (`search`), and everything for the moderators (`staff_search`).

Readers never see hidden content: drafts, deleted posts and comments that are not approved are
never written to the reader index; scheduled posts are, but left out of every search until the
database says they are due; and hits are checked against the database (`Post.visible(now)`,
approved) before they are counted and shown (`steps.checked_page`).
"""
from datetime import UTC, datetime

from markupsafe import Markup
from whoosh.query import Term

from app.models import CommentStatus
from app.search import documents, steps
from app.search.results import Hit, Results
from app.search.steps import MAX_PAGE  # noqa: F401  (part of the backend's interface)
from app.search.whoosh import opening
from app.search.whoosh.queries import fetch, future, reader_filter, restricted, text_query
from app.search.whoosh.schema import READER, STAFF
from app.search.whoosh.snippets import highlight
from app.search.whoosh.suggestions import did_you_mean


def search(q: str | None, *, kind: str = "all", category: str | None = None, sort: str = "relevance",
           page: int = 1, per_page: int = 10, lang: str = "de", now: datetime | None = None) -> Results:
    """One page of what readers may find for `q` (posts and comments). Never raises.

    `kind`: all | posts | comments | official; `category`: a category slug; `sort`: relevance |
    date; `lang`: the reader's UI language (its documents rank slightly higher).
    """
    results = steps.reader_results(kind=kind, category=category, sort=sort, page=page, per_page=per_page)
    items, given = steps.prepare(q, results)
    if not given:
        return results
    query, terms = text_query(items, prefer=lang)
    now = now or datetime.now(UTC)
    try:
        searcher = opening.searcher(READER)
        if query is None:
            results.notices += ("no_terms",)
            return results
        restrict = {"require": reader_filter(results.kind, results.category), "exclude": future(now)}
        found = steps.checked_page(fetch(searcher, restricted(query, **restrict), by_date=results.sort == "date"),
                                   results, lambda doc_ids: documents.shown_doc_ids(doc_ids, now))
        results.hits = _reader_hits(found, terms, now)
        if results.total == 0:
            results.suggestion = did_you_mean(searcher, items, restrict)
    except Exception as exc:  # noqa: BLE001 – a broken index makes search unavailable, not the page a 500
        return steps.unavailable(results, exc)
    return results


def _reader_hits(found: list[tuple[str, str]], terms: dict, now: datetime) -> list[Hit]:
    """The page's hits with titles and snippets (checked once more: the rows are read again here)."""
    posts = documents.visible_posts([int(d[1:]) for d, _lang in found if d[0] == "p"], now)
    comments = documents.comments_by_id([int(d[1:]) for d, _lang in found if d[0] == "c"], now)
    hits = []
    for doc_id, lang in found:
        number = int(doc_id[1:])
        if doc_id[0] == "p" and number in posts:
            p = posts[number]
            hits.append(Hit(kind="post", id=p.id, post_id=p.id, post_slug=p.slug, title=p.title,
                            title_html=highlight(p.title, lang, terms, whole=True),
                            snippet=highlight(p.text, lang, terms, fallback=p.summary),
                            date=p.published_at, lang=p.lang, category=p.category))
        elif doc_id[0] == "c" and number in comments:
            hits.append(_comment_hit(comments[number], lang, terms))
    return hits


def _comment_hit(c: documents.CommentRow, lang: str, terms: dict) -> Hit:
    return Hit(kind="comment", id=c.id, post_id=c.post_id, post_slug=c.post_slug, title=c.post_title,
               title_html=Markup.escape(c.post_title), snippet=highlight(c.text, lang, terms),
               date=c.created_at, lang=c.lang, author_name=c.author_name, is_official=c.is_official,
               status=c.status)


def staff_search(q: str | None, page: int = 1, per_page: int = 20, *, sort: str = "relevance",
                 status: str | None = None) -> Results:
    """All comments, pending, spam, rejected and deleted included: for moderators only. Never raises."""
    results = steps.staff_results(sort=sort, page=page, per_page=per_page)
    items, given = steps.prepare(q, results)
    if not given:
        return results
    query, terms = text_query(items, pairs=False)
    try:
        searcher = opening.searcher(STAFF)
        if query is None:
            results.notices += ("no_terms",)
            return results
        wanted = Term("status", status) if status in set(CommentStatus) else None
        found = steps.checked_page(fetch(searcher, restricted(query, require=wanted), by_date=results.sort == "date"),
                                   results, lambda doc_ids: documents.shown_doc_ids(doc_ids, None))
        rows = documents.comments_by_id([int(d[1:]) for d, _lang in found], None)
        results.hits = [_comment_hit(rows[int(d[1:])], lang, terms) for d, lang in found if int(d[1:]) in rows]
    except Exception as exc:  # noqa: BLE001 – a broken index makes search unavailable, not the page a 500
        return steps.unavailable(results, exc)
    return results
