"""URL converters: the app's `<int:…>` takes only values every database can compare with an id."""
from werkzeug.routing import IntegerConverter, Map

# The largest id every database can compare: PostgreSQL's INTEGER (the ids' type there), which is
# narrower than SQLite's 64 bits. A larger number is simply no id (404), not a database error.
MAX_ID = 2**31 - 1


class BoundedIntegerConverter(IntegerConverter):
    """`<int:…>` for ids and numbers: ASCII digits up to MAX_ID; anything else is simply not found."""

    # Werkzeug's `\d+` also matches other scripts' digits (e.g. Arabic-Indic): a second URL per page.
    regex = r"[0-9]+"

    def __init__(self, map: Map, fixed_digits: int = 0, min: int | None = None, max: int | None = MAX_ID,
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def parse_int(value, *, max_digits: int = 18) -> int | None:
    """A whole number typed into a form or query string, or None: ASCII digits only (`str.isdigit`
    also takes "²" and other scripts' digits, which `int()` refuses or a database cannot compare),
    at most `max_digits` of them and at most MAX_ID."""
    text = str(value).strip() if value is not None else ""
    if not (text.isascii() and text.isdigit() and len(text) <= max_digits):
        return None
    number = int(text)
    return number if number <= MAX_ID else None
