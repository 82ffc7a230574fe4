"""Security headers on every response, and a warning at start when links would follow the Host header."""
from flask import Flask, Response, current_app, request
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db
from app.urls import DEFAULT_SITE_URL

# Features the blog never uses; denied so an injected script or a framed page cannot ask for them.
# browsing-topics is the successor of FLoC's interest-cohort, which browsers no longer know.
PERMISSIONS_POLICY = ", ".join(f"{feature}=()" for feature in (
    "accelerometer", "browsing-topics", "camera", "display-capture", "geolocation", "gyroscope",
    "magnetometer", "microphone", "payment", "usb",
))
# First path segments of pages that show staff or account data: no browser or proxy may keep them.
PRIVATE_SECTIONS = frozenset({"moderation", "admin", "account", "login", "logout"})


def init_app(app: Flask) -> None:
    """Add the security headers to every response; warn once if BLOG_SITE_URL is missing."""
    if not app.config.get("SITE_URL") and not (app.debug or app.testing):
        app.logger.warning(
            "BLOG_SITE_URL is not set: only the hosts %s are answered (BLOG_TRUSTED_HOSTS), links in pages "
            "and feeds are built on the request's Host and links in mails on %s. Set it to the site's "
            "public address.", ", ".join(app.config.get("TRUSTED_HOSTS") or ["(any)"]), DEFAULT_SITE_URL,
        )
    app.after_request(add_security_headers)


def add_security_headers(response: Response) -> Response:
    """Set the site-wide security headers; a view that set one of its own keeps it."""
    config = current_app.config
    headers = response.headers
    if config.get("CONTENT_SECURITY_POLICY"):
        headers.setdefault("Content-Security-Policy", config["CONTENT_SECURITY_POLICY"])
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("X-Frame-Options", "DENY")  # frame-ancestors for browsers that predate CSP 2
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
    # HSTS over plain HTTP is ignored by browsers and would pin a local test setup to HTTPS.
    if (config.get("SITE_URL") or "").startswith("https://") and config.get("STRICT_TRANSPORT_SECURITY"):
        headers.setdefault("Strict-Transport-Security", config["STRICT_TRANSPORT_SECURITY"])
    if _is_private():
        headers["Cache-Control"] = "no-store"
        response.vary.add("Cookie")
    return response


def _is_private() -> bool:
    """A staff section, or any page answered to someone signed in."""
    if request.path.strip("/").split("/", 1)[0] in PRIVATE_SECTIONS:
        return True
    if request.endpoint in ("static", "images.file"):
        return False  # the same files for everyone: staff browsers may keep the CSS, scripts and uploaded images
    try:
        return current_user.is_authenticated
    except SQLAlchemyError:  # the user could not be loaded (database down): err on the private side
        db.session.rollback()
        return True
