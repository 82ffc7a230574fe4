"""What readers do with comments: submit, edit and delete their own, within the rules."""
import hashlib
import hmac
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, union
from sqlalchemy.exc import IntegrityError

from app import markup, outbox
from app.comments import notifications, threads
from app.comments.policy import CommentPolicy, Decision, Submission, normalised_text
from app.extensions import db
from app.models import Comment, CommentStatus, Post, Subscription, User, utcnow
from app.moderation import classifier, commenters, service as moderation
from app.webhooks import service as webhooks


class CommentError(ValueError):
    """A comment that cannot be taken as sent; `message` is for the reader, `field` where it belongs."""

    def __init__(self, message, field: str | None = None, existing: Comment | None = None):
        super().__init__(str(message))
        self.message, self.field, self.existing = message, field, existing


@dataclass(frozen=True)
class CommentInput:
    name: str
    email: str
    body: str
    website: str = ""
    notify: bool = False
    parent_id: int | None = None
    honeypot: str = ""
    seconds_taken: float | None = None
    submission_key: str | None = None  # the form's one-time key (a double click sends it twice)


@dataclass(frozen=True)
class Proof:
    """What the sending browser has proved (its signed reader cookie, read by the route)."""

    written: tuple[int, ...] = ()  # comments this browser wrote
    addresses: tuple[str, ...] = ()  # address_key() of addresses it confirmed through a mailed link


@dataclass(frozen=True)
class Client:
    """Who sends it: the request's facts, gathered by the route."""

    ip: str | None = None
    user: User | None = None  # a signed-in staff member
    lang: str = "de"
    proof: Proof = Proof()


@dataclass(frozen=True)
class Rules:
    policy: CommentPolicy
    secret: str
    duplicate_seconds: int = 120
    close_after_days: int | None = None
    edit_minutes: int = 15
    internal_hosts: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, config, internal_hosts: tuple[str, ...] = ()) -> "Rules":
        return cls(
            policy=CommentPolicy.from_config(config),
            secret=config["SECRET_KEY"],
            duplicate_seconds=int(config["COMMENT_DUPLICATE_SECONDS"]),
            close_after_days=config.get("COMMENTS_CLOSE_AFTER_DAYS"),
            edit_minutes=int(config["COMMENT_EDIT_MINUTES"]),
            internal_hosts=internal_hosts,
        )


@dataclass(frozen=True)
class Submitted:
    comment: Comment  # expired by the commit: reading it loads it again
    decision: Decision
    comment_id: int  # read before the commit, for the answer (no second query on the write path)


def comments_open(post: Post, rules: Rules, now: datetime) -> bool:
    """Open unless closed on the post, or older than the automatic closing period."""
    if not post.comments_open:
        return False
    if rules.close_after_days and post.published_at:
        return now < post.published_at + timedelta(days=int(rules.close_after_days))
    return True


