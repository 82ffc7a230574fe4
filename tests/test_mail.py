"""The outbox against a real SMTP server: delivery, headers, the .eml fallback, failures and retries."""
import email
import email.policy
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr, parsedate_to_datetime
from pathlib import Path

from sqlalchemy import func, select

from app import mail
from app.extensions import db
from app.models import Comment, CommentStatus, OutboxMail, Subscription, utcnow
from tests.comment_helpers import wrote

SUBJECT = "Grüße aus Köln: „Glasfaser“ für alle – “quotes” & ÄÖÜß"
BODY = "Hallo Jörg,\n\nIhr Kommentar ist veröffentlicht – danke für „Ihre“ Meinung.\n\nGrüße\nDas Sternwelle-Team\n"
UNSUBSCRIBE = {
    "List-Unsubscribe": "<https://blog.example.org/subscriptions/unsubscribe/abc>",
    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
}


def fresh(mail_id: int) -> OutboxMail:
    """The row as stored now (the CLI and requests commit in their own sessions)."""
    db.session.expire_all()
    return db.session.get(OutboxMail, mail_id)


def queued(to="leser@example.org", subject=SUBJECT, body=BODY, headers=None) -> int:
    row = mail.queue(to, subject, body, headers)
    db.session.commit()
    return row.id


def make_due(mail_id: int, minutes: int) -> None:
    """Pretend the mail was created `minutes` ago, so the back-off lets `send-pending` retry it."""
    row = fresh(mail_id)
    row.created_at = utcnow() - timedelta(minutes=minutes)
    db.session.commit()


def send_pending(runner):
    return runner.invoke(args=["mail", "send-pending"])


# --- delivery through SMTP ------------------------------------------------------------------------

def test_queued_mail_is_only_sent_when_delivered_after_the_commit(app, smtp):
    row = mail.queue("leser@example.org", SUBJECT, BODY)
    db.session.commit()
    assert smtp.received == []
    assert fresh(row.id).sent_at is None

    assert mail.deliver([row]) == 1
    assert len(smtp.received) == 1


