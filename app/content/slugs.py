"""URL slugs from German and English titles."""
import re

from slugify import slugify as _slugify

_GERMAN = [("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("Ä", "Ae"), ("Ö", "Oe"), ("Ü", "Ue"), ("ß", "ss"), ("&", " und ")]
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def slugify(text: str, max_length: int = 80) -> str:
    """'Netz & Technik' → 'netz-und-technik', 'Über uns' → 'ueber-uns'."""
    return _slugify(text, replacements=_GERMAN, max_length=max_length, word_boundary=True)


def is_valid_slug(slug: str) -> bool:
    return bool(SLUG_PATTERN.match(slug)) and len(slug) <= 200
