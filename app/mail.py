"""Outgoing mail through a stored outbox: the only module that talks SMTP.

Mails are queued as rows in the same transaction as what caused them, delivered right after
the commit, and retried by `flask mail send-pending` when delivery failed. Without
MAIL_SERVER each message is written as an .eml file to DATA_DIR/outbox/ instead.
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
from sqlalchemy import select

from app.extensions import db
from app.models import OutboxMail, utcnow

log = logging.getLogger(__name__)


SUBJECT_MAX = 300


def queue(to: str, subject: str, body: str, headers: dict | None = None, *,
          comment_id: int | None = None) -> OutboxMail:
    """Add a message to the outbox (the caller commits, then calls `deliver`); `comment_id`: the comment it quotes."""
    subject = " ".join(subject.split())  # one line: a title with a line break must not break the header
    if len(subject) > SUBJECT_MAX:
        subject = subject[:SUBJECT_MAX - 1].rstrip() + "…"
    mail = OutboxMail(to=to, subject=subject, body=body, headers=headers or {}, comment_id=comment_id)
    db.session.add(mail)
    return mail


# When the mail server just failed, requests stop waiting for it (up to MAIL_TIMEOUT each) and
# leave new mail in the outbox for `mail send-pending`: a bulk approval stays fast while SMTP is down.
# Kept per app (and so per worker process).
PAUSE_AFTER_FAILURE = 60.0
_FAILED_AT = "dialog.mail_failed_at"


def deliver(mails: list[OutboxMail]) -> int:
    """Try to send these just-committed messages now; failures stay in the outbox. Never raises."""
    failed_at = current_app.extensions.get(_FAILED_AT)
    if failed_at is not None and time.monotonic() - failed_at < PAUSE_AFTER_FAILURE:
        return 0
    sent = 0
    for mail in mails:
        try:
            sent += _attempt(mail)
        except Exception:  # a broken mail must never break the request that caused it
            db.session.rollback()
            log.exception("mail %s could not be delivered", getattr(mail, "id", "?"))
    return sent


def send_pending(limit: int = 500) -> tuple[int, int]:
    """Retry what is still unsent (oldest first, with a growing pause per attempt). Returns (sent, failed)."""
    max_attempts = current_app.config["MAIL_MAX_ATTEMPTS"]
    due = db.session.scalars(
        select(OutboxMail)
        .where(OutboxMail.sent_at.is_(None), OutboxMail.attempts < max_attempts)
        .order_by(OutboxMail.id)
        .limit(limit)
    ).all()
    now = utcnow()
    sent = failed = 0
    for mail in due:
        if mail.attempts and mail.created_at + timedelta(minutes=2 ** mail.attempts) > now:
            continue  # back off: 2, 4, 8 … minutes after the first try
        if _attempt(mail):
            sent += 1
        else:
            failed += 1
    return sent, failed


def _attempt(mail: OutboxMail) -> int:
    try:
        message = build_message(mail)
        transport = _smtp if current_app.config.get("MAIL_SERVER") else _file
        transport(message)
    except Exception as exc:  # noqa: BLE001 – any failure is recorded, retried later, never blocks the rest
        current_app.extensions[_FAILED_AT] = time.monotonic()
        mail.attempts += 1
        mail.last_error = f"{exc.__class__.__name__}: {exc}"[:2000]
        db.session.commit()
        log.warning("mail %s to %s not sent (attempt %s): %s", mail.id, mail.to, mail.attempts, exc)
        return 0
    current_app.extensions[_FAILED_AT] = None
    mail.attempts += 1
    mail.sent_at = utcnow()
    mail.last_error = ""
    db.session.commit()
    return 1


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


def _smtp(message: EmailMessage) -> None:
    config = current_app.config
    host, port, timeout = config["MAIL_SERVER"], int(config["MAIL_PORT"]), config["MAIL_TIMEOUT"]
    if config.get("MAIL_USE_SSL"):
        client = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
    else:
        client = smtplib.SMTP(host, port, timeout=timeout)
    with client:
        if config.get("MAIL_USE_TLS"):
            client.starttls(context=ssl.create_default_context())
        if config.get("MAIL_USERNAME"):
            client.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
        client.send_message(message)


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
