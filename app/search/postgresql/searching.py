"""Searching: one page of what readers may find (`search`), and every comment for the moderators (`staff_search`).

Readers never see hidden content: only visible or scheduled posts and approved comments are
written to the reader table (the staff table, which holds every comment, is never read here);
scheduled posts are left out until the database says they are due; and hits are checked
against the database before they are counted and shown (`steps.checked_page`).
"""
from datetime import UTC, datetime

from markupsafe import Markup
from sqlalchemy import text

from app.extensions import db
from app.models import CommentStatus
from app.search import documents, steps
from app.search.postgresql.queries import Query, build, matching, ranked
from app.search.postgresql.schema import READER, STAFF, table
from app.search.postgresql.snippets import highlight_all
from app.search.postgresql.suggestions import did_you_mean
from app.search.results import Hit, Results
from app.search.steps import MAX_PAGE  # noqa: F401  (part of the backend's interface)


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
    now = now or datetime.now(UTC)
    try:
        conn = db.session.connection()
        query = _ready(build(conn, items))
        if query.empty:
            results.notices += ("no_terms",)
            return results
        where, params = reader_filter(results.kind, results.category, now)
        by_date = results.sort == "date"
        found = steps.checked_page(
            lambda limit: ranked(conn, READER, query, where, params, limit, by_date=by_date, prefer=lang),
            results, lambda doc_ids: documents.shown_doc_ids(doc_ids, now))
        results.hits = _reader_hits(conn, found, query, now)
        if results.total == 0:
            results.suggestion = did_you_mean(conn, items,
                                              lambda corrected: _finds(conn, corrected, where, params, now))
    except Exception as exc:  # noqa: BLE001 – a broken index makes search unavailable, not the page a 500
        return steps.unavailable(results, exc)
    return results


def _ready(query: Query) -> Query:
    if not query.ready:
        raise steps.Unavailable("no search tables (run: flask --app wsgi search rebuild)")
    return query


def reader_filter(kind: str, category: str | None, now: datetime) -> tuple[list[str], dict]:
    """SQL conditions on the reader table: this kind and category, no scheduled post before it is due."""
    where = {"posts": ["kind = 'post'"], "comments": ["kind = 'comment'"], "official": ["official"]}.get(kind, [])
    params: dict = {"future": documents.scheduled_post_ids(now)}
    where = [*where, "NOT (post_id = ANY(CAST(:future AS integer[])))"]
    if category:
        where.append("category = :category")
        params["category"] = category
    return where, params


def _finds(conn, items: list[list[str]], where: list[str], params: dict, now: datetime) -> bool:
    """Whether these (corrected) words find something a reader may see, with the same restrictions.

    A few matching ids are checked against the database too, so a stale row (a comment taken
    back whose update is still queued) never turns into a suggestion that gives away its words.
    """
    query = build(conn, items)
    if query.empty:
        return False
    condition, match_params = matching(query)
    sql = f"SELECT doc_id FROM {table(READER)} WHERE {' AND '.join([condition, *where])} LIMIT 20"
    doc_ids = list(conn.execute(text(sql), {**params, **match_params}).scalars())
    return bool(doc_ids) and bool(documents.shown_doc_ids(doc_ids, now))


def _reader_hits(conn, found: list[tuple[str, str]], query: Query, now: datetime) -> list[Hit]:
    """The page's hits with titles and snippets (checked once more: the rows are read again here)."""
    posts = documents.visible_posts([int(d[1:]) for d, _lang in found if d[0] == "p"], now)
    comments = documents.comments_by_id([int(d[1:]) for d, _lang in found if d[0] == "c"], now)
    shown = [(d, lang) for d, lang in found if int(d[1:]) in (posts if d[0] == "p" else comments)]
    wanted = []
    for doc_id, lang in shown:
        if doc_id[0] == "p":
            p = posts[int(doc_id[1:])]
            wanted += [(p.title, lang, True, ""), (p.text, lang, False, p.summary)]
        else:
            wanted.append((comments[int(doc_id[1:])].text, lang, False, ""))
    marked = iter(highlight_all(conn, wanted, query))
    hits = []
    for doc_id, _lang in shown:
        if doc_id[0] == "p":
            p = posts[int(doc_id[1:])]
            hits.append(Hit(kind="post", id=p.id, post_id=p.id, post_slug=p.slug, title=p.title,
                            title_html=next(marked), snippet=next(marked), date=p.published_at, lang=p.lang,
                            category=p.category))
        else:
            hits.append(_comment_hit(comments[int(doc_id[1:])], next(marked)))
    return hits


def _comment_hit(c: documents.CommentRow, snippet: Markup) -> Hit:
    return Hit(kind="comment", id=c.id, post_id=c.post_id, post_slug=c.post_slug, title=c.post_title,
               title_html=Markup.escape(c.post_title), snippet=snippet, date=c.created_at, lang=c.lang,
               author_name=c.author_name, is_official=c.is_official, status=c.status)


def staff_search(q: str | None, page: int = 1, per_page: int = 20, *, sort: str = "relevance",
                 status: str | None = None) -> Results:
    """All comments, pending, spam, rejected and deleted included: for moderators only. Never raises."""
    results = steps.staff_results(sort=sort, page=page, per_page=per_page)
    items, given = steps.prepare(q, results)
    if not given:
        return results
    try:
        conn = db.session.connection()
        query = _ready(build(conn, items))
        if query.empty:
            results.notices += ("no_terms",)
            return results
        where, params = (["status = :status"], {"status": status}) if status in set(CommentStatus) else ([], {})
        found = steps.checked_page(
            lambda limit: ranked(conn, STAFF, query, where, params, limit, by_date=results.sort == "date"),
            results, lambda doc_ids: documents.shown_doc_ids(doc_ids, None))
        rows = documents.comments_by_id([int(d[1:]) for d, _lang in found], None)
        shown = [(d, lang) for d, lang in found if int(d[1:]) in rows]
        marked = highlight_all(conn, [(rows[int(d[1:])].text, lang, False, "") for d, lang in shown], query)
        results.hits = [_comment_hit(rows[int(d[1:])], snippet) for (d, _lang), snippet in zip(shown, marked,
                                                                                               strict=True)]
    except Exception as exc:  # noqa: BLE001 – a broken index makes search unavailable, not the page a 500
        return steps.unavailable(results, exc)
    return results
