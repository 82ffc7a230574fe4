"""The comment rules admins change in the browser: blocked words, words that hold a comment for
review, the link limit, closing comments after N days, the report threshold.

Stored in `Setting` rows (one per rule); a rule without a row falls back to app/config.py. Every
change writes an `AdminEvent` (before → after). `load()` is one query; the web layer keeps its
result for the rest of the request (`comments.browser_state.rules()`), so the queue follows a
change with the next comment, in every process.
"""
from collections import ChainMap
from collections.abc import Mapping
from dataclasses import asdict, dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import AdminEvent, Setting, User

MAX_WORDS = 500
MAX_WORD_LENGTH = 100
MAX_LINKS = 100
MAX_CLOSE_DAYS = 36_500  # a hundred years: "never" is an empty field
MAX_THRESHOLD = 1_000

# rule → (Setting key, the config key that holds its default)
KEYS = {
    "blocklist": ("comments.blocklist", "COMMENT_BLOCKLIST"),
    "held_words": ("comments.held_words", "COMMENT_HELD_WORDS"),
    "max_links": ("comments.max_links", "COMMENT_MAX_LINKS"),
    "close_after_days": ("comments.close_after_days", "COMMENTS_CLOSE_AFTER_DAYS"),
    "report_threshold": ("comments.report_threshold", "REPORT_HIDE_THRESHOLD"),
}
SETTING_KEYS = {setting: rule for rule, (setting, _config) in KEYS.items()}


class RulesError(Exception):
    """Values that cannot be rules; `errors` maps each rule to its message (the typed values are kept)."""

    def __init__(self, errors: dict[str, object]):
        super().__init__("; ".join(str(m) for m in errors.values()))
        self.errors = errors


