"""Signing staff in for view tests."""
from app.models import Role


def login(client, user):
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
        session["_fresh"] = True
    return user


def moderator(make, client=None, name="anna", display_name="Anna Seidel"):
    user = make.user(name, role=Role.MODERATOR, display_name=display_name)
    if client is not None:
        login(client, user)
    return user
