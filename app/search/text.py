"""Query text: cleaning, splitting into words and "phrases", umlaut folding. No Whoosh here.

There is no query syntax on purpose: AND, OR, NOT are words, and * ? ~ : ( ) are punctuation, so
no input can fail to parse or turn into an expensive wildcard or fuzzy query.
"""
import re
import unicodedata

WORD = r"\w+"  # also the analyzers' tokenizer: letters and digits of any script
_WORDS = re.compile(WORD)
_QUOTED = re.compile(r'"([^"]*)"')
# Control characters, soft hyphen, zero-width and direction marks, BOM: nothing a word consists of.
_INVISIBLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb"
                        r"\ud800-\udfff]")
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "æ": "ae", "œ": "oe", "ø": "oe"})


def fold(text: str) -> str:
    """Lowercase text with umlauts spelt out and other accents dropped ("störung" → "stoerung")."""
    text = text.translate(_UMLAUTS)
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def clean_query(q: str | None, max_length: int) -> tuple[str, bool]:
    """The query without control or invisible characters, whitespace collapsed, length capped.

    Returns the text and whether it had to be shortened.
    """
    text = unicodedata.normalize("NFC", _INVISIBLE.sub(" ", str(q or "")))
    text = " ".join(text.split())
    if len(text) <= max_length:
        return text, False
    cut = text[:max_length]
    return (cut.rsplit(" ", 1)[0] if " " in cut else cut).strip(), True


def parse_query(text: str, max_terms: int) -> tuple[list[list[str]], bool]:
    """Words and "quoted phrases" (lists of words), each once; an unbalanced quote is ignored.

    Returns at most `max_terms` items and whether there were more.
    """
    items: list[list[str]] = []
    position = 0
    for match in _QUOTED.finditer(text):
        items.extend([w] for w in _WORDS.findall(text[position:match.start()]))
        phrase = _WORDS.findall(match.group(1))
        if phrase:
            items.append(phrase)
        position = match.end()
    items.extend([w] for w in _WORDS.findall(text[position:]))
    seen: set[str] = set()
    unique = []
    for item in items:
        key = " ".join(item).casefold()
        if key not in seen:
            seen.add(key)
            unique.append(item)
    return unique[:max_terms], len(unique) > max_terms


def format_query(items: list[list[str]]) -> str:
    """Items back into a query string (phrases in quotes): for "did you mean" links."""
    return " ".join(f'"{" ".join(words)}"' if len(words) > 1 else words[0] for words in items)


def shorten(text: str, length: int) -> str:
    """At most `length` characters, cut at a word boundary, with an ellipsis when cut."""
    if len(text) <= length:
        return text
    return text[:length].rsplit(" ", 1)[0].rstrip(",;:.-–") + " …"
