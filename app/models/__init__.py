"""The data model. Models say what the data is; they import no blueprint or service."""
from app.models.comment import Comment, CommentStatus, ModerationEvent, OutboxMail, Subscription
from app.models.content import LANGUAGES, Category, Page, Post, PostStatus, Tag, post_tags
from app.models.types import UTCDateTime, utcnow
from app.models.user import Role, User

__all__ = [
    "Comment", "CommentStatus", "ModerationEvent", "OutboxMail", "Subscription",
    "LANGUAGES", "Category", "Page", "Post", "PostStatus", "Role", "Tag", "UTCDateTime", "User",
    "post_tags", "utcnow",
]
