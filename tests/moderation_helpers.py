"""Signing staff in for view tests."""
from datetime import timedelta

from app.extensions import db
from app.models import Role
from app.users import sessions


def cookie_id(user) -> str:
    """Flask-Login's id for a new sign-in of `user`, as the login form would open it."""
    token = sessions.start(user, lifetime=timedelta(days=1))
    db.session.commit()
    return f"{user.id}:{token}"


def login(client, user):
    """Sign `user` in on `client` (a fresh sign-in, as after the login form), without the form."""
    with client.session_transaction() as session:
        session["_user_id"] = cookie_id(user)
        session["_fresh"] = True
    return user


def moderator(make, client=None, name="anna", display_name="Anna Seidel"):
    user = make.user(name, role=Role.MODERATOR, display_name=display_name)
    if client is not None:
        login(client, user)
    return user
