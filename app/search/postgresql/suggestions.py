"""The "did you mean" suggestion: unknown words replaced by close words from the words table (pg_trgm).

The words table holds the real words of what readers may find (lowercased, neither stemmed nor
folded) with the number of documents holding each, and a trigram index on the folded word.
Candidates are the most similar folded words (pg_trgm's `%`); as in the Whoosh backend the one
within one (short words) or two edits with the same first letter wins, the most frequent first,
and the suggestion is made only if the corrected query finds something.
"""
from collections.abc import Callable

from sqlalchemy import text

from app.search.postgresql.schema import WORDS, table
from app.search.text import fold, format_query

CANDIDATES = 20


def did_you_mean(conn, items: list[list[str]], finds: Callable[[list[list[str]]], bool]) -> str | None:
    """The query with unknown words replaced by close indexed words, if `finds` says that finds something."""
    words = table(WORDS)
    asked = sorted({w.lower() for item in items for w in item if len(w) >= 4 and w.isalpha()})
    if not asked:
        return None
    known = set(conn.execute(text(f"SELECT word FROM {words} WHERE word = ANY(CAST(:w AS text[]))"),
                             {"w": asked}).scalars())
    best: dict[str, str] = {}
    for word in asked:
        if word not in known:
            found = _closest(conn, words, word)
            if found:
                best[word] = found
    if not best:
        return None
    corrected = [[best.get(w.lower(), w.lower()) for w in item] for item in items]
    return format_query(corrected) if finds(corrected) else None


def _closest(conn, words: str, word: str) -> str | None:
    folded = fold(word)
    maxdist = 1 if len(word) < 7 else 2
    rows = conn.execute(text(f"SELECT word, folded, ndoc FROM {words} WHERE folded % :f AND left(folded, 1) = :first "
                             "ORDER BY similarity(folded, :f) DESC, ndoc DESC LIMIT :n"),
                        {"f": folded, "first": folded[:1], "n": CANDIDATES}).all()
    scored = [(distance(folded, f), -ndoc, w) for w, f, ndoc in rows if f != folded]
    scored = [s for s in scored if s[0] <= maxdist]
    return min(scored)[2] if scored else None


def distance(a: str, b: str) -> int:
    """Levenshtein distance (words of at most 40 letters: plain dynamic programming)."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]
