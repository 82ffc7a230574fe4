"""The ceiling for bench/run.py: a minimal Flask app, one route answering a static 10 KB HTML page.

    gunicorn -w 2 -b 127.0.0.1:PORT bench.ceiling:app        (from the project root)

Served under the same gunicorn settings and loaded the same way as Dialog, it shows what this
machine, gunicorn and Flask can do at all; bench/run.py prints every figure as a share of it.
"""
from flask import Flask

SIZE = 10 * 1024


def page(size: int = SIZE) -> bytes:
    """A plain HTML document of exactly `size` bytes."""
    head = b"<!doctype html>\n<html lang=\"de\"><head><meta charset=\"utf-8\"><title>Ceiling</title></head><body>\n"
    tail = b"</body></html>\n"
    paragraph = b"<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.</p>\n"
    room = size - len(head) - len(tail)
    body = paragraph * (room // len(paragraph))
    return head + body + b" " * (room - len(body)) + tail


PAGE = page()
app = Flask(__name__)


@app.get("/")
def index():
    return PAGE, 200, {"Content-Type": "text/html; charset=utf-8"}
