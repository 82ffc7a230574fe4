"""The two schemas (reader, staff) and how a `documents.Doc` becomes their fields."""
from datetime import UTC, datetime

from whoosh.columns import NumericColumn
from whoosh.fields import COLUMN, ID, STORED, TEXT, Schema

from app.search.documents import Doc
from app.search.whoosh.analysis import ANALYZERS, LANGS, PAIR_ANALYZERS, SPELL_ANALYZER, lang_of

SCHEMA_VERSION = 1  # bump when schema or analyzers change: old indexes count as missing until rebuilt
READER, STAFF = "reader", "staff"
TITLE_WEIGHT = 3  # a post's title is indexed this many times, so its words count more


def _text_fields(pairs: bool) -> dict:
    """Per language `all_xx`: title (weighted by repetition), text, category, tags, names.

    One posting list per word keeps matching fast: separate title/body/meta fields, or a clause
    that only adds weight for title words, made common words two to three times slower.
    """
    fields = {f"all_{lang}": TEXT(analyzer=ANALYZERS[lang], phrase=False) for lang in LANGS}
    if pairs:
        fields.update({f"pairs_{lang}": TEXT(analyzer=PAIR_ANALYZERS[lang], phrase=False) for lang in LANGS})
        # The text of answered reader comments once more: more-like-this then walks only their
        # (short) posting lists instead of intersecting common words with an "answered" filter.
        fields.update({f"answered_{lang}": TEXT(analyzer=ANALYZERS[lang], phrase=False) for lang in LANGS})
    return fields


def reader_schema() -> Schema:
    """What readers may find: visible posts and approved comments."""
    return Schema(
        doc_id=ID(unique=True, stored=True),  # "p12" | "c345"
        kind=ID(),  # post | comment
        post_id=ID(),  # a post and its comments: replaced together, left out together while scheduled
        lang=STORED(),
        category=ID(stored=True),  # category slug (absent: none)
        official=ID(),  # "1": an official answer by the team (absent otherwise)
        date=COLUMN(NumericColumn("q")),  # seconds: published (posts) or written (comments)
        spell=TEXT(analyzer=SPELL_ANALYZER, phrase=False),
        **_text_fields(pairs=True),
    )


def staff_schema() -> Schema:
    """Every comment, whatever its status, for the moderators."""
    return Schema(
        doc_id=ID(unique=True, stored=True),
        post_id=ID(),
        status=ID(stored=True),
        lang=STORED(),
        date=COLUMN(NumericColumn("q")),
        **_text_fields(pairs=False),
    )


def _ts(value: datetime | None) -> int:
    if value is None:
        return 0
    return int((value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp())


def reader_fields(doc: Doc) -> dict:
    """A post or approved comment as reader-index fields."""
    lang = lang_of(doc.lang)
    text = " ".join(filter(None, [doc.title, doc.body, doc.meta]))
    weighted = " ".join([doc.title] * (TITLE_WEIGHT - 1) + [text]) if doc.title else text
    fields = {"doc_id": f"{doc.kind[0]}{doc.id}", "kind": doc.kind, "post_id": str(doc.post_id), "lang": lang,
              "date": _ts(doc.date), f"all_{lang}": weighted, f"pairs_{lang}": text, "spell": text}
    if doc.category:
        fields["category"] = doc.category
    if doc.official:
        fields["official"] = "1"
    if doc.answered:
        fields[f"answered_{lang}"] = text
    return fields


def staff_fields(doc: Doc) -> dict:
    """A comment of any status as staff-index fields."""
    lang = lang_of(doc.lang)
    return {"doc_id": f"c{doc.id}", "post_id": str(doc.post_id), "status": doc.status, "lang": lang,
            "date": _ts(doc.date), f"all_{lang}": " ".join(filter(None, [doc.body, doc.meta]))}
