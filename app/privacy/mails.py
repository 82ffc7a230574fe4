"""Erasure, the mails part: notifications and digests sent or queued for others that quote erased comments.

Found by the comment they are about, not by searching for the person's name (a common name,
or someone else quoting it, would match the wrong mails): a notification records its comment
in `OutboxMail.comment_id`. Mails without it (queued before that column existed, and the
moderators' digests, which list many comments) are found by the comment's link,
`…/comments/<id>`, which each of them carries. Mails *to* the erased address are not handled
here: `privacy.erase` deletes them outright.
"""
import re
from collections.abc import Iterable

from sqlalchemy import or_, select

from app.extensions import db
from app.models import OutboxMail

CHUNK = 100  # comments per LIKE query: SQLite limits the depth of an expression
ITEM_LINES = 3  # a digest item: "- name on “title”, date", the excerpt, the link


def redact(comment_ids: Iterable[int], *, mask: str) -> list[int]:
    """Mails to others about these comments lose their words; returns the ids of the rows changed or deleted.

    Unsent notifications about them are deleted (the comment is gone, there is nothing to tell);
    sent ones keep their row (subject, recipient, time) with the body replaced by `mask`; a digest
    loses the items about them and keeps the rest. The caller commits and removes the mail files.
    """
    ids = sorted({int(i) for i in comment_ids})
    touched = []
    for mail in _mails_about(ids):
        body = None if mail.comment_id in ids else without_items(mail.body, ids)
        if body is None and mail.sent_at is None:
            db.session.delete(mail)
        else:
            mail.body = mask if body is None else body
        touched.append(mail.id)
    return touched


def without_items(body: str, comment_ids: Iterable[int]) -> str | None:
    """`body` without the list items ("- …" down to the link) about these comments.

    None when a link to one of them is not part of such an item: then the mail as a whole is about it.
    """
    link = _link(comment_ids)
    kept: list[str] = []
    dropped = False
    for line in body.split("\n"):
        if link.search(line):
            start = next((len(kept) - back for back in range(1, min(ITEM_LINES, len(kept)) + 1)
                          if kept[-back].startswith("- ")), None)
            if start is None:
                return None
            del kept[start:]
            dropped = True
            continue
        if dropped and not line.strip() and (not kept or not kept[-1].strip()):
            continue  # no double blank line where an item was
        dropped = False
        kept.append(line)
    return "\n".join(kept)


def _link(comment_ids: Iterable[int]) -> re.Pattern:
    """A link to one of these comments (permalink or moderation page), not to comment 71 when 7 is meant."""
    return re.compile(r"/comments/(?:" + "|".join(str(int(i)) for i in comment_ids) + r")(?!\d)")


def _mails_about(ids: list[int]) -> list[OutboxMail]:
    if not ids:
        return []
    found = {m.id: m for m in db.session.scalars(select(OutboxMail).where(OutboxMail.comment_id.in_(ids)))}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        link = _link(chunk)
        untagged = select(OutboxMail).where(OutboxMail.comment_id.is_(None),
                                            or_(*[OutboxMail.body.like(f"%/comments/{i}%") for i in chunk]))
        found.update({m.id: m for m in db.session.scalars(untagged) if link.search(m.body)})
    return [found[key] for key in sorted(found)]
