"""Outgoing mail through a stored outbox: the only module that talks SMTP.

Mails are queued as rows in the same transaction as what caused them and sent by the outbox's
drainer (`app/outbox.py`, a thread in each app server process), never inside a request: no one
waits for a mail server. Failures are retried with a growing pause; `flask mail send-pending`
sends what is due by hand or from cron. A mail is claimed before it is sent, so two processes
never send it twice, and one interrupted mid-send is not repeated by itself (it may have
arrived). Without MAIL_SERVER each message is written as an .eml file to DATA_DIR/outbox/.
"""
import email.policy
import logging
import os
import re
import smtplib
import ssl
import sys
import time
from collections.abc import Iterable
from datetime import timedelta
from email.headerregistry import HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path

from flask import current_app
from sqlalchemy import or_, select, update

from app.extensions import db
from app.models import OutboxMail, utcnow

log = logging.getLogger(__name__)


SUBJECT_MAX = 300
QUEUED = "dialog.mail_queued"


def queue(to: str, subject: str, body: str, headers: dict | None = None, *,
          comment_id: int | None = None) -> OutboxMail:
    """Add a message to the outbox (the caller commits, then calls `deliver`); `comment_id`: the comment it quotes."""
    subject = " ".join(subject.split())  # one line: a title with a line break must not break the header
    if len(subject) > SUBJECT_MAX:
        subject = subject[:SUBJECT_MAX - 1].rstrip() + "…"
    mail = OutboxMail(to=to, subject=subject, body=body, headers=headers or {}, comment_id=comment_id)
    db.session.add(mail)
    db.session.info[QUEUED] = True  # after the commit, the outbox wakes its drainer to send it
    return mail


# When the mail server just failed, sending pauses for a minute instead of waiting up to
# MAIL_TIMEOUT again for every mail; the mails stay in the outbox. Kept per app (and so per process).
PAUSE_AFTER_FAILURE = 60.0
_FAILED_AT = "dialog.mail_failed_at"
INTERRUPTED = "interrupted while sending: it may have been delivered, so it is not sent again by itself"


def deliver(mails: list[OutboxMail]) -> int:
    """Send these just-committed messages now (commands that run without the drainer, such as the
    digest). Failures stay in the outbox. Never raises."""
    if _paused():
        return 0
    return _send([m.id for m in mails if m.id is not None])[0]


def _paused() -> bool:
    failed_at = current_app.extensions.get(_FAILED_AT)
    return failed_at is not None and time.monotonic() - failed_at < PAUSE_AFTER_FAILURE


def send_due(limit: int = 500, *, retry_interrupted: bool = False) -> tuple[int, int]:
    """Send what is due: unsent, under the attempt limit, past its back-off (2, 4, 8 … minutes after
    each failure), oldest first. Returns (sent, failed). The drainer and `mail send-pending` call it."""
    if _paused():
        return 0, 0
    now = utcnow()
    _mark_interrupted(now, retry=retry_interrupted)
    candidates = db.session.scalars(
        select(OutboxMail).where(OutboxMail.sent_at.is_(None), OutboxMail.sending_since.is_(None),
                                 OutboxMail.attempts < current_app.config["MAIL_MAX_ATTEMPTS"],
                                 or_(OutboxMail.not_before.is_(None), OutboxMail.not_before <= now))
        .order_by(OutboxMail.id).limit(limit)
    ).all()
    due = [m.id for m in candidates
           if not m.attempts or m.created_at + timedelta(minutes=2 ** m.attempts) <= now]
    return _send(due)


def send_pending(limit: int = 500, *, retry_interrupted: bool = False) -> tuple[int, int]:
    """`flask mail send-pending`: the same as the drainer's sending, for cron or by hand."""
    current_app.extensions[_FAILED_AT] = None  # asked for explicitly: try now
    return send_due(limit, retry_interrupted=retry_interrupted)


def _mark_interrupted(now, *, retry: bool) -> None:
    """A send that started long ago and never finished (the process died mid-send) may have
    reached the server: it is marked, not repeated, unless asked to (`retry`)."""
    stale = now - timedelta(seconds=3 * float(current_app.config["MAIL_TIMEOUT"]) + 30)
    stuck = (OutboxMail.sent_at.is_(None), OutboxMail.sending_since.is_not(None), OutboxMail.sending_since < stale)
    if retry:
        db.session.execute(update(OutboxMail).where(*stuck).values(sending_since=None)
                           .execution_options(synchronize_session=False))
        db.session.execute(update(OutboxMail).where(OutboxMail.sent_at.is_(None), OutboxMail.last_error == INTERRUPTED)
                           .values(attempts=0, last_error="").execution_options(synchronize_session=False))
    else:
        db.session.execute(update(OutboxMail).where(*stuck).values(
            sending_since=None, last_error=INTERRUPTED, attempts=current_app.config["MAIL_MAX_ATTEMPTS"])
            .execution_options(synchronize_session=False))
    db.session.commit()


