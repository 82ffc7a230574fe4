"""The outbox across real processes: a change committed by a process killed with SIGKILL before it
could index or mail is applied by the drainer thread of gunicorn workers started afterwards.

This is the production path (`OUTBOX_DRAINER = "thread"`, the default), which the in-process tests
switch off to drain in step with the test client.
"""
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests import databases
from tests.smtp import SMTPServer, free_port

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

# Run in a child process: approve a pending comment and queue a mail, commit, die at once.
DIE_AFTER_COMMIT = r"""
import os, signal, sys
sys.path.insert(0, os.getcwd())
from app import create_app, mail
from app.extensions import db
from app.models import Comment, CommentStatus, Post
from app.moderation import service
from app import markup

app = create_app()
with app.app_context():
    post = db.session.scalars(db.select(Post).where(Post.status == "published").limit(1)).one()
    body = "Der Quarzresonator im Router summt"
    comment = Comment(post_id=post.id, depth=0, author_name="Leser", author_email="leser@example.org",
                      body_md=body, body_html=markup.render_comment(body), status=CommentStatus.PENDING)
    db.session.add(comment)
    db.session.flush()
    comment.root_id = comment.id
    service.transition(comment, "approve", commit=False)
    mail.queue("leser@example.org", "Ihr Kommentar ist freigeschaltet", "Danke!", comment_id=comment.id)
    db.session.commit()
    os.kill(os.getpid(), signal.SIGKILL)  # before settle(): nothing indexed, nothing sent
"""


@pytest.fixture
def site(tmp_path):
    smtp = SMTPServer()
    smtp.start()
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("BLOG_")}
    env.update(BLOG_DATA_DIR=str(tmp_path), BLOG_SECRET_KEY="drainer-test-secret",
               BLOG_SITE_URL=f"http://127.0.0.1:{port}", BLOG_MAIL_SERVER=smtp.host, BLOG_MAIL_PORT=str(smtp.port),
               BLOG_MAIL_SENDER="blog@example.org", BLOG_OUTBOX_POLL_SECONDS="0.2")
    database = databases.fresh_url()  # the PostgreSQL pass: a database of its own
    if database:
        env["BLOG_DATABASE_URL"] = database
    flask = [str(BIN / "flask"), "--app", "wsgi"]
    for args in (["db", "upgrade"], ["posts", "import"], ["search", "rebuild"]):
        subprocess.run([*flask, *args], env=env, cwd=ROOT, check=True, capture_output=True, timeout=120)
    try:
        yield env, flask, port, smtp
    finally:
        smtp.stop()


def wait_for(predicate, seconds=15.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode()


def test_work_committed_by_a_killed_process_is_done_by_the_app_servers_drainer(site):
    env, flask, port, smtp = site
    died = subprocess.run([sys.executable, "-c", DIE_AFTER_COMMIT], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert died.returncode == -signal.SIGKILL, died.stderr
    status = subprocess.run([*flask, "outbox", "status"], env=env, cwd=ROOT, capture_output=True, text=True,
                            check=True, timeout=60)
    assert "1 index task(s) and 1 unsent mail(s) waiting" in status.stdout  # the work is there, and says so

    server = subprocess.Popen([str(BIN / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}", "--log-level", "error",
                               "wsgi:app"], env=env, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        assert wait_for(lambda: _answers(base + "/healthz")), "gunicorn did not start"
        # No request touched the comment: the drainer thread of a worker indexes it and sends the mail.
        assert wait_for(lambda: "summt" in get(base + "/search?q=Quarzresonator")), \
            "the approved comment never became findable"
        assert wait_for(lambda: len(smtp.to("leser@example.org")) == 1)
        time.sleep(1)  # another round of both workers' drainers: sent once, not once per worker
        assert len(smtp.to("leser@example.org")) == 1
    finally:
        server.terminate()
        server.wait(timeout=20)
    status = subprocess.run([*flask, "outbox", "status"], env=env, cwd=ROOT, capture_output=True, text=True,
                            check=True, timeout=60)
    assert "0 index task(s) and 0 unsent mail(s) waiting" in status.stdout


def _answers(url: str) -> bool:
    try:
        get(url)
        return True
    except OSError:
        return False
