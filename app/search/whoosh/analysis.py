"""Analyzers and scoring: German or English per document, umlauts folded on both sides.

Per language, German (Snowball stemmer, stop words) for German posts and comments, English for
English ones; each document goes into the fields of its own language (`all_de` or `all_en`). A
query is analysed for both languages and matches each document in its own. Before stemming,
ä/ö/ü/ß become ae/oe/ue/ss and other accents are dropped, on both sides, so "Stoerung" finds
"Störungen". An unstemmed `spell` field gives "did you mean".

The index files hold these analyzers pickled by class path: `app.search.index` keeps the names
an index written before the split into this package refers to (`FoldFilter`, `CachedStemFilter`).
"""
import functools

from whoosh import scoring
from whoosh.analysis import BiWordFilter, Filter, LowercaseFilter, RegexTokenizer, StemFilter, StopFilter
from whoosh.lang import stopwords_for_language

from app.search.text import WORD, fold

LANGS = ("de", "en")
PAIR = " "  # between the two words of a pair term


class FoldFilter(Filter):
    """Token filter applying `text.fold` (keeps positions and character offsets for highlighting)."""

    def __call__(self, tokens):
        for token in tokens:
            token.text = fold(token.text)
            yield token


class CachedStemFilter(StemFilter):
    """Whoosh's stemmer with the standard library's LRU cache.

    Whoosh's own cache evicts by deleting keys without a lock, which can raise KeyError when two
    threads (the development server, a threaded worker) stem at the same time.
    """

    def clear(self):
        from whoosh.lang import stemmer_for_language

        stemfn = stemmer_for_language(self.lang) if self.lang else self.stemfn
        self._stem = functools.lru_cache(maxsize=self.cachesize)(stemfn) if self.cachesize else stemfn


def _stops(lang: str) -> frozenset[str]:
    words = set(stopwords_for_language(lang)) | ({"dass"} if lang == "de" else set())
    return frozenset(words | {fold(w) for w in words})


def _language_analyzer(lang: str):
    return (RegexTokenizer(WORD) | LowercaseFilter() | StopFilter(stoplist=_stops(lang), minsize=1)
            | FoldFilter() | CachedStemFilter(lang=lang, cachesize=100_000))


ANALYZERS = {lang: _language_analyzer(lang) for lang in LANGS}
# Adjacent word pairs ("router neu", "neu start"): a "quoted phrase" matches as all of its pairs.
PAIR_ANALYZERS = {lang: _language_analyzer(lang) | BiWordFilter(sep=PAIR) for lang in LANGS}
# Real words for "did you mean": lowercased, neither stemmed nor folded (suggest "störung", not "stor").
SPELL_ANALYZER = RegexTokenizer(WORD) | LowercaseFilter() | StopFilter(
    stoplist=_stops("de") | _stops("en"), minsize=3, maxsize=40)


def lang_of(code: str | None) -> str:
    """The analyzer language for a document's or reader's language code (German for anything else)."""
    return code if code in LANGS else LANGS[0]


class Saturated(scoring.WeightingModel):
    """BM25's idf and term-frequency saturation, without its document-length normalisation.

    Long posts are not penalised, which suits a blog where posts are what readers look for first;
    and no field length is read per match, which halved the time of common-word searches.
    """

    def __init__(self, k1: float = 2.0):
        self.k1 = k1

    def scorer(self, searcher, fieldname, text, qf=1):
        return _SaturatedScorer(searcher.idf(fieldname, text) * qf, self.k1)


class _SaturatedScorer(scoring.BaseScorer):
    def __init__(self, idf: float, k1: float):
        self.idf, self.k1 = idf, k1

    def supports_block_quality(self):
        return False

    def score(self, matcher):
        tf = matcher.weight()
        return self.idf * tf * (self.k1 + 1) / (tf + self.k1)


WEIGHTING = Saturated()