def submit(post: Post, data: CommentInput, client: Client, rules: Rules) -> Submitted:
    """Store a reader's (or staff member's) comment with the status the policy decides, then notify."""
    now = utcnow()
    if not post.is_visible(now):
        raise CommentError(_l("Comments are only possible on published posts."))
    if not comments_open(post, rules, now):
        raise CommentError(_l("Comments on this post are closed."))
    email = data.email.strip().lower()
    team = _team() if client.user is None else {}
    if email in team:
        raise CommentError(_l("This address belongs to our team. Team members please sign in to comment."),
                           field="email")
    parent = _parent(post, data.parent_id, client)
    duplicate = db.session.scalar(
        select(Comment.id).where(
            Comment.post_id == post.id, Comment.author_email == email, Comment.body_md == data.body,
            Comment.created_at >= now - timedelta(seconds=rules.duplicate_seconds),
        ).limit(1)
    )
    if duplicate is not None:  # the route shows it only to the browser that wrote it
        raise CommentError(_l("You sent this comment a moment ago; it has already been received."),
                           existing=db.session.get(Comment, duplicate))
    body_html = _rendered(data.body, rules)
    name = client.user.display_name if client.user else data.name.strip()
    # Trust needs proof and earlier approvals; without proof the count is not needed (the write path).
    proven = client.user is None and proves_address(client.proof, email, rules.secret)
    ip_hash, words_hash = hash_ip(client.ip, rules.secret), text_hash(data.body, rules.secret)
    triage = _triage_facts(rules.policy, email, ip_hash, data.body, words_hash, now) if client.user is None else {}
    # The local classifier's view of a reader's words (a few ms; None without a model, never raises)
    scores = classifier.score(data.body) if client.user is None else None
    decision = rules.policy.decide(Submission(
        text=data.body, email=email, name=name, is_staff=client.user is not None, honeypot=data.honeypot,
        seconds_taken=data.seconds_taken, approved_before=approved_count(email) if proven else 0, proven=proven,
        links=len(markup.external_links(body_html)), staff_names=tuple(team.values()), **triage,
        spam_score=scores.spam if scores else None,
    ))
    comment = Comment(
        post_id=post.id, parent_id=parent.id if parent else None, depth=parent.depth + 1 if parent else 0,
        author_name=name,
        author_email=client.user.email.lower() if client.user and client.user.email else email,
        author_url=data.website.strip() or None, user_id=client.user.id if client.user else None,
        lang=client.lang, body_md=data.body, body_html=body_html, ip_hash=ip_hash, text_hash=words_hash,
        created_at=now, submission_key=data.submission_key,
        spam_score=scores.spam if scores else None, suggested_topic=scores.topic if scores else None,
    )
    try:
        moderation.admit(comment, status=decision.status, reason=decision.reason, actor=client.user,
                         response_status=None if client.user else rules.policy.response_status(data.body))
    except IntegrityError:  # the same form sent twice at once: the other request stored it
        db.session.rollback()
        existing = db.session.scalar(select(Comment).where(Comment.submission_key == data.submission_key))
        raise CommentError(_l("You sent this comment a moment ago; it has already been received."),
                           existing=existing) from None
    comment.root_id = parent.root_id if parent else comment.id
    if data.notify and decision.status != CommentStatus.SPAM:
        db.session.add(Subscription(email=comment.author_email, comment_id=comment.id, lang=client.lang))
    if decision.status == CommentStatus.APPROVED:
        notifications.comment_published(comment)
    elif decision.status == CommentStatus.PENDING and client.user is None:  # the team's channel hears of it
        webhooks.emit("comment.waiting", comment)
    comment_id = comment.id
    db.session.commit()
    outbox.settle()  # the index and mails follow the commit: their failure never loses the comment
    return Submitted(comment, decision, comment_id)


def can_modify(comment: Comment, own_ids: set[int], has_replies: bool, rules: Rules, now: datetime) -> bool:
    """The author may edit or delete their comment for a while, as long as nobody has answered it."""
    return (
        comment.id in own_ids
        and comment.status in (CommentStatus.PENDING, CommentStatus.APPROVED)
        and not has_replies
        and now <= comment.created_at + timedelta(minutes=rules.edit_minutes)
    )


def has_replies(comment: Comment) -> bool:
    """Someone answered it (see `threads.counts_as_reply`): then its author can no longer change it."""
    return db.session.scalar(
        select(Comment.id).where(Comment.parent_id == comment.id, threads.COUNTS_AS_REPLY).limit(1)
    ) is not None