def _send(ids: list[int]) -> tuple[int, int]:
    """Claim each mail (`sending_since`, so no other process sends it too), send them over one
    connection, record each outcome at once."""
    sent = failed = 0
    transport = None
    try:
        for mail_id in ids:
            claimed = db.session.execute(
                update(OutboxMail).where(OutboxMail.id == mail_id, OutboxMail.sent_at.is_(None),
                                         OutboxMail.sending_since.is_(None))
                .values(sending_since=utcnow()).execution_options(synchronize_session=False)).rowcount
            db.session.commit()
            if not claimed:
                continue
            mail = db.session.get(OutboxMail, mail_id)
            db.session.refresh(mail)
            try:
                message = build_message(mail)
            except Exception as exc:  # noqa: BLE001 – this mail is broken, not the server: the rest goes on
                _failed(mail, exc)
                failed += 1
                continue
            try:
                transport = transport or _transport()
                transport.send(message)
            except Exception as exc:  # noqa: BLE001 – recorded, retried later, never blocks the rest
                current_app.extensions[_FAILED_AT] = time.monotonic()
                transport = _close(transport)
                _failed(mail, exc)
                failed += 1
                if current_app.config.get("MAIL_SERVER"):
                    break  # the server is down: the rest waits for the pause to end, not for each timeout
                continue
            current_app.extensions[_FAILED_AT] = None
            mail.attempts += 1
            mail.sent_at = utcnow()
            mail.sending_since = None
            mail.last_error = ""
            db.session.commit()
            sent += 1
    except Exception:
        db.session.rollback()
        log.exception("mail: sending stopped")
    finally:
        _close(transport)
    return sent, failed


class _PlainHeader(UnstructuredHeader):
    """A header written as it is: folded at whitespace only, never turned into RFC 2047 encoded words.

    The default policy encodes any word too long for a 78-character line (`=?utf-8?q?<https…?=`),
    and mail clients then ignore List-Unsubscribe. RFC 5322 allows lines up to 998 characters.
    """

    def fold(self, *, policy):
        value = str(self)
        if not value.isascii():
            return super().fold(policy=policy)
        width = policy.max_line_length or sys.maxsize
        lines = [f"{self.name}:"]
        for word in value.split():
            if len(lines[-1]) + 1 + len(word) > width and lines[-1] != f"{self.name}:":
                lines.append("")
            lines[-1] += " " + word
        return policy.linesep.join(lines) + policy.linesep


def _policy() -> email.policy.EmailPolicy:
    registry = HeaderRegistry()
    for name in ("list-unsubscribe", "list-unsubscribe-post", "list-help", "list-subscribe", "list-post",
                 "list-owner", "list-archive"):  # RFC 2369 and RFC 8058: lists of <URL>s
        registry.map_to_type(name, _PlainHeader)
    return email.policy.default.clone(header_factory=registry)


POLICY = _policy()  # the default policy, but with the List-* headers above left plain


def build_message(mail: OutboxMail) -> EmailMessage:
    config = current_app.config
    message = EmailMessage(policy=POLICY)
    message["From"] = config["MAIL_SENDER"]
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = formatdate(localtime=False)
    domain = parseaddr(config["MAIL_SENDER"])[1].rpartition("@")[2] or "localhost"
    message["Message-ID"] = make_msgid(idstring=f"outbox-{mail.id}", domain=domain)
    message["Auto-Submitted"] = "auto-generated"
    for name, value in (mail.headers or {}).items():
        message[name] = value
    message.set_content(mail.body)
    return message


class _SMTP:
    """One connection for a batch of mails."""

    def __init__(self):
        config = current_app.config
        host, port, timeout = config["MAIL_SERVER"], int(config["MAIL_PORT"]), config["MAIL_TIMEOUT"]
        if config.get("MAIL_USE_SSL"):
            self.client = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
        else:
            self.client = smtplib.SMTP(host, port, timeout=timeout)
        if config.get("MAIL_USE_TLS"):
            self.client.starttls(context=ssl.create_default_context())
        if config.get("MAIL_USERNAME"):
            self.client.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")

    def send(self, message: EmailMessage) -> None:
        self.client.send_message(message)

    def close(self) -> None:
        try:
            self.client.quit()
        except (smtplib.SMTPException, OSError):
            self.client.close()


class _Files:
    """The embedded default: one .eml file per message."""

    def send(self, message: EmailMessage) -> None:
        _file(message)

    def close(self) -> None:
        pass


def _failed(mail: OutboxMail, exc: Exception) -> None:
    mail.attempts += 1
    mail.sending_since = None
    mail.last_error = f"{exc.__class__.__name__}: {exc}"[:2000]
    db.session.commit()
    log.warning("mail %s to %s not sent (attempt %s): %s", mail.id, mail.to, mail.attempts, exc)


def _transport():
    return _SMTP() if current_app.config.get("MAIL_SERVER") else _Files()


def _close(transport) -> None:
    if transport is not None:
        transport.close()
    return None


def outbox_dir() -> Path:
    return Path(current_app.config["DATA_DIR"]) / "outbox"


_FILE_ID = re.compile(r"\.outbox-(\d+)@")


def discard_files(mail_ids: Iterable[int]) -> int:
    """Delete the .eml files (and leftover temporary files) written for these outbox rows; returns how many."""
    wanted = {int(i) for i in mail_ids}
    directory = outbox_dir()
    if not wanted or not directory.is_dir():
        return 0
    removed = 0
    for entry in os.scandir(directory):
        found = _FILE_ID.search(entry.name)
        if found and int(found.group(1)) in wanted:
            Path(entry.path).unlink(missing_ok=True)
            removed += 1
    return removed


def _file(message: EmailMessage) -> None:
    """The embedded default: one .eml file per message, written atomically."""
    directory = outbox_dir()
    directory.mkdir(parents=True, exist_ok=True)
    name = message["Message-ID"].strip("<>").replace("/", "_")
    tmp = directory / f".{name}.tmp"
    tmp.write_bytes(bytes(message))
    os.replace(tmp, directory / f"{name}.eml")
