"""The transactional outbox: side effects follow the commit, survive a crash, never make anyone wait."""
import contextlib
import socket
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from app import mail, outbox
from app.extensions import db
from app.models import Comment, CommentStatus, OutboxMail, OutboxTask, utcnow
from app.moderation import service
from app.search import index
from tests.comment_helpers import add_comment, post_comment
from tests.moderation_helpers import moderator

P = CommentStatus.PENDING

pytestmark = pytest.mark.post("Störungen erklärt", slug="stoerungen")


@pytest.fixture
def search_app(app):
    app.config["SEARCH_REBUILD_PROCESSES"] = 1
    index.rebuild()
    yield app
    index.close()


def test_a_change_committed_just_before_a_crash_is_indexed_by_the_drainer(search_app, post, make):
    """Before: a comment committed just before `kill -9` was never indexed, and nothing said so."""
    anna = moderator(make)
    comment = add_comment(post, status=P, body="Der Quarzresonator summt")
    # The change and its task commit together; the process dies before settling them.
    service.transition(comment, "approve", actor=anna, commit=False)
    db.session.commit()
    db.session.info.clear()  # what the dead process knew is gone
    assert index.search("Quarzresonator").total == 0
    assert outbox.pending() == 1  # and it is visible as queued work (`outbox status`, `search status`)
    assert outbox.drain().tasks == 1
    assert index.search("Quarzresonator").total == 1 and outbox.pending() == 0


def test_a_request_applies_its_own_urgent_tasks_before_it_answers(search_app, client, post, make):
    anna = moderator(make, client)
    comment = add_comment(post, status=P, body="Die Glasfaserweiche klemmt")
    client.drain = False  # no drainer: only the request itself
    response = client.post(f"/moderation/comments/{comment.id}/approve", data={"expected": "pending"})
    assert response.status_code == 302
    assert index.search("Glasfaserweiche").total == 1  # the moderator sees the change at once
    assert outbox.pending() == 0 and anna


def test_a_new_pending_comment_leaves_its_index_work_to_the_drainer(search_app, client, post):
    client.drain = False
    assert post_comment(client, "stoerungen", body="Mein Zwischenstecker blinkt").status_code == 302
    assert outbox.pending() == 1  # staff index only: the request does not wait for it
    outbox.drain()
    assert index.staff_search("Zwischenstecker").total == 1 and index.search("Zwischenstecker").total == 0


@pytest.fixture
def silent_smtp():
    """A server that accepts connections and then says nothing, ever (the mail outage of the review)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held, stop = [], threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            with contextlib.suppress(OSError):
                held.append(server.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(2)
    for conn in held:
        conn.close()
    server.close()


def test_an_approval_never_waits_for_a_silent_mail_server(app, client, post, make, silent_smtp):
    from app.models import Subscription

    # No undo window: the approval's mail is due at once (else it waits out UNDO_SECONDS first).
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=silent_smtp, MAIL_TIMEOUT=3, UNDO_SECONDS=0)
    moderator(make, client)
    comment = add_comment(post, status=P, email="petra@example.org")
    db.session.add(Subscription(email="petra@example.org", comment_id=comment.id, confirmed_at=utcnow()))
    db.session.commit()
    client.drain = False
    started = time.perf_counter()
    response = client.post(f"/moderation/comments/{comment.id}/approve", data={"expected": "pending"})
    assert response.status_code == 302
    assert time.perf_counter() - started < 1.5  # before: 10 s (the SMTP timeout) inside the request
    assert db.session.scalar(select(OutboxMail.sent_at)) is None  # the mail waits in the outbox …
    started = time.perf_counter()
    assert outbox.drain().mails_failed == 1  # … and the drainer, not the moderator, waits for the server
    assert time.perf_counter() - started >= 2.5


def test_a_mail_interrupted_while_sending_is_not_sent_again_by_itself(app, runner, smtp):
    row = mail.queue("anna@example.org", "Antwort", "Hallo")
    db.session.commit()
    # A process claimed it and died mid-send: it may or may not have arrived.
    row.sending_since = utcnow() - timedelta(minutes=10)
    db.session.commit()
    assert runner.invoke(args=["mail", "send-pending"]).exit_code == 0
    db.session.expire_all()
    assert smtp.received == [] and db.session.get(OutboxMail, row.id).last_error == mail.INTERRUPTED
    assert runner.invoke(args=["mail", "send-pending", "--retry-interrupted"]).exit_code == 0
    assert [r.rcpt_tos for r in smtp.received] == [["anna@example.org"]]


def test_a_claimed_mail_is_sent_by_one_process_only(app, smtp):
    row = mail.queue("anna@example.org", "Antwort", "Hallo")
    db.session.commit()
    row.sending_since = utcnow()  # another process is sending it right now
    db.session.commit()
    assert mail.send_due() == (0, 0) and smtp.received == []


def test_outbox_tasks_are_claimed_with_a_lease(app, post):
    comment = add_comment(post, status=P)
    outbox.index(comments=[comment.id])
    db.session.commit()
    (task,) = db.session.scalars(select(OutboxTask)).all()
    task.lease_until = utcnow() + timedelta(seconds=30)  # another drainer holds it
    db.session.commit()
    assert outbox.drain().tasks == 0
    task.lease_until = utcnow() - timedelta(seconds=1)  # it died: the lease ran out
    db.session.commit()
    assert outbox.drain().tasks == 1


def test_the_drain_command_and_status(app, runner, post):
    comment = add_comment(post, status=P)
    outbox.index(comments=[comment.id], urgent=False)
    db.session.commit()
    assert "1 index task(s)" in runner.invoke(args=["outbox", "status"]).output
    assert "Applied 1 index task(s)" in runner.invoke(args=["outbox", "drain"]).output
    assert db.session.scalar(select(Comment.id)) == comment.id
