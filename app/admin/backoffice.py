"""The back office's blueprint (admins, MANAGE_SITE): categories and comment rules. Staff accounts
live on the `admin` blueprint (app/admin/routes.py)."""
from flask import Blueprint
from flask_babel import gettext as _, lazy_gettext as _l, ngettext

bp = Blueprint("backoffice", __name__, url_prefix="/admin")


@bp.app_template_global()
def describe_change(before, after) -> str:
    """An audit event's change in one line: words added and removed, or before → after."""
    if isinstance(before, list) and isinstance(after, list):
        added = [str(w) for w in after if w not in before]
        removed = [str(w) for w in before if w not in after]
        parts = ([_("added: %(words)s", words=", ".join(added))] if added else []) + \
                ([_("removed: %(words)s", words=", ".join(removed))] if removed else [])
        return "; ".join(parts) or _("order changed")
    if isinstance(before, dict) and isinstance(after, dict):
        changed = [k for k in after if before.get(k) != after.get(k)]
        return "; ".join(f"{_label(k)}: {_value(before.get(k), k)} → {_value(after[k], k)}" for k in changed)
    if before is None and isinstance(after, dict):
        return "; ".join(f"{_label(k)}: {_value(v, k)}" for k, v in after.items() if v not in ("", None))
    return f"{_value(before)} → {_value(after)}"


def target_label(minutes: int) -> str:
    """A first-answer target as people say it: "2 hours", "90 minutes"."""
    if minutes % 60 == 0:
        return ngettext("%(num)s hour", "%(num)s hours", minutes // 60)
    return ngettext("%(num)s minute", "%(num)s minutes", minutes)


FIELD_LABELS = {"name": _l("Name"), "slug": _l("Web address"), "description": _l("Description"),
                "response_target_minutes": _l("First-answer target"), "business_hours_only": _l("business hours"),
                "into": _l("merged into"), "posts": _l("Posts"), "comments_open": _l("comments open")}


def _label(key: str) -> str:
    return str(FIELD_LABELS.get(key, key))


def _value(value, key: str = "") -> str:
    if key == "response_target_minutes" and isinstance(value, int):
        return target_label(value)
    if value is None or value == [] or value == "":
        return "–"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_value(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)

from app.admin import categories_routes, rules_routes  # noqa: E402,F401  (register the routes on bp)
