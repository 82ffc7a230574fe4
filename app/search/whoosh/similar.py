"""Earlier questions the team has answered that read like this one (shown beside a comment in the queue)."""
from datetime import UTC, datetime

from whoosh.query import Or, Term

from app.extensions import db
from app.search import documents, steps
from app.search.results import Similar
from app.search.whoosh import opening
from app.search.whoosh.analysis import lang_of
from app.search.whoosh.queries import collect, future, restricted
from app.search.whoosh.schema import READER


def similar_answered(comment_id: int, limit: int = 3, *, now: datetime | None = None) -> list[Similar]:
    """Other comments the team has already answered whose text is like this one's, best first.

    More-like-this: Whoosh picks the comment's most telling words (Bo1 model, against the reader
    index); answered comments (`answered_xx`) sharing at least two of them (one, for very short
    comments) are ranked by those words. Never raises.
    """
    try:
        row = documents.comments_by_id([int(comment_id)], None).get(int(comment_id))
        if row is None or not row.text:
            return []
        searcher = opening.searcher(READER)
        lang = lang_of(row.lang)
        key_terms = searcher.key_terms_from_text(f"all_{lang}", row.text[:5000], numterms=10)
        if not key_terms:
            return []
        field = f"answered_{lang}"
        query = Or([Term(field, word, boost=weight) for word, weight in key_terms])
        now = now or datetime.now(UTC)
        itself = Or(list(filter(None, [Term("doc_id", f"c{row.id}"), future(now)])))
        found = collect(searcher, restricted(query, exclude=itself), limit * 3 + 5, terms=True)
        needed = 1 if len(key_terms) < 3 else 2
        ranked = [(int(hit["doc_id"][1:]), hit.score) for hit in found
                  if hit["doc_id"] != f"c{row.id}"  # never the question itself (AndNot alone let it through)
                  and len({text for name, text in hit.matched_terms() if name == field}) >= needed]
        return steps.similar_from(ranked, now, limit)
    except Exception as exc:  # noqa: BLE001 – a broken index leaves the comment page working
        steps.log_unavailable(exc)
        db.session.rollback()
        return []
