"""Privacy requests (GDPR art. 15 and 17): what is stored about an e-mail address, its export and its erasure.

Commenters have no account: what identifies a person is the e-mail address they typed. This
module finds everything stored under that address (case-insensitive), exports it as data the
person may receive, and erases it:

- every comment by the address loses its name, address, website, text (also the original
  words kept after a staff edit, earlier versions and an edit waiting for review) and IP hash,
  and is deleted through the state machine; a comment with visible replies stays in its thread
  as the "removed" placeholder;
- what others wrote *about* those comments goes with them: staff notes on them are deleted,
  report details and audit reasons on them blanked (who did what, when, stays), and replies to
  them (an official answer's "Hallo {name}") lose the person's name;
- subscriptions of the address and every mail in the outbox to it (sent or not) are deleted;
- mails to others that quote those comments (reply notifications, moderators' digests) lose
  them: unsent notifications are deleted, sent ones keep only subject, recipient and times,
  digests lose the items (`mails.py`);
- where the address was typed into other texts (someone's reply, a staff note, a report, an
  audit reason, another mail), only the address itself is blanked out: staff notes and the
  audit trail stay;
- the erasure is logged per comment (action "erase", reason "privacy erasure", the moderator
  as actor) without the address or anything else personal.

Deleted is not yet gone from the disk, so the copies are removed too: the .eml files of every
outbox row deleted or changed (without MAIL_SERVER), the comments' old documents in the search
index (Whoosh only marks them deleted; `search.purge` rewrites the segments that hold them),
and on SQLite the old row versions: `secure_delete` (app/extensions.py) zeroes deleted content
in the database file, and the write-ahead log, which still holds the pages as they were, is
checkpointed and truncated after the erasure. On PostgreSQL the old row versions stay in the
table files until VACUUM reclaims them (autovacuum, usually within minutes; run `VACUUM` on
comments, outbox_mails and subscriptions to be sure), and in the WAL archive and backups for
as long as those are kept. Mails already delivered to someone's mailbox cannot be recalled.

Addresses of staff accounts are refused: the account itself would keep the address, so it is a
matter for user management. Services take arguments and never read the request.
"""
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from flask_babel import force_locale, gettext as _
from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.orm import joinedload

from app import mail, markup, outbox
from app.extensions import db
from app.models import (
    AdminEvent,
    Comment,
    CommenterKind,
    CommenterStatus,
    CommentRevision,
    CommentStatus,
    ModerationEvent,
    OutboxMail,
    Report,
    StaffNote,
    Subscription,
    User,
    WebhookDelivery,
    utcnow,
)
from app.moderation import service
from app.moderation.queue import escape_like
from app.privacy import mails as quoting_mails
from app.search import index as search
from app.urls import internal_hosts

log = logging.getLogger(__name__)

EMAIL = re.compile(r"^[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']{2,}$")
MAX_LENGTH = 254
REASON = "privacy erasure"
MASK = "[erased]"


class PrivacyError(Exception):
    """The request cannot be carried out as asked; `message` says why, for the moderator."""

    def __init__(self, message):
        self.message = message
        super().__init__(str(message))


def normalize(email: str | None) -> str | None:
    """The address in the form it is compared in (trimmed, lower case), or None when it is no address."""
    email = (email or "").strip().lower()
    if not email or len(email) > MAX_LENGTH or not EMAIL.match(email):
        return None
    return email


def erased_email(comment_id: int) -> str:
    return f"erased-{comment_id}@invalid"


# --- what is stored ------------------------------------------------------------------------------

@dataclass
class Findings:
    """Everything stored under one address (`email` is normalised)."""

    email: str
    comments: list[Comment] = field(default_factory=list)  # with .post loaded
    subscriptions: list[Subscription] = field(default_factory=list)
    reports: list[Report] = field(default_factory=list)  # made by others against these comments
    mails: list[OutboxMail] = field(default_factory=list)  # to the address, sent or not
    mentions: int = 0  # other texts the address was typed into
    staff_account: User | None = None

    @property
    def empty(self) -> bool:
        return not (self.comments or self.subscriptions or self.mails or self.mentions or self.staff_account)

    @property
    def unsent_mails(self) -> int:
        return sum(1 for m in self.mails if m.sent_at is None)

    def reports_for(self, comment_id: int) -> list[Report]:
        return [r for r in self.reports if r.comment_id == comment_id]


