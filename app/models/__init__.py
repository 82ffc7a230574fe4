"""The data model. Models say what the data is; they import no blueprint or service."""
from app.models.comment import (
    CannedResponse,
    Comment,
    CommentRevision,
    CommentStatus,
    ModerationEvent,
    Report,
    ResponseStatus,
    StaffNote,
    Subscription,
    Topic,
)
from app.models.content import LANGUAGES, Category, Page, Post, PostRevision, PostStatus, Redirect, Tag, post_tags
from app.models.imports import ImportedItem, Mention
from app.models.outbox import OutboxMail, OutboxTask
from app.models.site import AdminEvent, Setting, Upload
from app.models.triage import ClassifierModel, CommenterKind, CommenterLevel, CommenterStatus
from app.models.types import UTCDateTime, utcnow
from app.models.user import LoginSession, Role, User
from app.models.webhooks import WEBHOOK_EVENTS, Webhook, WebhookDelivery

__all__ = [
    "LANGUAGES",
    "WEBHOOK_EVENTS",
    "AdminEvent",
    "CannedResponse",
    "Category",
    "ClassifierModel",
    "Comment",
    "CommentRevision",
    "CommentStatus",
    "CommenterKind",
    "CommenterLevel",
    "CommenterStatus",
    "ImportedItem",
    "LoginSession",
    "Mention",
    "ModerationEvent",
    "OutboxMail",
    "OutboxTask",
    "Page",
    "Post",
    "PostRevision",
    "PostStatus",
    "Redirect",
    "Report",
    "ResponseStatus",
    "Role",
    "Setting",
    "StaffNote",
    "Subscription",
    "Tag",
    "Topic",
    "UTCDateTime",
    "Upload",
    "User",
    "Webhook",
    "WebhookDelivery",
    "post_tags",
    "utcnow",
]
