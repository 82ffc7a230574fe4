"""Machine-readable views of the blog: Atom feeds, sitemap.xml, robots.txt."""
from flask import Blueprint

bp = Blueprint("feeds", __name__)

from app.feeds import routes  # noqa: E402,F401  (registers the routes on bp)