def lookup(email: str) -> Findings:
    """What is stored about `email` (an address that `normalize` accepted)."""
    email = email.lower()
    comments = list(db.session.scalars(
        select(Comment).options(joinedload(Comment.post))
        .where(func.lower(Comment.author_email) == email).order_by(Comment.created_at, Comment.id)
    ))
    ids = [c.id for c in comments]
    subscriptions = list(db.session.scalars(
        select(Subscription).where(func.lower(Subscription.email) == email).order_by(Subscription.id)))
    reports = list(db.session.scalars(
        select(Report).where(Report.comment_id.in_(ids)).order_by(Report.id))) if ids else []
    mails = list(db.session.scalars(select(OutboxMail).where(_mail_to(email)).order_by(OutboxMail.id)))
    staff = db.session.scalar(select(User).where(func.lower(User.email) == email))
    mentions = len({(column.class_, row.id) for column, row in _mentions(email, exclude_comments=ids)})
    return Findings(email=email, comments=comments, subscriptions=subscriptions, reports=reports, mails=mails,
                    mentions=mentions, staff_account=staff)


# --- export --------------------------------------------------------------------------------------

def export(findings: Findings, *, site_name: str, retention_days: int, now: datetime | None = None,
           post_url=None) -> dict:
    """The person's own data as a JSON-ready dict: no one else's data, no staff notes, no IP hashes."""
    now = now or utcnow()
    comments = []
    for c in findings.comments:
        comments.append({
            "id": c.id,
            "post": {"slug": c.post.slug, "title": c.post.title, **({"url": post_url(c.post)} if post_url else {})},
            "in_reply_to_comment": c.parent_id,
            "name": c.author_name,
            "email": c.author_email,
            "website": c.author_url,
            "text": c.body_md,
            "original_text_before_staff_edit": c.original_body_md,
            "language": c.lang,
            "status": c.status,
            "created_at": _iso(c.created_at),
            "edited_at": _iso(c.edited_at),
            "approved_at": _iso(c.approved_at),
        })
    subscriptions = [{
        "comment": s.comment_id,
        "language": s.lang,
        "created_at": _iso(s.created_at),
        "confirmed_at": _iso(s.confirmed_at),
        "unsubscribed_at": _iso(s.unsubscribed_at),
    } for s in findings.subscriptions]
    mails = [{"subject": m.subject, "created_at": _iso(m.created_at), "sent_at": _iso(m.sent_at)}
             for m in findings.mails]
    return {
        "about": findings.email,
        "site": site_name,
        "created_at": _iso(now),
        "comments": comments,
        "subscriptions": subscriptions,
        "notification_mails": mails,
        "notes": {
            "ip_hash": _("With each comment we may store a keyed hash of the IP address it was sent from, to "
                         "fend off abuse. It cannot be turned back into the address without our key and is "
                         "cleared %(days)s days after the comment was written.", days=retention_days),
            "not_included": _("Not included: data about other people (for example replies and reports by "
                              "others) and the team's internal notes."),
        },
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


# --- erasure -------------------------------------------------------------------------------------

@dataclass
class Erasure:
    comments: int = 0
    subscriptions: int = 0
    mails: int = 0  # to the address
    mentions: int = 0
    notifications: int = 0  # mails to others that quoted the comments
    index_purged: bool = True  # False: the index files may still hold them (logged; a rebuild removes them)
    log_truncated: bool = True  # False: SQLite's WAL could not be truncated yet (logged)

    @property
    def total(self) -> int:
        return self.comments + self.subscriptions + self.mails + self.mentions + self.notifications


def erase(email: str, actor: User, *, placeholder_name: str | None = None) -> Erasure:
    """Erase everything stored under `email` (normalised); see the module docstring for what that means."""
    email = email.lower()
    if db.session.scalar(select(User.id).where(func.lower(User.email) == email)) is not None:
        raise PrivacyError(_("This address belongs to a staff account. Accounts are changed or closed in "
                             "user management."))
    if placeholder_name is None:
        with force_locale(current_app.config["DEFAULT_LANGUAGE"]):
            placeholder_name = _("Deleted")
    comments = list(db.session.scalars(
        select(Comment).where(func.lower(Comment.author_email) == email).order_by(Comment.id)))
    result = Erasure(comments=len(comments))

    # 1. Status first, through the state machine (each transition commits on its own). Should
    #    anything below fail, the comments still carry the address, so running again finishes.
    for comment in comments:
        _delete(comment, actor)

    # 2. Then the personal data, all in one transaction.
    ids = [c.id for c in comments]
    _forget_commenter_statuses(email, {c.ip_hash for c in comments if c.ip_hash})
    names = {c.author_name for c in comments}
    _forget_what_others_wrote_about(ids)
    answers = _forget_name_in_replies(ids, names, placeholder_name, actor)
    for comment in comments:
        from_status = comment.status
        comment.author_name = placeholder_name
        comment.author_email = erased_email(comment.id)
        comment.author_url = None
        comment.body_md = ""
        comment.body_html = ""
        comment.original_body_md = None
        service.rewrite_pending_edit(comment, None)
        comment.ip_hash = None
        service.record(comment, "erase", actor=actor, from_status=from_status, to_status=comment.status,
                       reason=REASON)
    if ids:  # every earlier version of the texts goes with them
        db.session.execute(delete(CommentRevision).where(CommentRevision.comment_id.in_(ids))
                           .execution_options(synchronize_session=False))
    conditions = [func.lower(Subscription.email) == email]
    if ids:
        conditions.append(Subscription.comment_id.in_(ids))
    result.subscriptions = db.session.execute(
        delete(Subscription).where(or_(*conditions)).execution_options(synchronize_session=False)).rowcount
    if ids:  # webhook payloads name the author: their log entries go (sent or not)
        db.session.execute(delete(WebhookDelivery).where(WebhookDelivery.comment_id.in_(ids))
                           .execution_options(synchronize_session=False))
    to_address = list(db.session.scalars(select(OutboxMail.id).where(_mail_to(email))))
    result.mails = db.session.execute(
        delete(OutboxMail).where(_mail_to(email)).execution_options(synchronize_session=False)).rowcount
    quoting = quoting_mails.redact(ids, mask=MASK)
    result.notifications = len(quoting)
    masked = _blank_out(email, exclude_comments=ids, actor=actor)
    result.mentions = len(masked)
    # Before the commit: should removing a file fail, nothing is committed and running again finishes.
    mail.discard_files(to_address + quoting + [row_id for model, row_id in masked if model == "OutboxMail"])
    db.session.commit()
    # The erased texts, and other comments the address was typed into, change in both indexes;
    # their old documents are rewritten out of the index files first.
    changed = list(ids) + answers + [row_id for model, row_id in masked if model == "Comment"]
    result.index_purged = search.purge(changed)
    outbox.index(comments=changed)
    db.session.commit()
    outbox.settle(now=True)  # before the log is truncated: nothing of the erasure may come after it
    result.log_truncated = _truncate_log()
    return result


def _forget_commenter_statuses(email: str, ip_hashes: set[str]) -> None:
    """A status the team set on the address (or on the clients it wrote from) goes, and the back
    office's audit trail no longer names the address."""
    kinds = [and_(CommenterStatus.kind == CommenterKind.EMAIL, func.lower(CommenterStatus.value) == email)]
    if ip_hashes:
        kinds.append(and_(CommenterStatus.kind == CommenterKind.IP, CommenterStatus.value.in_(ip_hashes)))
    db.session.execute(delete(CommenterStatus).where(or_(*kinds)).execution_options(synchronize_session=False))
    subjects = {f"{CommenterKind.EMAIL}:{email}": CommenterKind.EMAIL,
                **{f"{CommenterKind.IP}:{h}": CommenterKind.IP for h in ip_hashes}}
    for subject, kind in subjects.items():
        db.session.execute(update(AdminEvent).where(func.lower(AdminEvent.subject) == subject.lower())
                           .values(subject=f"{kind}:{MASK}").execution_options(synchronize_session=False))


def _forget_what_others_wrote_about(ids: list[int]) -> None:
    """Staff notes, report details and audit reasons on the erased comments quote them: they go too
    (who did what, when, stays in the audit trail)."""
    if not ids:
        return
    db.session.execute(delete(StaffNote).where(StaffNote.comment_id.in_(ids)).execution_options(synchronize_session=False))
    db.session.execute(update(Report).where(Report.comment_id.in_(ids)).values(details="", ip_hash=None)
                       .execution_options(synchronize_session=False))
    db.session.execute(update(ModerationEvent).where(ModerationEvent.comment_id.in_(ids),
                                                     ModerationEvent.reason.not_like(f"{REASON}%")).values(reason="")
                       .execution_options(synchronize_session=False))


def _forget_name_in_replies(ids: list[int], names: set[str], placeholder: str, actor: User) -> list[int]:
    """Answers to the erased comments greet the person by name ("Hallo {name}", a canned response):
    the name becomes the placeholder there. Returns the ids of the replies that changed."""
    names = [n for n in names if len((n or "").strip()) >= 3]
    if not ids or not names:
        return []
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(n.strip()) for n in names) + r")(?!\w)", re.IGNORECASE)
    changed = []
    for reply in db.session.scalars(select(Comment).where(Comment.parent_id.in_(ids), Comment.id.not_in(ids))):
        texts = (reply.body_md, reply.original_body_md, reply.pending_body_md)
        if not any(text and pattern.search(text) for text in texts):
            continue
        reply.body_md = pattern.sub(placeholder, reply.body_md)
        reply.body_html = markup.render_comment(reply.body_md, internal_hosts())
        if reply.original_body_md:
            reply.original_body_md = pattern.sub(placeholder, reply.original_body_md)
        if reply.pending_body_md:
            service.rewrite_pending_edit(reply, pattern.sub(placeholder, reply.pending_body_md), internal_hosts())
        db.session.execute(delete(CommentRevision).where(CommentRevision.comment_id == reply.id)
                           .execution_options(synchronize_session=False))
        service.record(reply, "redact", actor=actor, from_status=reply.status, to_status=reply.status,
                       reason=f"{REASON}: the name of the person answered was removed")
        changed.append(reply.id)
    return changed


