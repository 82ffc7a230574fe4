"""Rules for staff accounts, shared by the CLI and the admin pages."""
import re
import secrets

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from app.extensions import db
from app.models import AdminEvent, Role, User
from app.users import sessions

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_LENGTH = 10


class UserError(ValueError):
    """An account that cannot be created or changed as asked; the message (translatable) says why."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return str(self.message)


def generate_password() -> str:
    """A random password that is easy to type once: 4 groups of 4 characters."""
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(4))


def create_user(username: str, *, email: str, role: str, password: str | None,
                display_name: str | None = None) -> User:
    """Validate and add a staff account (the caller commits). `password=None`: an invited account
    that cannot sign in until its owner sets a password through the mailed link."""
    username = (username or "").strip().lower()
    email = (email or "").strip()
    if not USERNAME.match(username):
        raise UserError(_l("user name must be 2–64 characters: lowercase letters, digits, '.', '_' or '-'"))
    if role not in set(Role):
        raise UserError(_l("unknown role %(role)r (use one of: %(roles)s)", role=role, roles=", ".join(Role)))
    if not EMAIL.match(email):
        raise UserError(_l("“%(email)s” is not an e-mail address", email=email))
    if password is not None:
        check_password(password)
    taken = db.session.scalar(
        select(User).where(or_(User.username == username, func.lower(User.email) == email.lower()))
    )
    if taken is not None:
        raise UserError(_l("the user name is already taken") if taken.username == username
                        else _l("the e-mail address is already taken"))
    user = User(username=username, email=email, role=role, display_name=display_name or username)
    if password is not None:
        user.set_password(password)
    db.session.add(user)
    return user


def find_for_reset(login: str) -> User | None:
    """The account a "forgot password" request names (user name or address, any case), if it may get
    a reset mail: active, with an address and a password (invited accounts get their invitation again
    from an administrator)."""
    login = (login or "").strip().lower()
    if not login:
        return None
    user = db.session.scalar(select(User).where(
        or_(func.lower(User.username) == login, func.lower(User.email) == login)))
    if user is None or not user.active or not user.email or user.password_hash is None:
        return None
    return user


def set_password(user: User, password: str) -> None:
    """A new password; every sign-in of the account ends (the caller commits)."""
    check_password(password)
    user.set_password(password)
    sessions.end_all(user)


def deactivate(user: User) -> None:
    """Close the account: it can no longer sign in, and its open sign-ins end (the caller commits)."""
    user.active = False
    sessions.end_all(user)


def check_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise UserError(_l("password must have at least %(n)s characters", n=MIN_PASSWORD_LENGTH))


def audit(user: User, action: str, *, actor: User | None, before=None, after=None, note: str = "") -> None:
    """One back-office audit row about `user`'s account (invitation, reset, two-factor); the caller commits."""
    db.session.add(AdminEvent(actor_id=actor.id if actor is not None else None, action=action,
                              subject=user.username, before=before, after=after, note=note))
