"""Mails to the team where it works: at once when a comment is assigned or escalated to someone,
when a moderator is @mentioned in an internal note, and when a reader's response target is about
to break or broke (`target_alerts.py` decides when).

Queued with `mail.queue` in the caller's transaction (the drainer sends after the commit), in the
site's language, links on SITE_URL only. Never to the one who acted. Each staff member chooses in
their notification settings (`Prefs`, a `Setting` row per person): mails about their own work
(assignments, escalations, mentions; on unless turned off) and target alerts for comments nobody
is assigned to (off unless asked for; the assignee always hears about their own).
"""
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime

from flask import current_app, render_template
from flask_babel import force_locale, format_datetime, gettext as _
from sqlalchemy import func, or_, select

from app import mail
from app.auth.permissions import ROLE_PERMISSIONS, Permission, can
from app.extensions import db
from app.models import Comment, Post, Setting, User
from app.urls import site_url

PREFS_PREFIX = "staff_notices."
EXCERPT = 300
# @name as in a user name (lower-case letters, digits, . _ -); not inside an address (a@b.org)
MENTION = re.compile(r"(?<![\w@.])@([A-Za-z0-9][A-Za-z0-9._-]{1,63})")
MAX_MENTIONS = 10  # one note mails at most this many colleagues


@dataclass(frozen=True)
class Prefs:
    direct: bool = True  # assigned or escalated to me, mentioned in a note
    targets: bool = False  # response-target alerts for comments nobody is assigned to


def _key(user_id: int) -> str:
    return f"{PREFS_PREFIX}{user_id}"


def prefs_of(users: Iterable[User]) -> dict[int, Prefs]:
    """Each user's choices (one query); defaults for those who never chose."""
    ids = {u.id for u in users}
    if not ids:
        return {}
    rows = db.session.scalars(select(Setting).where(Setting.key.in_([_key(i) for i in ids])))
    stored = {int(row.key.removeprefix(PREFS_PREFIX)): row.value for row in rows}
    result = {}
    for user_id in ids:
        value = stored.get(user_id) if isinstance(stored.get(user_id), dict) else {}
        result[user_id] = Prefs(direct=bool(value.get("direct", True)), targets=bool(value.get("targets", False)))
    return result


def prefs(user: User) -> Prefs:
    return prefs_of([user])[user.id]


def save_prefs(user: User, chosen: Prefs) -> None:
    """The caller commits."""
    row = db.session.get(Setting, _key(user.id)) or Setting(key=_key(user.id))
    row.value = asdict(chosen)
    row.updated_by_id = user.id
    db.session.add(row)


def moderators() -> list[User]:
    """Active staff who may moderate, by name."""
    roles = [role for role, perms in ROLE_PERMISSIONS.items() if Permission.MODERATE in perms]
    return [u for u in db.session.scalars(select(User).where(User.role.in_(roles), User.active)
                                          .order_by(User.display_name, User.id)) if can(u, Permission.MODERATE)]


# --- what happens to a comment ---------------------------------------------------------------------

def assigned(comment: Comment, actor: User, assignee: User | None) -> int:
    """The new assignee hears of it (unless they assigned it to themselves)."""
    return _send([assignee] if assignee is not None else [], "assigned", comment, actor=actor)


def escalated(comment: Comment, actor: User, to: str, note: str) -> int:
    """The colleague the comment was escalated to (a team name that is a staff member's display
    name or user name), and the comment's assignee, with the note."""
    name = (to or "").strip().lower()
    named = list(db.session.scalars(select(User).where(
        User.active, or_(func.lower(User.display_name) == name, func.lower(User.username) == name)))) if name else []
    assignee = db.session.get(User, comment.assigned_to_id) if comment.assigned_to_id else None
    return _send(named + ([assignee] if assignee is not None else []), "escalated", comment, actor=actor,
                 to=to, note=note)


def mentioned(comment: Comment, actor: User, body: str) -> int:
    """Moderators named as @username (any case) in an internal note get the note."""
    names = list(dict.fromkeys(m.rstrip(".-_").lower() for m in MENTION.findall(body or "")))[:MAX_MENTIONS]
    if not names:
        return 0
    users = [u for u in db.session.scalars(select(User).where(func.lower(User.username).in_(names), User.active))
             if can(u, Permission.MODERATE)]
    return _send(users, "mentioned", comment, actor=actor, note=body)


def target_notice(comment: Comment, kind: str, due: datetime) -> int:
    """`kind` "target_warning" or "target_breached": the assignee, or, when nobody is assigned,
    the moderators who asked for target alerts. One mail per recipient (the caller sends each kind
    once per comment)."""
    if comment.assigned_to_id:
        assignee = db.session.get(User, comment.assigned_to_id)
        return _send([assignee] if assignee is not None else [], kind, comment, due=due, own=True)
    team = moderators()
    wanted = prefs_of(team)
    return _send([u for u in team if wanted[u.id].targets], kind, comment, due=due, own=True)


# --- writing the mails -----------------------------------------------------------------------------

def _send(users: list[User], kind: str, comment: Comment, *, actor: User | None = None, own: bool = False,
          **context) -> int:
    """Queue one mail per distinct recipient with an address; not to `actor`. `own`: mails about
    target alerts, already chosen by the caller (the assignee's own comment, or opted in)."""
    recipients, seen = [], set()
    for user in users:
        if user is None or user.id in seen or not user.active or not user.email:
            continue
        if actor is not None and user.id == actor.id:
            continue
        seen.add(user.id)
        recipients.append(user)
    if not own:
        wanted = prefs_of(recipients)
        recipients = [u for u in recipients if wanted[u.id].direct]
    if not recipients:
        return 0
    config = current_app.config
    title = db.session.scalar(select(Post.title).where(Post.id == comment.post_id)) or ""
    text = " ".join((comment.body_md or "").split())
    excerpt = text if len(text) <= EXCERPT else text[:EXCERPT - 1].rstrip() + "…"
    link = site_url("moderation.comment", comment_id=comment.id)
    settings_url = site_url("auth.notifications")
    with force_locale(config["DEFAULT_LANGUAGE"]):
        due = context.get("due")
        due_text = format_datetime(due, "short") if due is not None else ""
        for user in recipients:
            subject = _subject(kind, config["SITE_NAME"], comment.author_name, actor, context.get("to", ""))
            body = render_template("mail/staff_notice.txt", kind=kind, user=user, actor=actor, comment=comment,
                                   post_title=title, excerpt=excerpt, link=link, settings_url=settings_url,
                                   to=context.get("to", ""), note=context.get("note", ""), due=due_text,
                                   site_name=config["SITE_NAME"])
            mail.queue(user.email, subject, body, comment_id=comment.id)
    return len(recipients)


def _subject(kind: str, site: str, author: str, actor: User | None, to: str) -> str:
    who = actor.display_name if actor is not None else ""
    if kind == "assigned":
        return _("[%(site)s] %(who)s assigned a comment to you: %(author)s", site=site, who=who, author=author)
    if kind == "escalated":
        return _("[%(site)s] Escalated to %(to)s: comment by %(author)s", site=site, to=to, author=author)
    if kind == "mentioned":
        return _("[%(site)s] %(who)s mentioned you in a note: comment by %(author)s", site=site, who=who,
                 author=author)
    if kind == "target_warning":
        return _("[%(site)s] Response target due soon: %(author)s is waiting", site=site, author=author)
    return _("[%(site)s] Response target missed: %(author)s is still waiting", site=site, author=author)
