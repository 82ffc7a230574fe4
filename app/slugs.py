"""Slugs from German and English text: for URLs and heading anchors alike ('Über uns' → 'ueber-uns')."""
from slugify import slugify as _slugify

GERMAN = [("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("Ä", "Ae"), ("Ö", "Oe"), ("Ü", "Ue"), ("ß", "ss"), ("&", " und ")]


def slugify(text: str, max_length: int = 80) -> str:
    """'Netz & Technik' → 'netz-und-technik', 'Über uns' → 'ueber-uns'."""
    return _slugify(text, replacements=GERMAN, max_length=max_length, word_boundary=True)