def _truncate_log() -> bool:
    """SQLite: write the WAL into the database and empty it; it still holds the pages as they were before."""
    if db.engine.dialect.name != "sqlite":
        return True
    with db.engine.connect() as conn:
        busy, _pages, _done = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
    if busy:
        log.warning("privacy erasure: the SQLite WAL is in use and was not truncated; until it is overwritten "
                    "it may still hold erased rows")
    return not busy


def _delete(comment: Comment, actor: User) -> None:
    """Deleted through the state machine; a moderator acting at the same moment only costs a retry."""
    for _attempt in range(3):
        if comment.status == CommentStatus.DELETED:
            return
        try:
            service.transition(comment, "delete", actor=actor, reason=REASON)
            return
        except service.ModerationError:
            db.session.refresh(comment)
    raise PrivacyError(_("The comments changed while they were being erased. Please try again."))


# --- the address typed into other texts ----------------------------------------------------------

def _free_text_columns():
    """Columns where anyone may have typed an address (replies, notes, reports, audit reasons, mails)."""
    return (Comment.author_name, Comment.author_url, Comment.body_md, Comment.body_html, Comment.original_body_md,
            Comment.pending_body_md, Comment.pending_body_html, Comment.escalated_to, CommentRevision.body_md,
            StaffNote.body, Report.details, ModerationEvent.reason, OutboxMail.subject, OutboxMail.body)


