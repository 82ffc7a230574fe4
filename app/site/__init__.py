"""Site-wide routes and template context: health check, language switch, navigation."""
from flask import Blueprint

bp = Blueprint("site", __name__)

from app.site import routes  # noqa: E402,F401  (registers the routes on bp)
