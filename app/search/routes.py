"""The reader search page: `/search?q=…&kind=…&category=…&sort=…&page=…` (thin: parse, search, render)."""
from flask import Blueprint, render_template, request
from flask_babel import lazy_gettext as _l

from app.i18n import current_language
from app.search import index
from app.search.settings import setting

bp = Blueprint("search", __name__)

KIND_LABELS = {"all": _l("Posts and comments"), "posts": _l("Posts"), "comments": _l("Comments"),
               "official": _l("Official answers")}
SORT_LABELS = {"relevance": _l("Best match"), "date": _l("Newest first")}


@bp.get("/search")
def results():
    """Search what readers may see. Answers 503 (with the page) while the index is being rebuilt."""
    args = request.args
    found = index.search(
        args.get("q", ""), kind=args.get("kind", "all"), category=args.get("category") or None,
        sort=args.get("sort", "relevance"), page=args.get("page", 1, type=int),
        per_page=setting("SEARCH_PER_PAGE"), lang=current_language(),
    )
    page = render_template("search/results.html", results=found, kind_labels=KIND_LABELS, sort_labels=SORT_LABELS)
    if found.unavailable:
        return page, 503, {"Retry-After": "120"}
    return page