def _pattern(email: str) -> re.Pattern:
    """The address as a whole word: not the tail of anna.petra@… nor the head of petra@example.org.uk."""
    return re.compile(r"(?<![\w.+\-])" + re.escape(email) + r"(?![\w\-]|\.[\w\-])", re.IGNORECASE)


def _mentions(email: str, exclude_comments=()) -> list[tuple]:
    """(column, row) for every text outside `exclude_comments` that holds the address."""
    pattern = _pattern(email)
    found = []
    for column in _free_text_columns():
        model = column.class_
        stmt = select(model).where(func.lower(column).like(f"%{escape_like(email)}%", escape="\\"))
        if model is Comment and exclude_comments:
            stmt = stmt.where(Comment.id.not_in(list(exclude_comments)))
        found += [(column, row) for row in db.session.scalars(stmt) if pattern.search(getattr(row, column.key) or "")]
    return found


def _blank_out(email: str, *, exclude_comments, actor: User) -> set[tuple[str, int]]:
    """Replace the address wherever it was typed into another text; returns (model, id) of what changed."""
    pattern = _pattern(email)
    changed: set[tuple[str, int]] = set()
    for column, row in _mentions(email, exclude_comments):
        setattr(row, column.key, pattern.sub(MASK, getattr(row, column.key)))
        key = (column.class_.__name__, row.id)
        if key not in changed and isinstance(row, Comment):
            service.record(row, "redact", actor=actor, from_status=row.status, to_status=row.status,
                           reason=f"{REASON}: an e-mail address was removed from the text")
        changed.add(key)
    return changed


def _mail_to(email: str):
    """Outbox rows addressed to `email` (plain, or as "Name <address>")."""
    return or_(func.lower(OutboxMail.to) == email,
               func.lower(OutboxMail.to).like(f"%<{escape_like(email)}>", escape="\\"))

