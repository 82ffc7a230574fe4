import logging
from datetime import date

from flask import current_app, g, has_request_context, jsonify, redirect, request
from flask_babel import format_date
from flask_login import current_user
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.auth.permissions import ROLE_LABELS, Permission, can
from app.content import queries
from app.extensions import db
from app.i18n import LANGUAGE_COOKIE, LANGUAGE_NAMES, current_language
from app.site import bp
from app.urls import absolute_url, current_path, safe_next

log = logging.getLogger(__name__)


@bp.get("/healthz")
def healthz():
    """200 when the database answers, 503 otherwise (for load balancers and monitoring)."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        log.exception("health check: database unavailable")
        return jsonify(status="error", database="unavailable"), 503
    return jsonify(status="ok", database="ok")


@bp.get("/language/<code>")
def set_language(code: str):
    """Remember the reader's language in a cookie and go back to the page they came from."""
    target = safe_next(request.args.get("next"))
    response = redirect(target)
    if code in current_app.config["LANGUAGES"]:
        response.set_cookie(LANGUAGE_COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response


@bp.app_context_processor
def site_context():
    """What every page's layout shows: navigation, footer pages, language switch."""
    lang = current_language()
    return {
        "site_name": current_app.config["SITE_NAME"],
        "site_description": current_app.config["SITE_DESCRIPTION"],
        "team_name": current_app.config["TEAM_NAME"],
        "lang": lang,
        # Read when a template shows them (a thread or a mail rendered on its own does not).
        "nav_categories": _Lazy(lambda: _layout_lists()[0]),
        "footer_pages": _Lazy(lambda: _layout_lists()[1]),
        "other_languages": [(code, LANGUAGE_NAMES.get(code, code))
                            for code in current_app.config["LANGUAGES"] if code != lang],
        "current_path": current_path,
        "absolute_url": absolute_url,
        "canonical_url": canonical_url,
        "can": lambda permission: can(current_user, permission),
        "Permission": Permission,
        "role_labels": ROLE_LABELS,
        "month_name": month_name,
    }


class _Lazy:
    """A list read on first use."""

    def __init__(self, read):
        self._read, self._items = read, None

    def _list(self) -> list:
        if self._items is None:
            self._items = self._read()
        return self._items

    def __iter__(self):
        return iter(self._list())

    def __len__(self) -> int:
        return len(self._list())

    def __bool__(self) -> bool:
        return bool(self._list())

    def __getitem__(self, index):
        return self._list()[index]


def _layout_lists() -> tuple[list, list]:
    """Read once per request: a page rendered in parts (a post's threads) asks for them each time."""
    found = g.get("layout_lists") if has_request_context() else None  # (a CLI run's g lasts the whole run)
    if found is None:
        try:
            found = (queries.categories(), queries.footer_pages())
        except SQLAlchemyError:  # the error page must still render when the database is down
            db.session.rollback()
            return [], []
        if has_request_context():
            g.layout_lists = found
    return found


def canonical_url() -> str | None:
    """The page's one URL for search engines: no tracking or sort parameters, page only if > 1."""
    if not request.endpoint or request.endpoint == "static":
        return None
    values = dict(request.view_args or {})
    page = request.args.get("page", 1, type=int)
    if page > 1:
        values["page"] = page
    return absolute_url(request.endpoint, **values)


def month_name(year: int, month: int) -> str:
    return format_date(date(year, month, 1), "LLLL yyyy")
