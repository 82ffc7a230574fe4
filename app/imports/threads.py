"""Storing one post's imported comments with their threads intact.

Sources list comments in any order (a reply may come before its parent; Disqus spreads a
thread over the whole file), so a post's comments are collected first and stored parents
before children, level by level, each level one bulk INSERT through the state machine
(`moderation.service.admit_imported`). A parent that is missing from the export makes its reply
a top-level comment; a loop of parents is cut. Both are reported with the source id.
"""
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update

from app import markup
from app.comments.service import hash_ip
from app.extensions import db
from app.imports.ledger import Ledger, checksum
from app.imports.report import Report
from app.models import Comment, CommentStatus, Post, ResponseStatus, User
from app.moderation.service import ImportedState, admit_imported

NAME_MAX, URL_MAX, EMAIL_MAX = 120, 300, 254


@dataclass
class SourceComment:
    source_id: str
    parent_id: str | None  # the parent's source id; None for a top-level comment
    author_name: str
    email: str
    url: str
    ip: str
    created_at: datetime  # UTC
    body_md: str
    status: str  # ours (CommentStatus)
    user: User | None = None  # a team member wrote it
    body_html: str | None = None  # rendered already (in a worker process); else rendered here
    render_error: str | None = None  # why body_md could not be rendered, if it was tried


def _levels(comments: list[SourceComment], known_parents: dict[str, int], kind: str,
            report: Report, elsewhere: set[str] = frozenset()) -> list[list[SourceComment]]:
    """Parents before children, each level in date order: level 0 are the comments whose parent is
    stored already (or none). `elsewhere`: ids the import stored on other posts."""
    by_id = {c.source_id: c for c in comments}
    for c in comments:
        parent = c.parent_id
        if parent is not None and parent not in known_parents and parent not in by_id and parent in elsewhere:
            report.warn(kind, c.source_id, f"its parent {parent} is a comment of another post: now a top-level "
                                           "comment")
            c.parent_id = None
        elif parent == c.source_id:
            report.warn(kind, c.source_id, "it names itself as its parent: now a top-level comment")
            c.parent_id = None
        elif parent is not None and parent not in known_parents and parent not in by_id:
            report.warn(kind, c.source_id, f"its parent {parent} is not in the export: now a top-level comment")
            c.parent_id = None
    while True:
        children, level = defaultdict(list), []
        for c in comments:
            if c.parent_id is None or c.parent_id in known_parents:
                level.append(c)
            else:
                children[c.parent_id].append(c)
        levels, placed = [], 0
        while level:
            levels.append(level)
            placed += len(level)
            level = [child for c in level for child in children.get(c.source_id, ())]
        if placed == len(comments):
            return [sorted(level, key=lambda c: (c.created_at, c.source_id)) for level in levels]
        reached = {c.source_id for level in levels for c in level}
        cut = next(c for c in comments if c.source_id not in reached)  # parents pointing at each other
        report.warn(kind, cut.source_id, "its parents form a loop: now a top-level comment")
        cut.parent_id = None


def _states(comments: list[SourceComment]) -> dict[str, ImportedState]:
    """Readers' comments the team answered (an approved team reply) are answered, with the first answer's
    time; other readers' comments need no answer now; the team's own have no response status."""
    answers: dict[str, datetime] = {}
    for c in comments:
        if c.user is not None and c.parent_id and c.status == CommentStatus.APPROVED:
            answers[c.parent_id] = min(answers.get(c.parent_id, c.created_at), c.created_at)
    states = {}
    for c in comments:
        if c.user is not None:
            states[c.source_id] = ImportedState(c.status, None)
        elif c.source_id in answers:
            states[c.source_id] = ImportedState(c.status, ResponseStatus.ANSWERED, answers[c.source_id])
        else:
            states[c.source_id] = ImportedState(c.status, ResponseStatus.NO_ANSWER_NEEDED)
    return states


def store(post: Post, comments: list[SourceComment], *, ledger: Ledger, secret: str, report: Report,
          internal_hosts: tuple[str, ...] = (), kind: str = "comment") -> list[int]:
    """Add the comments of `post` not imported before (the caller commits); their new ids."""
    known = ledger.known(kind)
    new = [c for c in comments if c.source_id not in known]
    report.unchanged[kind] += len(comments) - len(new)
    if not new:
        return []
    stored: dict[str, tuple[int, int, int]] = {}  # source id → (id, root id, depth)
    keep = []
    for c in new:
        if c.body_html is None and c.render_error is None:
            try:
                c.body_html = markup.render_comment(c.body_md, internal_hosts)
            except markup.RenderError as exc:
                c.render_error = exc.detail
        if c.render_error is not None:
            report.skip(kind, c.source_id, "its text cannot be formatted", c.render_error)
        else:
            keep.append(c)
    skipped = {c.source_id: c.parent_id for c in new if c.render_error is not None}
    for c in keep:  # a reply to a skipped comment answers that comment's parent instead
        seen = set()
        while c.parent_id in skipped and c.parent_id not in seen:
            seen.add(c.parent_id)
            c.parent_id = skipped[c.parent_id]
    earlier = {known[c.parent_id].target_id: c.parent_id for c in keep if c.parent_id and c.parent_id in known}
    if earlier:  # replies to comments an earlier run stored: of this post only (an export may name any id)
        for row in db.session.execute(select(Comment.id, Comment.root_id, Comment.depth)
                                      .where(Comment.id.in_(list(earlier)), Comment.post_id == post.id)):
            stored[earlier[row.id]] = (row.id, row.root_id, row.depth)
    states = _states(keep)
    created = []
    elsewhere = {c.parent_id for c in keep if c.parent_id in known and c.parent_id not in stored}
    for level in _levels(keep, {s: v[0] for s, v in stored.items()}, kind, report, elsewhere):
        rows, level_states = [], []
        for c in level:
            parent = stored.get(c.parent_id) if c.parent_id else None
            rows.append({
                "post_id": post.id, "parent_id": parent[0] if parent else None,
                "root_id": parent[1] if parent else None, "depth": parent[2] + 1 if parent else 0,
                "author_name": (c.author_name.strip() or "Anonym")[:NAME_MAX],
                "author_email": c.email.strip().lower()[:EMAIL_MAX],
                "author_url": c.url.strip()[:URL_MAX] or None,
                "user_id": c.user.id if c.user else None, "lang": post.lang, "body_md": c.body_md,
                "body_html": c.body_html, "is_official": bool(c.user and parent and c.parent_id in states
                                                                     and states[c.parent_id].response_status),
                "ip_hash": hash_ip(c.ip.strip() or None, secret), "created_at": c.created_at,
            })
            level_states.append(states[c.source_id])
        ids = admit_imported(rows, level_states, origin=ledger.origin)
        roots = [i for i, row in zip(ids, rows, strict=True) if row["parent_id"] is None]
        if roots:
            db.session.execute(update(Comment).where(Comment.id.in_(roots)).values(root_id=Comment.id)
                               .execution_options(synchronize_session=False))
        for c, comment_id, row in zip(level, ids, rows, strict=True):
            stored[c.source_id] = (comment_id, row["root_id"] or comment_id, row["depth"])
            report.created[f"{kind}:{c.status}"] += 1
        ledger.remember_many(kind, [(c.source_id, i, checksum(c.body_md, c.status)) for c, i in
                                    zip(level, ids, strict=True)])
        created += ids
    return created