def edit_own(comment: Comment, body: str, own_ids: set[int], rules: Rules, proof: Proof = Proof()) -> Comment:
    """Change the text of one's own comment. Before it is published the new text simply replaces the
    old; a published comment keeps showing its approved text until the team approves the edit,
    unless its author is trusted (proof and earlier approvals) and the edit adds no link. Either
    way the words it replaced are kept and the edit is in the audit trail."""
    if not can_modify(comment, own_ids, has_replies(comment), rules, utcnow()):
        raise CommentError(_l("This comment can no longer be changed."))
    body_html = _rendered(body, rules)
    hold = adds_link = False
    if comment.status == CommentStatus.APPROVED and comment.user_id is None:
        # Any new destination counts, also one that replaces an approved link (same number, new target).
        adds_link = bool(set(markup.external_links(body_html)) - set(markup.external_links(comment.body_html)))
        trusted = proves_address(proof, comment.author_email, rules.secret) and \
            approved_count(comment.author_email, excluding=comment.id) > 0
        hold = adds_link or not trusted or rules.policy.blocked(body)
    return moderation.author_edit(comment, body, body_html, hold=hold,
                                  reason="link added" if hold and adds_link else "")


def delete_own(comment: Comment, own_ids: set[int], rules: Rules) -> Comment:
    """Withdraw one's own comment (soft delete, kept for the audit trail)."""
    if not can_modify(comment, own_ids, has_replies(comment), rules, utcnow()):
        raise CommentError(_l("This comment can no longer be deleted."))
    return moderation.delete(comment, reason="deleted by its author")


def approved_count(email: str, excluding: int | None = None) -> int:
    """Approved reader comments from this address (staff comments never make an address trusted)."""
    return address_history({email}, excluding=excluding).get(email, History()).approved


@dataclass(frozen=True)
class History:
    """What an address wrote before: the one definition the policy, the queue and a comment's page use."""

    approved: int = 0  # approved reader comments (what trust is earned by)
    waiting: int = 0  # reader comments still pending


def address_history(emails: set[str], excluding: int | None = None) -> dict[str, History]:
    """Approved and pending reader comments per address (one query for a whole page of the queue)."""
    if not emails:
        return {}
    stmt = (select(Comment.author_email, Comment.status, func.count())
            .where(Comment.author_email.in_(emails), Comment.user_id.is_(None),
                   Comment.status.in_((CommentStatus.APPROVED, CommentStatus.PENDING)))
            .group_by(Comment.author_email, Comment.status))
    if excluding is not None:
        stmt = stmt.where(Comment.id != excluding)
    counts: dict[str, dict[str, int]] = {}
    for email, status, n in db.session.execute(stmt):
        counts.setdefault(email, {})[status] = n
    return {email: History(approved=c.get(CommentStatus.APPROVED, 0), waiting=c.get(CommentStatus.PENDING, 0))
            for email, c in counts.items()}


def _triage_facts(policy: CommentPolicy, email: str, ip_hash: str | None, body: str, words_hash: str,
                  now: datetime) -> dict:
    """What the rules "banned", "premoderated", "repeated" and "history" look at: one bounded query
    each (a rule that is off costs none)."""
    active = commenters.active_for(email, ip_hash, now)
    facts = {"banned": active.banned, "premoderated": active.premoderated}
    if policy.counts_repeats(body):
        facts["repeats"] = repeat_count(words_hash, now - timedelta(hours=policy.repeat_hours), policy.repeat_limit)
    if policy.history_limit:
        facts["removed_before"] = removed_count(email, ip_hash, now - timedelta(days=policy.history_days),
                                                policy.history_limit)
    return facts


REMOVED = (CommentStatus.REJECTED, CommentStatus.SPAM)


def repeat_count(words_hash: str, since: datetime, limit: int) -> int:
    """Readers' comments with the same normalised text since `since`, counted up to `limit` (the
    index on the text hash; no text is read)."""
    found = (select(Comment.id).where(Comment.text_hash == words_hash, Comment.created_at >= since,
                                      Comment.user_id.is_(None)).limit(limit).subquery())
    return db.session.scalar(select(func.count()).select_from(found))


