"""Staff controls where staff read: the edit link and the comments switch on a post, and (for
moderators) the queue's actions under each comment with the thread's pending comments marked.

Readers never get any of it: the pending comments are loaded only when `sees_pending()` is true,
and signed-in pages are `no-store` (app/security.py).
"""
from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.permissions import Permission, can, permission_required
from app.blog import bp
from app.content import editing, posts_admin
from app.editor.routes import editing_settings
from app.models import Post, utcnow
from app.urls import safe_next


def sees_pending() -> bool:
    """Moderators (and admins) see a thread's pending comments in place."""
    return can(current_user, Permission.MODERATE)


def edit_url(post: Post) -> str:
    """The editor's page for the post."""
    return url_for("editor.edit", post_id=post.id)


@bp.app_context_processor
def staff_controls():
    return {"may_edit_post": lambda post: posts_admin.may_edit(current_user, post), "edit_url": edit_url,
            "may_moderate": sees_pending}


@bp.post("/posts/<int:post_id>/comments-open")
@permission_required(Permission.WRITE_POSTS)
def comments_switch(post_id: int):
    """Open or close comments on a post from its page (the editor calls the same service)."""
    post = editing.get_post(post_id) or abort(404)  # with its tags: the save keeps every field
    back = safe_next(request.form.get("next"), fallback=url_for("blog.post", slug=post.slug, _anchor="comments"))
    if not posts_admin.may_edit(current_user, post):
        flash(_("Only the post's author and the editors may change this post."), "warning")
        return redirect(back)
    wanted = request.form.get("open")
    if wanted not in ("0", "1"):
        abort(400, description=_("The form was incomplete; please try again."))
    # Through the editor's save: a revision, and the version moves, so an editor form opened
    # before cannot set it back silently.
    try:
        editing.set_comments_open(post, current_user, wanted == "1", editing_settings(), now=utcnow(),
                                  loaded_version=post.version)
    except editing.StaleEdit:  # someone saved in the same instant
        flash(_("Someone saved this post meanwhile; nothing was changed. Please try again."), "error")
        return redirect(back)
    except editing.EditError as exc:  # e.g. the post's stored fields no longer pass the editor's checks
        flash(" ".join(str(m) for m in exc.errors.values()), "error")
        return redirect(back)
    flash(_("Comments on this post are open.") if wanted == "1" else _("Comments on this post are closed."),
          "success")
    return redirect(back)
