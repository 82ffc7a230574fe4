"""Full-text search (issue 5): the reader page `/search`, staff search and similar answered comments.

`index.py` is the engine (the only Whoosh importer), `documents.py` reads what goes in from the
database, `routes.py` is the page. The blueprint is in `routes.py` (`bp`), so importing this
package does not import Flask routes or Whoosh.
"""
