"""Staff sign-ins kept on the server: a cookie names one `LoginSession`; ending the row ends the cookie.

Flask's session cookie is signed, not stored, so without this a cookie copied before logout
would keep working. The token lives in the session and remember cookies (as part of
Flask-Login's user id); the database keeps only its hash.
"""
from datetime import timedelta

from sqlalchemy import delete, select

from app.converters import parse_int
from app.extensions import db
from app.models import LoginSession, User, utcnow


def start(user: User, *, lifetime: timedelta) -> str:
    """Open a sign-in for `user` lasting `lifetime`; returns the token for the cookie (the caller commits)."""
    now = utcnow()
    db.session.execute(delete(LoginSession).where(LoginSession.expires_at < now))  # tidy up as we go
    token = LoginSession.new_token()
    db.session.add(LoginSession(user_id=user.id, token_hash=LoginSession.hash(token), created_at=now,
                                expires_at=now + lifetime))
    user.login_token = token
    return token


def load(cookie_id: str) -> User | None:
    """The active user a cookie's "<user id>:<token>" names, if that sign-in is still open."""
    number, _sep, token = (cookie_id or "").partition(":")
    user_id = parse_int(number)
    if user_id is None or not token or len(token) > 100:
        return None
    user = db.session.scalar(
        select(User).join(LoginSession, LoginSession.user_id == User.id)
        .where(User.id == user_id, LoginSession.token_hash == LoginSession.hash(token),
               LoginSession.expires_at > utcnow())
    )
    if user is not None:
        user.login_token = token
    return user


def end(token: str | None) -> None:
    """Close one sign-in (logout); the caller commits."""
    if token:
        db.session.execute(delete(LoginSession).where(LoginSession.token_hash == LoginSession.hash(token)))


def end_all(user: User) -> int:
    """Close every sign-in of `user` (new password, deactivation); the caller commits."""
    return db.session.execute(delete(LoginSession).where(LoginSession.user_id == user.id)).rowcount
