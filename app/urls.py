"""URL helpers for the web layer: absolute links and safe redirect targets."""
from urllib.parse import urlsplit

from flask import current_app, has_request_context, request, url_for
from werkzeug.exceptions import SecurityError
from werkzeug.wsgi import host_is_trusted

DEFAULT_SITE_URL = "http://127.0.0.1:5000"  # links in mails sent from the CLI without BLOG_SITE_URL


def absolute_url(endpoint: str, **values) -> str:
    """An absolute URL: on BLOG_SITE_URL when set (behind a proxy), else on the request's host.

    The request's host only if it is one of TRUSTED_HOSTS; otherwise, and outside a request (mails
    sent by the CLI), the site URL is the only base.
    """
    base = current_app.config.get("SITE_URL")
    if has_request_context():
        if base:
            return base.rstrip("/") + url_for(endpoint, **values)
        if _request_host_trusted():
            return url_for(endpoint, _external=True, **values)
    return site_url(endpoint, **values)


def _request_host_trusted() -> bool:
    """True if the Host header names one of TRUSTED_HOSTS (an empty list trusts nothing here)."""
    trusted = current_app.config.get("TRUSTED_HOSTS")
    if not trusted:
        return False  # TRUSTED_HOSTS = [] lets Flask answer any Host; links must still not carry it
    try:
        return host_is_trusted(request.host, trusted)
    except SecurityError:  # Flask refused the host already; the error page must not name it
        return False


def site_url(endpoint: str, **values) -> str:
    """An absolute URL on BLOG_SITE_URL only, never on the request's Host header: for mails, where
    a forged Host would otherwise put someone else's domain into a genuine message."""
    base = current_app.config.get("SITE_URL")
    if not base and not current_app.testing:
        current_app.logger.warning("BLOG_SITE_URL is not set: links in mails point to %s", DEFAULT_SITE_URL)
    parts = urlsplit(base or DEFAULT_SITE_URL)
    adapter = current_app.url_map.bind(parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme)
    anchor = values.pop("_anchor", None)
    url = adapter.build(endpoint, values, force_external=True)
    return f"{url}#{anchor}" if anchor else url


def internal_hosts() -> tuple[str, ...]:
    """Hosts whose links count as this site's own (no rel=nofollow)."""
    base = current_app.config.get("SITE_URL")
    return (urlsplit(base).hostname,) if base and urlsplit(base).hostname else ()


def safe_next(target: str | None, fallback: str = "/") -> str:
    """Only ever redirect to a path on this site: no scheme, no host, no '//' or backslash trick."""
    if not target:
        return fallback
    target = target.strip()
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith(("//", "/\\")):
        return fallback
    if any(ord(ch) < 32 for ch in target) or "\\" in target:
        return fallback
    return target


def current_path() -> str:
    """The current path with its query string, for 'come back here' links."""
    return request.full_path.rstrip("?") if request.query_string else request.path
