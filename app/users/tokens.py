"""Signed links mailed to staff (invitation, password reset): expiring, and single use.

A token names the account and a fingerprint of its current password hash and address, so it
dies once a password is set (or the address changes): no list of used tokens is kept. Each
purpose has its own salt, so an invitation never works as a reset link or the other way round.
"""
import hashlib
import hmac

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from app.extensions import db
from app.models import User

INVITE = "invite"
RESET = "password-reset"


class TokenError(ValueError):
    """A link that cannot be used; `reason` is "invalid", "expired" or "used"."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def max_age(purpose: str) -> int:
    """Seconds a link of this purpose stays valid (INVITE_HOURS, PASSWORD_RESET_MINUTES)."""
    config = current_app.config
    return int(config["INVITE_HOURS"]) * 3600 if purpose == INVITE else int(config["PASSWORD_RESET_MINUTES"]) * 60


def issue(user: User, purpose: str) -> str:
    """A signed token for `user` that works until it expires or the account's password changes."""
    return _serializer(purpose).dumps({"u": user.id, "f": _fingerprint(user)})


def redeem(token: str, purpose: str) -> User:
    """The active account a still-valid token names; raises TokenError saying why not. Uses nothing up:
    setting the password (which the caller does) is what makes the token dead."""
    try:
        data = _serializer(purpose).loads(token, max_age=max_age(purpose))
    except SignatureExpired as exc:
        raise TokenError("expired") from exc
    except BadSignature as exc:
        raise TokenError("invalid") from exc
    if not isinstance(data, dict) or not isinstance(data.get("u"), int) or not isinstance(data.get("f"), str):
        raise TokenError("invalid")
    user = db.session.get(User, data["u"])
    if user is None or not user.active or not hmac.compare_digest(data["f"], _fingerprint(user)):
        raise TokenError("used")  # a password was set since, or the account was closed
    if purpose == INVITE and user.password_hash is not None:
        raise TokenError("used")
    return user


def _fingerprint(user: User) -> str:
    """A short keyed hash of the state a token is bound to: the password hash and the address."""
    key = current_app.config["SECRET_KEY"].encode()
    state = f"{user.password_hash or ''}\n{(user.email or '').lower()}".encode()
    return hmac.new(key, state, hashlib.sha256).hexdigest()[:32]


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"dialog-account-{purpose}")
