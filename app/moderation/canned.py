"""Canned responses: the placeholders they may hold, filling them in, and the starter set.

A placeholder is a word in braces. The known ones are filled in as text, once, when an answer is
previewed or sent (never in the browser, so a reader named "{team}" stays "{team}"), and a name
such as "[Support](https://evil.example)" stays a name, not a link in our answer. An unknown one
("{nmae}") is refused with the list of the known ones, in a saved response and in an answer
alike, so no "Hallo {name}" is ever published literally. Code (`…` and fenced blocks) is left
as written: `{id}` there is an example, not a placeholder.
"""
import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app import markup
from app.extensions import db
from app.models import CannedResponse

PLACEHOLDERS = ("{name}", "{post_title}", "{team}", "{moderator}")
_PLACEHOLDER = re.compile(r"\{[a-z_][a-z0-9_]{0,39}\}", re.IGNORECASE)
# Fenced code blocks and code spans (a run of backticks closed by the same run), left as written.
_CODE = re.compile(r"^(?P<fence>`{3,}|~{3,})[^\n]*\n.*?(?:^(?P=fence)[ \t]*$|\Z)|(?P<ticks>`+).+?(?<!`)(?P=ticks)(?!`)",
                   re.MULTILINE | re.DOTALL)


def _prose(text: str):
    """The parts of `text` outside code, as (start, end) ranges."""
    at = 0
    for match in _CODE.finditer(text or ""):
        yield at, match.start()
        at = match.end()
    yield at, len(text or "")
STARTER_SET = Path(__file__).resolve().parent.parent / "demo" / "data" / "canned.yml"


class PlaceholderError(ValueError):
    def __init__(self, unknown: list[str]):
        self.unknown = unknown
        self.message = _l("Unknown placeholder %(unknown)s. Known placeholders: %(known)s.",
                          unknown=", ".join(unknown), known=", ".join(PLACEHOLDERS))
        super().__init__(f"unknown placeholders: {unknown}")


def unknown_placeholders(text: str) -> list[str]:
    """Words in braces that are no placeholder we know, in order of appearance, each once."""
    found = []
    for start, end in _prose(text):
        for match in _PLACEHOLDER.finditer(text, start, end):
            if match.group(0) not in PLACEHOLDERS and match.group(0) not in found:
                found.append(match.group(0))
    return found


def check(text: str) -> None:
    """Raise PlaceholderError for a text with an unknown placeholder."""
    unknown = unknown_placeholders(text)
    if unknown:
        raise PlaceholderError(unknown)


@dataclass(frozen=True)
class Values:
    name: str
    post_title: str
    team: str
    moderator: str

    def as_dict(self) -> dict[str, str]:
        return {"{name}": self.name, "{post_title}": self.post_title, "{team}": self.team,
                "{moderator}": self.moderator}


def fill(text: str, values: Values) -> str:
    """The known placeholders filled in, each value escaped for Markdown; unknown ones are refused."""
    check(text)
    safe = {key: markup.escape_markdown(value) for key, value in values.as_dict().items()}
    parts, at = [], 0
    for start, end in _prose(text):
        parts.append(text[at:start])  # code, as written
        parts.append(_PLACEHOLDER.sub(lambda m: safe.get(m.group(0), m.group(0)), text[start:end]))
        at = end
    return "".join(parts)


def responses() -> list[CannedResponse]:
    return list(db.session.scalars(select(CannedResponse).order_by(CannedResponse.lang, CannedResponse.title)))


def install_starter_set(path: Path = STARTER_SET) -> int:
    """Add the starter responses (German and English) that are missing, by title and language;
    a response the team changed keeps its text. Returns how many were added (the caller commits)."""
    entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    existing = {tuple(row) for row in db.session.execute(select(CannedResponse.lang, CannedResponse.title))}
    added = 0
    for entry in entries:
        key = (entry["lang"], entry["title"])
        if key in existing:
            continue
        check(entry["body"])
        db.session.add(CannedResponse(title=entry["title"], lang=entry["lang"], body_md=entry["body"].strip()))
        existing.add(key)
        added += 1
    return added
