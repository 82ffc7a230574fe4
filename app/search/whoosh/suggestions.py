"""The "did you mean" suggestion: unknown words replaced by close words from the index."""
from whoosh.support.levenshtein import distance

from app.search.text import fold, format_query
from app.search.whoosh.queries import collect, restricted, text_query


def did_you_mean(searcher, items: list[list[str]], restrict: dict) -> str | None:
    """The query with unknown words replaced by close words from the index, if that finds something."""
    reader = searcher.reader()
    changed, corrected = False, []
    for words in items:
        fixed = []
        for word in words:
            lower = word.lower()
            best = None
            if len(lower) >= 4 and lower.isalpha() and not reader.doc_frequency("spell", lower):
                best = _closest(reader, lower)
            changed = changed or best is not None
            fixed.append(best or lower)
        corrected.append(fixed)
    if not changed:
        return None
    query, _terms = text_query(corrected)
    if query is None or collect(searcher, restricted(query, **restrict), 1).is_empty():
        return None
    return format_query(corrected)


_SPELT_OUT = (("ae", "ä"), ("oe", "ö"), ("ue", "ü"))


def _closest(reader, word: str) -> str | None:
    """The most frequent indexed word within one (short words) or two edits, same first letter.

    Umlauts typed as ae/oe/ue ("stoerumg") are tried as umlauts too, and distances are measured
    on folded words, so "stoerumg" leads to "störung".
    """
    maxdist = 1 if len(word) < 7 else 2
    umlauts = word
    for spelt, umlaut in _SPELT_OUT:
        umlauts = umlauts.replace(spelt, umlaut)
    folded = fold(word)
    candidates = {}
    for variant in {word, umlauts}:
        for w in reader.terms_within("spell", variant, maxdist, prefix=1):
            if fold(w) != folded:
                candidates[w] = (distance(folded, fold(w)), -reader.doc_frequency("spell", w), w)
    return min(candidates.values())[2] if candidates else None
