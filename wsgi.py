"""Entry point for `gunicorn wsgi:app` and `flask --app wsgi`."""
import gc

from app import create_app

app = create_app()
# What the app made at start lives as long as the process: kept out of the collector's full
# passes, which otherwise stop a request for tens of milliseconds now and then (the queue's p99).
gc.freeze()
