"""Optional two-factor sign-in for staff: TOTP codes (RFC 6238, via pyotp) and one-time recovery codes.

A code is accepted once: the time step of the last accepted code is stored, and only a later
step counts (one step of clock drift either way is allowed). Both checks are conditional
UPDATEs, so two requests racing with the same code cannot both win. Recovery codes are stored
as SHA-256 hashes and removed when used.
"""
import hashlib
import hmac
import json
import secrets
import time

import pyotp
import segno
from sqlalchemy import Text, cast, or_, update
from sqlalchemy.orm.attributes import set_committed_value

from app.extensions import db
from app.models import User, utcnow
from app.users.service import audit

RECOVERY_CODES = 10
DRIFT_STEPS = 1  # a code of the step before or after the current one is accepted too
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read off paper


def clock() -> float:
    """The time codes are checked against (tests freeze it)."""
    return time.time()


def new_secret() -> str:
    """A fresh base32 secret (160 bits) for the authenticator app."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, user: User, issuer: str) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=issuer)


def qr_data_uri(uri: str) -> str:
    """The QR code of `uri` as a `data:` SVG image, drawn here (no external service sees the secret)."""
    return segno.make(uri, error="m").svg_data_uri(scale=5, dark="#000", light="#fff", border=4)


def matching_step(secret: str, code: str, at: float | None = None) -> int | None:
    """The time step whose code `code` is (current ± drift), or None."""
    code = "".join((code or "").split())
    if not (code.isascii() and code.isdigit() and len(code) == 6):  # compare_digest refuses other digits
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(clock() if at is None else at)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def enable(user: User, secret: str, code: str) -> list[str] | None:
    """Turn two-factor on with `secret` if `code` is a current code for it; returns the new recovery
    codes (shown once, stored hashed), or None for a wrong code. The caller commits."""
    step = matching_step(secret, code)
    if step is None:
        return None
    codes = _new_recovery_codes()
    user.totp_secret = secret
    user.totp_enabled_at = utcnow()
    user.totp_last_step = step  # the code that confirmed it cannot sign in as well
    user.recovery_codes = [_hash(c) for c in codes]
    audit(user, "user.2fa_enable", actor=user)
    return codes


def disable(user: User, *, actor: User | None, action: str = "user.2fa_disable", note: str = "") -> None:
    """Turn two-factor off (the owner after a code, or an admin's reset); audited. The caller commits."""
    was = user.totp_enabled_at is not None
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    user.recovery_codes = []
    audit(user, action, actor=actor, before={"two_factor": was}, after={"two_factor": False}, note=note)


def verify(user: User, code: str) -> str | None:
    """Check a sign-in code: "totp" or "recovery" when accepted (and used up), None otherwise.
    The caller commits."""
    if not enabled(user):
        return None
    step = matching_step(user.totp_secret, code)
    if step is not None:
        won = db.session.execute(
            update(User).where(User.id == user.id,
                               or_(User.totp_last_step.is_(None), User.totp_last_step < step))
            .values(totp_last_step=step).execution_options(synchronize_session=False)
        ).rowcount
        if won:
            set_committed_value(user, "totp_last_step", step)  # what the UPDATE stored; nothing to flush
            return "totp"
        return None  # this code (or a later one) was used already: a replay
    return "recovery" if _use_recovery_code(user, code) else None


def enabled(user: User) -> bool:
    return bool(user.totp_enabled_at and user.totp_secret)


def recovery_codes_left(user: User) -> int:
    return len(user.recovery_codes or [])


def _use_recovery_code(user: User, code: str) -> bool:
    normalized = _normalize(code)
    if len(normalized) != 10:
        return False
    digest = _hash(normalized)
    old = list(user.recovery_codes or [])
    if digest not in old:
        return False
    new = [h for h in old if h != digest]
    # Conditional on the list this request read: two requests with the same code, one wins.
    won = db.session.execute(
        update(User).where(User.id == user.id, cast(User.recovery_codes, Text) == json.dumps(old))
        .values(recovery_codes=new).execution_options(synchronize_session=False)
    ).rowcount
    if won:
        set_committed_value(user, "recovery_codes", new)
    return bool(won)


def _new_recovery_codes() -> list[str]:
    raw = ["".join(secrets.choice(_ALPHABET) for _ in range(10)) for _ in range(RECOVERY_CODES)]
    return [f"{c[:5]}-{c[5:]}" for c in raw]


def _normalize(code: str) -> str:
    return "".join(ch for ch in (code or "").lower() if ch.isalnum())


def _hash(code: str) -> str:
    return hashlib.sha256(_normalize(code).encode()).hexdigest()