def removed_count(email: str, ip_hash: str | None, since: datetime, limit: int) -> int:
    """Rejected or spam comments since `since` from this address or this client, each comment once,
    counted up to `limit`: one statement over two index ranges (address and status, IP hash and
    status), each read no further than `limit` rows."""
    def recent(condition):
        # The window is a filter on the few rows of one address or client: without statistics
        # SQLite would otherwise read every removed comment of the window through the queue's
        # (status, created_at) index. A function of the column is not matched to an index.
        rows = (select(Comment.id).where(condition, Comment.status.in_(REMOVED),
                                         func.coalesce(Comment.created_at, Comment.created_at) >= since)
                .limit(limit).subquery())
        return select(rows.c.id)

    parts = [recent(Comment.author_email == email)]
    if ip_hash:
        parts.append(recent(Comment.ip_hash == ip_hash))
    found = union(*parts).subquery() if len(parts) > 1 else parts[0].subquery()
    return min(limit, db.session.scalar(select(func.count()).select_from(found)))


def text_hash(body: str, secret: str) -> str:
    """A keyed hash of the text as the rule "repeated" compares it (case and spacing ignored)."""
    return hmac.new(secret.encode(), b"text:" + normalised_text(body).encode(), hashlib.sha256).hexdigest()


def address_key(email: str, secret: str) -> str:
    """A keyed hash of an address, for the reader cookie (the cookie never carries the address)."""
    return hmac.new(secret.encode(), b"address:" + email.strip().lower().encode(), hashlib.sha256).hexdigest()[:32]


def proves_address(proof: Proof, email: str, secret: str) -> bool:
    """The browser confirmed the address through a mailed link, or wrote an approved comment with it."""
    if address_key(email, secret) in proof.addresses:
        return True
    if not proof.written:
        return False
    return db.session.scalar(
        select(Comment.id).where(Comment.id.in_(proof.written), Comment.author_email == email.strip().lower(),
                                 Comment.status == CommentStatus.APPROVED, Comment.user_id.is_(None)).limit(1)
    ) is not None


_TEAM_SECONDS = 30.0
_team_cache: dict = {}


def _team() -> dict[str, str]:
    """The team's addresses (lower case) → display names, for the address and the name checks;
    read at most every half minute per process (the list changes rarely, comments come often)."""
    key = db.engine.url.render_as_string()
    cached = _team_cache.get(key)
    if cached and time.monotonic() - cached[0] < _TEAM_SECONDS:
        return cached[1]
    rows = db.session.execute(select(User.email, User.display_name)).all()
    team = {(address or "").lower() or f"#{n}": name for n, (address, name) in enumerate(rows)}
    _team_cache[key] = (time.monotonic(), team)
    return team



def _rendered(body: str, rules: Rules) -> str:
    """The comment's HTML; formatting that cannot be rendered is the reader's to fix, text kept."""
    try:
        return markup.render_comment(body, rules.internal_hosts)
    except markup.RenderError as exc:
        raise CommentError(exc.message, field="body") from None



def hash_ip(ip: str | None, secret: str) -> str | None:
    """A keyed hash: enough to recognise a client for limits and abuse, useless to anyone without the key."""
    if not ip:
        return None
    return hmac.new(secret.encode(), ip.encode(), hashlib.sha256).hexdigest()


def anonymize(older_than: datetime) -> tuple[int, int]:
    """Clear every IP hash stored before `older_than` (comments, reports); returns how many of each."""
    from app.models import Report  # only here: the rest of this module has nothing to do with reports

    cleared = []
    for model in (Comment, Report):  # every model with an ip_hash column
        cleared.append(db.session.execute(
            model.__table__.update()
            .where(model.created_at < older_than, model.ip_hash.is_not(None))
            .values(ip_hash=None)
        ).rowcount)
    db.session.commit()
    return cleared[0], cleared[1]


def _parent(post: Post, parent_id: int | None, client: Client) -> Comment | None:
    if not parent_id:
        return None
    parent = db.session.get(Comment, parent_id)
    if parent is None or parent.post_id != post.id:
        raise CommentError(_l("The comment you want to answer does not exist."), field="parent_id")
    if parent.status != CommentStatus.APPROVED and client.user is None:
        raise CommentError(_l("The comment you want to answer is not available."), field="parent_id")
    return parent
