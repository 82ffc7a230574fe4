"""URL slugs from German and English titles (the transliteration itself is in app/slugs.py)."""
import re

from app.slugs import slugify

__all__ = ["SLUG_PATTERN", "is_valid_slug", "slugify"]

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def is_valid_slug(slug: str) -> bool:
    return bool(SLUG_PATTERN.match(slug)) and len(slug) <= 200
