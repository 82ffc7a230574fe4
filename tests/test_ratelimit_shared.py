"""The rate limits hold across gunicorn workers (issue 11): the user's reproduction on real processes.

With Flask-Limiter's memory store each worker counted on its own, and two workers let 9 of 14 quick
comments through a five-per-minute limit. Both stores the app can count in are tried: the file all
workers of the machine share (the default) and Redis (`BLOG_REDIS_URL`). The access log names the
worker that answered, so the tests also show that both workers took part.
"""
import http.client
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

import pytest
from sqlalchemy import create_engine, text

from tests import databases
from tests.smtp import free_port

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
COMMENTS = 14
LOGINS = 8


@pytest.fixture(scope="module", params=["shared-file", "redis"])
def site(request, tmp_path_factory):
    """gunicorn with two workers on a fresh site; yields (port, database URL, access log)."""
    data_dir = tmp_path_factory.mktemp(f"site-{request.param}")
    port = free_port()
    database_url = databases.fresh_url() or f"sqlite:///{data_dir / 'dialog.db'}"
    env = {key: value for key, value in os.environ.items() if not key.startswith("BLOG_")}
    env.update(BLOG_DATA_DIR=str(data_dir), BLOG_SECRET_KEY="ratelimit-test-secret", BLOG_DATABASE_URL=database_url,
               BLOG_SITE_URL=f"http://127.0.0.1:{port}", BLOG_WTF_CSRF_ENABLED="false", BLOG_COMMENT_MIN_SECONDS="0",
               BLOG_COMMENT_RATE_LIMIT="5 per minute", BLOG_LOGIN_RATE_LIMIT_CLIENT="3 per minute")
    if request.param == "redis":
        env.update(BLOG_REDIS_URL=request.getfixturevalue("redis_url"), BLOG_REDIS_PREFIX=f"site-{uuid.uuid4().hex}")
    flask = [str(BIN / "flask"), "--app", "wsgi"]
    for args in (["db", "upgrade"], ["posts", "import"]):
        subprocess.run([*flask, *args], env=env, cwd=ROOT, check=True, capture_output=True, timeout=120)
    access_log = data_dir / "access.log"
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}", "--log-level", "error",
         "--access-logfile", str(access_log), "--access-logformat", "%(p)s %(m)s %(U)s %(s)s", "wsgi:app"],
        env=env, cwd=ROOT)
    try:
        deadline = time.monotonic() + 30
        while not _answers(port):
            assert server.poll() is None and time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.1)
        yield port, database_url, access_log
    finally:
        server.terminate()
        server.wait(timeout=20)
        create_engine(database_url).dispose()


def _answers(port: int) -> bool:
    try:
        return request(port, "GET", "/healthz")[0] == 200
    except OSError:
        return False


def request(port: int, method: str, path: str, form: dict | None = None) -> tuple[int, str]:
    """One request on a connection of its own (any worker may take it); redirects are not followed."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        body = urlencode(form) if form is not None else None
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if form is not None else {}
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


def requests_on_both_workers(port: int, method: str, path: str, forms: list[dict]) -> list[tuple[int, str]]:
    """Each form sent as a request, the first two at once: the first is held half-sent (a sync worker
    waits for the rest of it) until the second, which only the other worker can take, is answered.
    So both workers answer, whatever order the kernel would hand connections out in."""
    held = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        body = urlencode(forms[0]).encode()
        head = (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n"
                f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n\r\n")
        raw = head.encode() + body
        held.sendall(raw[:20])
        time.sleep(0.3)  # the worker that accepted it now waits for the rest
        second = request(port, method, path, forms[1])
        held.sendall(raw[20:])
        answer = http.client.HTTPResponse(held)
        answer.begin()
        first = (answer.status, answer.read().decode())
    finally:
        held.close()
    return [first, second, *(request(port, method, path, form) for form in forms[2:])]


def scalar(database_url: str, sql: str):
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql)).scalar()
    finally:
        engine.dispose()


def workers_that_answered(access_log: Path, path: str) -> set[str]:
    time.sleep(0.2)  # gunicorn writes the line after the response
    lines = access_log.read_text().splitlines()
    return {line.split()[0] for line in lines if line.split()[1:3] == ["POST", path]}


def test_five_of_fourteen_quick_comments_are_stored_whichever_worker_answers(site):
    port, database_url, access_log = site
    slug = scalar(database_url, "SELECT slug FROM posts WHERE status = 'published' AND comments_open "
                                "ORDER BY published_at DESC LIMIT 1")
    answers = requests_on_both_workers(port, "POST", f"/posts/{slug}/comments", [{
        "name": "Eilige Leserin", "email": "eilig@example.org", "consent": "y",
        "body": f"Kommentar Nummer {n} zum Glasfaserausbau in Kleinwellingen"} for n in range(COMMENTS)])

    assert [status for status, _ in answers] == [302] * 5 + [429] * (COMMENTS - 5)
    assert scalar(database_url, "SELECT count(*) FROM comments") == 5
    for n, (_, page) in enumerate(answers[5:], start=5):  # the form again, with the reader's text in it
        assert "Bitte warten Sie eine Minute" in page and f"Kommentar Nummer {n} zum" in page
        assert re.search(r'<textarea[^>]*name="body"', page)
    assert len(workers_that_answered(access_log, f"/posts/{slug}/comments")) == 2


def test_failed_logins_beyond_the_client_limit_are_refused_by_every_worker(site):
    port, _, access_log = site
    # Another name each time: the per-account limit never applies, only the client's (3 per minute).
    statuses = [status for status, _ in requests_on_both_workers(
        port, "POST", "/login", [{"username": f"niemand{n}", "password": "falsch"} for n in range(LOGINS)])]
    assert statuses == [400] * 3 + [429] * (LOGINS - 3)
    assert len(workers_that_answered(access_log, "/login")) == 2
