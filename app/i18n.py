"""Language and time zone: German by default, English on request (Accept-Language or the switch)."""
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import Flask, current_app, has_request_context, request
from flask_babel import get_locale, get_translations
from jinja2 import pass_context
from markupsafe import Markup

from app.extensions import babel

LANGUAGE_COOKIE = "lang"
LANGUAGE_NAMES = {"de": "Deutsch", "en": "English"}
OG_LOCALES = {"de": "de_DE", "en": "en_GB"}  # Open Graph wants language_TERRITORY


def select_locale() -> str:
    if not has_request_context():  # CLI and background work speak the site's default language
        return current_app.config["DEFAULT_LANGUAGE"]
    return locale_for(request, current_app.config)


def locale_for(req, config) -> str:
    """The reader's choice (cookie) wins, then the browser's Accept-Language, then German.
    (A plain request, so the page cache can ask before Flask has a request context.)"""
    languages = config["LANGUAGES"]
    chosen = req.cookies.get(LANGUAGE_COOKIE)
    if chosen in languages:
        return chosen
    return req.accept_languages.best_match(languages, default=config["DEFAULT_LANGUAGE"])


def current_language() -> str:
    return str(get_locale() or current_app.config["DEFAULT_LANGUAGE"])


def site_timezone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def isotime(value: datetime | date | None) -> str:
    """A machine-readable time for `datetime=` attributes and feeds: UTC to the second, e.g. 2026-12-01T10:30:22Z."""
    if value is None:
        return ""
    if not isinstance(value, datetime):
        return value.isoformat()
    if value.tzinfo is None:  # stored times are UTC (UTCDateTime); a naive one is too
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def og_locale(code: str) -> str:
    """The Open Graph locale of a language code (de → de_DE)."""
    return OG_LOCALES.get(code, code)


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
    app.context_processor(_render_translations)
    app.add_template_filter(isotime)
    app.add_template_filter(og_locale)

    @app.after_request
    def vary_on_language(response):
        # The same URL answers in two languages, and differently to someone signed in: caches must
        # keep them apart. Static files and uploads are the same for everyone.
        if request.endpoint not in ("static", "images.file"):
            response.vary.add("Accept-Language")
            response.vary.add("Cookie")
        return response


def _render_translations() -> dict:
    """Templates' `_`, `gettext` and `ngettext` bound to this render's catalog. Flask-Babel's own
    look the language up again for every string (a queue page has some 400); this looks it up once
    per render_template, so a mail rendered under force_locale still gets its own language. They
    behave as Jinja's "newstyle" gettext: autoescaped, always %-formatted."""
    translations = get_translations()
    singular, plural = translations.ugettext, translations.ungettext

    @pass_context
    def gettext(context, string, /, **variables):  # positional-only: `num=`, `string=` are variables
        text = singular(string)
        return (Markup(text) if context.eval_ctx.autoescape else text) % variables

    @pass_context
    def ngettext(context, string, plural_string, count, /, **variables):
        variables.setdefault("num", count)
        text = plural(string, plural_string, count)
        return (Markup(text) if context.eval_ctx.autoescape else text) % variables

    return {"gettext": gettext, "ngettext": ngettext}
