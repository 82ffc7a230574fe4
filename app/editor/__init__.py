"""The bloggers' browser editor: list, write, preview, revisions, preview links (services in app/content/)."""
from flask import Blueprint

bp = Blueprint("editor", __name__, url_prefix="/editor")

from app.editor import routes  # noqa: E402,F401  (registers the routes on bp)
