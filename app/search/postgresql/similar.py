"""Earlier questions the team has answered that read like this one (shown beside a comment in the queue)."""
from datetime import UTC, datetime

from sqlalchemy import text

from app.extensions import db
from app.search import documents, steps
from app.search.postgresql import opening
from app.search.postgresql.schema import READER, config_of, indexed, lang_of, table
from app.search.results import Similar

KEY_TERMS = 10


def similar_answered(comment_id: int, limit: int = 3, *, now: datetime | None = None) -> list[Similar]:
    """Other comments the team has already answered whose text is like this one's, best first.

    More-like-this in SQL: the comment's ten most telling lexemes (most frequent in it, longest
    first), then answered reader comments in its language sharing at least two of them (one, for
    very short comments), ranked by the shared lexemes' rarity among answered comments (idf), so
    "WLAN-Verbindung" counts more than "abends". Never raises.
    """
    try:
        row = documents.comments_by_id([int(comment_id)], None).get(int(comment_id))
        if row is None or not row.text:
            return []
        conn = db.session.connection()
        opening.require_live(conn)
        lang = lang_of(row.lang)
        key_terms = list(conn.execute(text(
            "SELECT lexeme FROM unnest(to_tsvector(CAST(:cfg AS regconfig), :body)) "
            "ORDER BY cardinality(positions) DESC, length(lexeme) DESC, lexeme LIMIT :n"),
            {"cfg": config_of(lang), "body": indexed(row.text[:5000]), "n": KEY_TERMS}).scalars())
        if not key_terms:
            return []
        now = now or datetime.now(UTC)
        reader = table(READER)
        found = conn.execute(text(
            f"WITH candidates AS (SELECT ref, tsv FROM {reader} WHERE answered AND lang = :lang "
            "AND tsv @@ (SELECT CAST(string_agg(quote_literal(t), ' | ') AS tsquery) "
            "FROM unnest(CAST(:terms AS text[])) t) "
            "AND doc_id <> :itself AND NOT (post_id = ANY(CAST(:future AS integer[])))), "
            "shared AS (SELECT c.ref, l.lexeme FROM candidates c, unnest(tsvector_to_array(c.tsv)) l(lexeme) "
            "WHERE l.lexeme = ANY(CAST(:terms AS text[]))), "
            "rarity AS (SELECT lexeme, ln(1 + (SELECT count(*) FROM candidates)::float / count(*)) w "
            "FROM shared GROUP BY lexeme) "
            "SELECT s.ref, sum(r.w) FROM shared s JOIN rarity r USING (lexeme) GROUP BY s.ref "
            "HAVING count(*) >= :needed ORDER BY 2 DESC, s.ref LIMIT :limit"),
            {"lang": lang, "terms": key_terms, "itself": f"c{row.id}", "future": documents.scheduled_post_ids(now),
             "needed": 1 if len(key_terms) < 3 else 2, "limit": limit * 3 + 5}).all()
        ranked = [(ref, float(score)) for ref, score in found if ref != row.id]
        return steps.similar_from(ranked, now, limit)
    except Exception as exc:  # noqa: BLE001 – a broken index leaves the comment page working
        steps.log_unavailable(exc)
        db.session.rollback()
        return []
