"""The data model. Models say what the data is; they import no blueprint or service."""
from app.models.comment import (
    CannedResponse, Comment, CommentRevision, CommentStatus, ModerationEvent, Report, ResponseStatus, StaffNote,
    Subscription, Topic,
)
from app.models.outbox import OutboxMail, OutboxTask
from app.models.content import LANGUAGES, Category, Page, Post, PostStatus, Tag, post_tags
from app.models.types import UTCDateTime, utcnow
from app.models.user import LoginSession, Role, User

__all__ = [
    "CannedResponse", "Comment", "CommentRevision", "CommentStatus", "ModerationEvent", "OutboxMail", "OutboxTask", "Report", "ResponseStatus",
    "StaffNote", "Subscription", "Topic",
    "LANGUAGES", "Category", "LoginSession", "Page", "Post", "PostStatus", "Role", "Tag", "UTCDateTime", "User",
    "post_tags", "utcnow",
]
