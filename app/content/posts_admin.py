"""Small changes staff make to a post outside the editor: comments open or closed.

The post page's switch and the editor both call `set_comments_open`, so the change and its audit
event are the same wherever it is made.
"""
from app.auth.permissions import Permission, can
from app.extensions import db
from app.models import AdminEvent, Post, User


def may_edit(user, post: Post) -> bool:
    """Editors and admins edit every post, authors their own."""
    if can(user, Permission.EDIT_ALL_POSTS):
        return True
    return can(user, Permission.WRITE_POSTS) and post.author_id == getattr(user, "id", None)


def set_comments_open(post: Post, open: bool, actor: User | None) -> bool:
    """Open or close comments on `post`; returns whether anything changed. The caller commits."""
    if bool(post.comments_open) == bool(open):
        return False
    before = bool(post.comments_open)
    post.comments_open = bool(open)
    db.session.add(AdminEvent(actor_id=getattr(actor, "id", None), action="post.comments", subject=post.slug,
                              before={"comments_open": before}, after={"comments_open": bool(open)}))
    return True