@dataclass(frozen=True)
class CommentRules:
    blocklist: tuple[str, ...] = ()
    held_words: tuple[str, ...] = ()
    max_links: int = 2
    close_after_days: int | None = None
    report_threshold: int = 3

    def as_values(self) -> dict:
        """JSON-ready values, as stored and audited."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


def defaults(config: Mapping) -> CommentRules:
    """The rules as app/config.py (and BLOG_* variables) set them."""
    return CommentRules(
        blocklist=_words(config.get("COMMENT_BLOCKLIST") or ()),
        held_words=_words(config.get("COMMENT_HELD_WORDS") or ()),
        max_links=int(config.get("COMMENT_MAX_LINKS", 2)),
        close_after_days=int(config["COMMENTS_CLOSE_AFTER_DAYS"]) if config.get("COMMENTS_CLOSE_AFTER_DAYS") else None,
        report_threshold=int(config.get("REPORT_HIDE_THRESHOLD", 3)),
    )


def stored() -> dict[str, Setting]:
    """The rules changed in the browser, by rule name (one query)."""
    rows = db.session.scalars(select(Setting).where(Setting.key.in_(list(SETTING_KEYS))))
    return {SETTING_KEYS[row.key]: row for row in rows}


def load(config: Mapping) -> CommentRules:
    """The rules in force: stored values over the defaults (one query)."""
    values = defaults(config).as_values()
    for rule, row in stored().items():
        values[rule] = row.value
    return _typed(values, fallback=defaults(config))


def as_config(config: Mapping, rules: CommentRules) -> Mapping:
    """`config` with the rules in force laid over it, for `comments.service.Rules.from_config`."""
    return ChainMap({
        "COMMENT_BLOCKLIST": list(rules.blocklist),
        "COMMENT_HELD_WORDS": list(rules.held_words),
        "COMMENT_MAX_LINKS": rules.max_links,
        "COMMENTS_CLOSE_AFTER_DAYS": rules.close_after_days,
        "REPORT_HIDE_THRESHOLD": rules.report_threshold,
    }, config)


def parse(form: Mapping[str, str]) -> CommentRules:
    """Typed values from the rules form (words one per line); RulesError names each bad field."""
    errors: dict[str, object] = {}
    values: dict[str, object] = {}
    for rule in ("blocklist", "held_words"):
        try:
            values[rule] = parse_words(form.get(rule, ""))
        except ValueError as exc:
            errors[rule] = exc.args[0]
    values["max_links"] = _number(form.get("max_links", ""), 0, MAX_LINKS, "max_links", errors)
    close = (form.get("close_after_days") or "").strip()
    values["close_after_days"] = None if close in ("", "0") else _number(close, 1, MAX_CLOSE_DAYS,
                                                                           "close_after_days", errors)
    values["report_threshold"] = _number(form.get("report_threshold", ""), 1, MAX_THRESHOLD, "report_threshold",
                                         errors)
    if not errors:
        both = sorted(set(values["blocklist"]) & set(values["held_words"]))
        if both:
            errors["held_words"] = _l("These words are already blocked: %(words)s. A word is either blocked or "
                                      "held, not both.", words=", ".join(both))
    if errors:
        raise RulesError(errors)
    return CommentRules(**values)


def parse_words(text: str) -> tuple[str, ...]:
    """One word or phrase per line (commas separate too), lower case, duplicates dropped."""
    words: list[str] = []
    for line in (text or "").replace(",", "\n").splitlines():
        word = " ".join(line.split()).lower()
        if not word or word in words:
            continue
        if len(word) > MAX_WORD_LENGTH:
            raise ValueError(_l("“%(word)s…” is longer than %(n)s characters.", word=word[:30], n=MAX_WORD_LENGTH))
        words.append(word)
    if len(words) > MAX_WORDS:
        raise ValueError(_l("At most %(n)s words, please (this list has %(count)s).", n=MAX_WORDS, count=len(words)))
    return tuple(words)


def save(config: Mapping, new: CommentRules, actor: User | None) -> list[AdminEvent]:
    """Store the rules that differ from those in force, one audit event each; the caller commits."""
    current = load(config).as_values()
    rows = stored()
    events = []
    for rule, value in new.as_values().items():
        if current[rule] == value:
            continue
        key = KEYS[rule][0]
        row = rows.get(rule) or Setting(key=key)
        row.value, row.updated_by_id = value, getattr(actor, "id", None)
        db.session.add(row)
        event = AdminEvent(actor_id=getattr(actor, "id", None), action="setting", subject=key,
                           before=current[rule], after=value)
        db.session.add(event)
        events.append(event)
    return events


def reset(config: Mapping, actor: User | None) -> list[AdminEvent]:
    """Back to app/config.py: the stored rows go, one audit event for each that differed."""
    current, base = load(config).as_values(), defaults(config).as_values()
    events = []
    for rule, row in stored().items():
        if current[rule] != base[rule]:
            event = AdminEvent(actor_id=getattr(actor, "id", None), action="setting", subject=row.key,
                               before=current[rule], after=base[rule], note="reset")
            db.session.add(event)
            events.append(event)
        db.session.delete(row)
    return events


def history(limit: int = 50) -> list[AdminEvent]:
    """The latest changes of the comment rules, newest first, with their actors (one query)."""
    return list(db.session.scalars(
        select(AdminEvent).options(joinedload(AdminEvent.actor))
        .where(AdminEvent.action == "setting", AdminEvent.subject.in_(list(SETTING_KEYS)))
        .order_by(AdminEvent.id.desc()).limit(limit)))


def _words(values) -> tuple[str, ...]:
    return tuple(dict.fromkeys(" ".join(str(w).split()).lower() for w in values if str(w).strip()))


def _number(text, low: int, high: int, rule: str, errors: dict) -> int | None:
    text = str(text if text is not None else "").strip()
    try:
        value = int(text)
    except ValueError:
        errors[rule] = _l("Please enter a whole number.")
        return None
    if not low <= value <= high:
        errors[rule] = _l("Please enter a number from %(low)s to %(high)s.", low=low, high=high)
        return None
    return value


def _typed(values: dict, fallback: CommentRules) -> CommentRules:
    """Stored JSON as rules; a value of the wrong shape (edited by hand) falls back to the default."""
    def ints(rule, low, high, allow_none=False):
        v = values.get(rule)
        if v is None and allow_none:
            return None
        return v if isinstance(v, int) and not isinstance(v, bool) and low <= v <= high else getattr(fallback, rule)

    def words(rule):
        v = values.get(rule)
        return _words(v) if isinstance(v, list) else getattr(fallback, rule)

    return CommentRules(blocklist=words("blocklist"), held_words=words("held_words"),
                        max_links=ints("max_links", 0, MAX_LINKS),
                        close_after_days=ints("close_after_days", 1, MAX_CLOSE_DAYS, allow_none=True),
                        report_threshold=ints("report_threshold", 1, MAX_THRESHOLD))