def test_delivered_mail_has_headers_subject_body_and_is_marked_sent(app, smtp):
    before = datetime.now(UTC).replace(microsecond=0)
    mail_id = queued(headers=UNSUBSCRIBE)

    assert mail.deliver([db.session.get(OutboxMail, mail_id)]) == 1

    [got] = smtp.received
    assert got.mail_from == "blog@sternwelle.example"
    assert got.rcpt_tos == ["leser@example.org"]
    message = got.message
    assert parseaddr(str(message["From"])) == ("Sternwelle Blog", "blog@sternwelle.example")
    assert str(message["To"]) == "leser@example.org"
    assert got.subject == SUBJECT  # umlauts, dashes and both kinds of quotes survive the trip
    raw_subject = next(line for line in bytes(message).split(b"\n") if line.startswith(b"Subject:"))
    assert b"=?utf-8?" in raw_subject.lower()  # encoded per RFC 2047, not raw 8-bit
    message_id = str(message["Message-ID"]).strip()  # a long id may be folded onto its own line
    assert message_id.startswith("<") and message_id.endswith("@sternwelle.example>")
    assert f"outbox-{mail_id}" in message_id
    sent_at = parsedate_to_datetime(str(message["Date"]))
    if sent_at.tzinfo is None:  # "-0000": UTC, local zone not given (RFC 5322 3.3)
        sent_at = sent_at.replace(tzinfo=UTC)
    assert before <= sent_at <= datetime.now(UTC) + timedelta(seconds=1)
    assert str(message["Auto-Submitted"]) == "auto-generated"
    assert str(message["List-Unsubscribe"]) == "<https://blog.example.org/subscriptions/unsubscribe/abc>"
    assert str(message["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click"
    assert message.get_content_type() == "text/plain"
    assert message.get_content_charset() == "utf-8"
    assert got.body == BODY

    row = fresh(mail_id)
    assert row.sent_at is not None and row.attempts == 1 and row.last_error == ""


def test_no_list_unsubscribe_headers_unless_given(app, smtp):
    mail.deliver([db.session.get(OutboxMail, queued())])
    [got] = smtp.received
    assert got.message["List-Unsubscribe"] is None
    assert got.message["List-Unsubscribe-Post"] is None


def test_each_mail_gets_its_own_message_id(app, smtp):
    ids = [queued(to=f"leser{n}@example.org") for n in range(2)]
    assert mail.deliver([db.session.get(OutboxMail, i) for i in ids]) == 2
    assert [r.rcpt_tos for r in smtp.received] == [["leser0@example.org"], ["leser1@example.org"]]
    assert len({str(r.message["Message-ID"]) for r in smtp.received}) == 2


# --- without MAIL_SERVER: .eml files ----------------------------------------------------------------

def test_without_mail_server_the_mail_is_written_as_eml_file(app):
    assert not app.config.get("MAIL_SERVER")
    mail_id = queued(headers=UNSUBSCRIBE)

    assert mail.deliver([db.session.get(OutboxMail, mail_id)]) == 1

    outbox = mail.outbox_dir()
    assert outbox == Path(app.config["DATA_DIR"]) / "outbox"
    files = sorted(outbox.iterdir())
    assert len(files) == 1 and files[0].suffix == ".eml"  # no temp file left behind
    message = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert str(message["To"]) == "leser@example.org"
    assert str(message["Subject"]) == SUBJECT
    assert f"outbox-{mail_id}" in str(message["Message-ID"])
    assert str(message["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click"
    assert message.get_content() == BODY
    row = fresh(mail_id)
    assert row.sent_at is not None and row.attempts == 1 and row.last_error == ""


# A real unsubscribe link: the signed token makes the line longer than 78 characters.
LONG_UNSUBSCRIBE = ("<https://blog.sternwelle.example/subscriptions/unsubscribe/"
                    "eyJzIjo0MjEsImEiOiJ1bnN1YnNjcmliZSJ9.Xq3vJ8c1yZ0kq9Wm2bS7nRtLpAaE4fHgUiOoPd6lK0s>")


def raw_header(data: bytes, name: bytes) -> bytes:
    """A header's value exactly as written, continuation lines included (line ends as "\\n")."""
    lines = data.replace(b"\r\n", b"\n").split(b"\n")
    start = next(i for i, line in enumerate(lines) if line.lower().startswith(name.lower() + b":"))
    value = [lines[start][len(name) + 1:]]
    for line in lines[start + 1:]:
        if line[:1] not in (b" ", b"\t"):
            break
        value.append(line)
    return b"\n".join(value).strip()


def test_a_long_list_unsubscribe_goes_out_plain_not_rfc2047_encoded(app, smtp):
    """Mail clients ignore an encoded List-Unsubscribe (=?utf-8?q?<https…?=)."""
    headers = {**UNSUBSCRIBE, "List-Unsubscribe": LONG_UNSUBSCRIBE}
    assert len("List-Unsubscribe: " + LONG_UNSUBSCRIBE) > 78
    built = bytes(mail.build_message(db.session.get(OutboxMail, queued(headers=headers))))
    for raw in (raw_header(built, b"List-Unsubscribe"), raw_header(built, b"List-Unsubscribe-Post")):
        assert b"=?" not in raw and raw.isascii()
    assert raw_header(built, b"List-Unsubscribe") == LONG_UNSUBSCRIBE.encode()
    assert b"=?utf-8?" in raw_header(built, b"Subject").lower()  # other headers are still encoded where needed

    mail.deliver([db.session.get(OutboxMail, queued(headers=headers))])
    [got] = smtp.received
    sent = dict(got.message.raw_items())["List-Unsubscribe"]  # as it came over the wire, not decoded
    assert sent.startswith("<http") and "=?" not in sent
    assert str(got.message["List-Unsubscribe"]) == LONG_UNSUBSCRIBE

    app.config["MAIL_SERVER"] = None
    mail.deliver([db.session.get(OutboxMail, queued(headers=headers))])
    [eml] = mail.outbox_dir().glob("*.eml")
    on_disk = raw_header(eml.read_bytes(), b"List-Unsubscribe")
    assert on_disk.startswith(b"<http") and b"=?" not in on_disk
    assert str(email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)["List-Unsubscribe"]) == \
        LONG_UNSUBSCRIBE


def test_several_unsubscribe_urls_are_folded_at_whitespace_only(app):
    value = f"{LONG_UNSUBSCRIBE}, <mailto:unsubscribe@sternwelle.example?subject=unsubscribe>"
    built = bytes(mail.build_message(db.session.get(OutboxMail, queued(headers={"List-Unsubscribe": value}))))
    raw = raw_header(built, b"List-Unsubscribe")
    assert raw == (LONG_UNSUBSCRIBE + ",\n <mailto:unsubscribe@sternwelle.example?subject=unsubscribe>").encode()
    assert b"=?" not in raw

# --- server down, retries -------------------------------------------------------------------------

def test_deliver_with_server_down_does_not_raise_and_keeps_the_mail(app, dead_port):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=dead_port)
    mail_id = queued()

    assert mail.deliver([db.session.get(OutboxMail, mail_id)]) == 0

    row = fresh(mail_id)
    assert row.sent_at is None
    assert row.attempts == 1
    assert "ConnectionRefusedError" in row.last_error


def test_after_a_failure_requests_stop_waiting_for_the_mail_server(app, runner, smtp, dead_port):
    """A bulk approval while SMTP hangs must not wait MAIL_TIMEOUT per mail: after one failure,
    new mail stays in the outbox for `mail send-pending` for a minute."""
    good_port = app.config["MAIL_PORT"]
    app.config.update(MAIL_PORT=dead_port)
    first, second = queued(to="a@example.org"), queued(to="b@example.org")
    assert mail.deliver([db.session.get(OutboxMail, first)]) == 0
    assert mail.deliver([db.session.get(OutboxMail, second)]) == 0
    assert fresh(first).attempts == 1 and fresh(second).attempts == 0  # not even tried
    app.config.update(MAIL_PORT=good_port)
    assert runner.invoke(args=["mail", "send-pending"]).exit_code == 0  # the retry path ignores the pause
    assert fresh(second).sent_at is not None


def test_send_pending_retries_after_the_back_off_once_the_server_is_up(app, runner, smtp, dead_port):
    app.config.update(MAIL_PORT=dead_port)  # the server is "down"
    mail_id = queued()
    mail.deliver([db.session.get(OutboxMail, mail_id)])
    assert fresh(mail_id).attempts == 1

    # Tried a moment ago: not due yet (2 minutes after the first try), nothing happens.
    app.config.update(MAIL_PORT=smtp.port)
    result = send_pending(runner)
    assert result.exit_code == 0, result.output
    assert "Sent 0 mail(s); 0 failed" in result.output
    assert smtp.received == [] and fresh(mail_id).attempts == 1

    make_due(mail_id, minutes=3)
    result = send_pending(runner)
    assert result.exit_code == 0, result.output
    assert "Sent 1 mail(s); 0 failed" in result.output
    [got] = smtp.received
    assert got.rcpt_tos == ["leser@example.org"] and got.subject == SUBJECT
    row = fresh(mail_id)
    assert row.sent_at is not None and row.attempts == 2 and row.last_error == ""

    # Sent mails are never sent again.
    make_due(mail_id, minutes=60)
    assert send_pending(runner).exit_code == 0
    assert len(smtp.received) == 1


def test_send_pending_with_server_still_down_fails_and_counts_attempts(app, runner, dead_port):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=dead_port)
    mail_id = queued()
    mail.deliver([db.session.get(OutboxMail, mail_id)])

    make_due(mail_id, minutes=3)  # 2**1 minutes have passed
    result = send_pending(runner)
    assert result.exit_code == 1
    assert "Sent 0 mail(s); 1 failed" in result.output
    row = fresh(mail_id)
    assert row.attempts == 2 and row.sent_at is None and "ConnectionRefusedError" in row.last_error

    # Only 3 of the 2**2 = 4 minutes have passed: waits.
    assert send_pending(runner).exit_code == 0
    assert fresh(mail_id).attempts == 2

    make_due(mail_id, minutes=5)
    assert send_pending(runner).exit_code == 1
    assert fresh(mail_id).attempts == 3


def test_mails_at_max_attempts_are_not_retried(app, runner, smtp):
    limit = app.config["MAIL_MAX_ATTEMPTS"]
    given_up = queued(to="aufgegeben@example.org")
    last_try = queued(to="letzter-versuch@example.org")
    for mail_id, attempts in ((given_up, limit), (last_try, limit - 1)):
        row = db.session.get(OutboxMail, mail_id)
        row.attempts = attempts
        row.last_error = "ConnectionRefusedError: [Errno 111] Connection refused"
        row.created_at = utcnow() - timedelta(days=30)
    db.session.commit()

    result = send_pending(runner)

    assert result.exit_code == 0, result.output
    assert [r.rcpt_tos for r in smtp.received] == [["letzter-versuch@example.org"]]
    assert fresh(given_up).sent_at is None and fresh(given_up).attempts == limit
    assert fresh(last_try).sent_at is not None and fresh(last_try).attempts == limit


def test_a_mail_that_cannot_be_built_does_not_block_the_outbox(app, runner, smtp):
    # A row the email library refuses (here: a header with a line break, stored directly as an
    # older version could have queued it; `mail.queue` now folds subjects onto one line).
    row = OutboxMail(to="anna@example.org", subject="Ihr Kommentar zu „Zeile eins\nZeile zwei“", body=BODY)
    db.session.add(row)
    db.session.commit()
    broken = row.id
    good = queued(to="ben@example.org")

    assert mail.deliver([db.session.get(OutboxMail, i) for i in (broken, good)]) == 1  # never raises
    assert [r.rcpt_tos for r in smtp.received] == [["ben@example.org"]]
    smtp.clear()
    later = queued(to="carl@example.org")
    make_due(broken, minutes=60)

    result = send_pending(runner)

    # The cron job must not crash on it for ever (and hold up every mail queued after it):
    # the broken mail counts as a failed attempt, the others go out.
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert [r.rcpt_tos for r in smtp.received] == [["carl@example.org"]]
    assert fresh(later).sent_at is not None
    row = fresh(broken)
    assert row.sent_at is None and row.attempts >= 1 and row.last_error


def test_queue_folds_the_subject_onto_one_line_and_caps_it(app, smtp):
    mail_id = queued(subject="Ihr Kommentar zu „Zeile eins\nZeile zwei“ " + "x" * 400)
    row = fresh(mail_id)
    assert "\n" not in row.subject and len(row.subject) == 300 and row.subject.endswith("…")
    assert mail.deliver([row]) == 1


# --- a mail failure never loses the comment --------------------------------------------------------

def test_comment_is_stored_while_the_smtp_server_is_down(app, client, runner, make, smtp, dead_port):
    post = make.post("Störung im Netz")
    # Anna's comment is published and she confirmed notifications about answers.
    anna = Comment(post_id=post.id, author_name="Anna", author_email="anna@example.org", body_md="Erste!",
                   body_html="<p>Erste!</p>", status=CommentStatus.APPROVED, approved_at=utcnow())
    # Ben had a comment approved before, so his next one is published at once (and mails go out).
    ben_before = Comment(post_id=post.id, author_name="Ben", author_email="ben@example.org", body_md="Früher.",
                         body_html="<p>Früher.</p>", status=CommentStatus.APPROVED, approved_at=utcnow())
    db.session.add_all([anna, ben_before])
    db.session.flush()
    anna.root_id, ben_before.root_id = anna.id, ben_before.id
    db.session.add(Subscription(email="anna@example.org", comment_id=anna.id, lang="de", confirmed_at=utcnow(),
                                confirmation_sent_at=utcnow()))
    db.session.commit()
    anna_id = anna.id
    wrote(client, app, ben_before)  # Ben writes from the browser his approved comment came from
    app.config.update(MAIL_PORT=dead_port)  # the mail server is down

    response = client.post(f"/posts/{post.slug}/comments", data={
        "name": "Ben", "email": "ben@example.org", "body": "Ich antworte trotz Störung.",
        "consent": "y", "notify": "y", "parent_id": str(anna_id),
    })

    assert response.status_code == 302
    assert f"/posts/{post.slug}" in response.headers["Location"]
    db.session.expire_all()
    reply = db.session.scalar(select(Comment).where(Comment.body_md == "Ich antworte trotz Störung."))
    assert reply is not None and reply.status == CommentStatus.APPROVED and reply.parent_id == anna_id
    assert db.session.scalar(select(func.count()).select_from(Subscription)
                             .where(Subscription.comment_id == reply.id)) == 1
    unsent = db.session.scalars(select(OutboxMail).order_by(OutboxMail.id)).all()
    assert sorted(m.to for m in unsent) == ["anna@example.org", "ben@example.org"]  # reply notice, Ben's opt-in
    # The first one failed; the other waits for the pause instead of another timeout.
    assert all(m.sent_at is None for m in unsent) and [m.attempts for m in unsent] == [1, 0]
    assert unsent[0].last_error and smtp.received == []

    # The server is back: the cron job sends both.
    app.config.update(MAIL_PORT=smtp.port)
    for m in unsent:
        make_due(m.id, minutes=3)
    result = send_pending(runner)
    assert result.exit_code == 0, result.output
    assert sorted(r.rcpt_tos[0] for r in smtp.received) == ["anna@example.org", "ben@example.org"]
