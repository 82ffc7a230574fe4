"""Reader pages: the home page, posts, categories, tags, authors, the archive and static pages."""
from flask import Blueprint

bp = Blueprint("blog", __name__)

from app.blog import routes  # noqa: E402,F401  (registers the routes on bp)
