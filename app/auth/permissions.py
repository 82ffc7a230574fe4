"""Who may do what: permissions per role, in one place, and the decorator every staff route uses."""
from enum import StrEnum
from functools import wraps

from flask import abort, current_app
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.models import Role


class Permission(StrEnum):
    MODERATE = "moderate"  # the comment queue, official answers, stats
    WRITE_POSTS = "write_posts"  # the editor: own posts, image uploads
    EDIT_ALL_POSTS = "edit_all_posts"  # everybody's posts
    PUBLISH_POSTS = "publish_posts"  # publish and schedule (authors too when AUTHORS_MAY_PUBLISH is on)
    MANAGE_SITE = "manage_site"  # the back office: categories, comment rules
    MANAGE_USERS = "manage_users"


ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.EDITOR: frozenset({Permission.WRITE_POSTS, Permission.EDIT_ALL_POSTS, Permission.PUBLISH_POSTS}),
    Role.AUTHOR: frozenset({Permission.WRITE_POSTS}),
    Role.MODERATOR: frozenset({Permission.MODERATE}),
}


ROLE_LABELS = {
    Role.ADMIN: _l("Administrator"),
    Role.EDITOR: _l("Editor"),
    Role.AUTHOR: _l("Author"),
    Role.MODERATOR: _l("Moderator"),
}


def can(user, permission: Permission) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.is_active and \
        permission in ROLE_PERMISSIONS.get(user.role, frozenset())


def permission_required(permission: Permission):
    """Anonymous visitors go to the login page; signed-in staff without the permission get 403."""
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()
            if not can(current_user, permission):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_permission = permission  # read by the route × role test
        return wrapped
    return decorator


def login_required(view):
    """Any signed-in staff member (e.g. changing one's own password)."""
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return current_app.login_manager.unauthorized()
        return view(*args, **kwargs)

    wrapped.required_permission = "login"
    return wrapped
