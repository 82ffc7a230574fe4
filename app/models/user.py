"""Staff accounts (readers comment without one)."""
import hashlib
import secrets
from datetime import datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class Role(StrEnum):
    ADMIN = "admin"  # everything, including users
    EDITOR = "editor"  # all posts
    AUTHOR = "author"  # own posts
    MODERATOR = "moderator"  # the comment queue

class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    # None: the account cannot log in (e.g. an author created by the post import).
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default=Role.AUTHOR)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    digest: Mapped[str] = mapped_column(String(8), default="off")  # off | hourly | daily: queue digest mails
    digest_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Optional two-factor sign-in (TOTP, RFC 6238): the base32 secret, set when confirmed with a code.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None] = mapped_column()  # a code is accepted once (no replay)
    recovery_codes: Mapped[list] = mapped_column(JSON, default=list)  # sha256 of each unused code
    # Staff profile for author pages (issue 14 builds on it).
    bio: Mapped[str] = mapped_column(Text, default="")

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.active

    # The sign-in this object was loaded for (set by login and the user loader, never stored here).
    login_token = None

    def get_id(self) -> str:
        """Flask-Login's id in the session and the remember cookie: the account and one sign-in
        (`LoginSession`), so ending that sign-in on the server ends every copy of the cookie."""
        return f"{self.id}:{self.login_token or ''}"

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    def __repr__(self) -> str:
        return f"<User {self.username} ({self.role})>"


class LoginSession(db.Model):
    """One sign-in of a staff member (a browser, until logout). Session and remember cookies name it;
    deleting the row ends it, so a cookie copied before logout opens nothing afterwards."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 of the token in the cookie
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)

    @staticmethod
    def new_token() -> str:
        return secrets.token_urlsafe(32)

    @staticmethod
    def hash(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()
