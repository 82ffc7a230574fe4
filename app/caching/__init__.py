"""Caching: the page cache for anonymous readers (`pages.py`, stores in `stores.py`, invalidation
by the ORM session in `invalidation.py`) and HTTP caching for every response (`http.py`: ETag and
304, gzip, fingerprinted static files). See docs/ARCHITECTURE.md, "Caching"."""
from flask import Flask


def init_app(app: Flask) -> None:
    from app.caching import http, invalidation, pages  # noqa: F401  (invalidation: its listeners)

    http.init_app(app)
    pages.init_app(app)
