"""What the site knows about a reader between requests: their own comments, the form's timer."""
import time

from flask import current_app, session
from flask_login import current_user
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from app.comments import service
from app.comments.forms import CommentForm
from app.urls import internal_hosts

OWN_KEY = "own_comments"
JUST_POSTED = "just_posted"
OWN_LIMIT = 50


def own_comment_ids() -> set[int]:
    """Comments this browser wrote, remembered in the signed session (to show them while pending)."""
    return {i for i in session.get(OWN_KEY, []) if isinstance(i, int)}


def remember_own(comment_id: int) -> None:
    ids = [i for i in session.get(OWN_KEY, []) if i != comment_id] + [comment_id]
    session[OWN_KEY] = ids[-OWN_LIMIT:]


def form_timestamp() -> str:
    """A signed time for the form; how fast it comes back tells people from bots."""
    return _timer().dumps(time.time())


def seconds_taken(token: str | None) -> float | None:
    try:
        issued = _timer().loads(token or "", max_age=7 * 24 * 3600)
    except SignatureExpired:
        return float("inf")  # a tab left open for a week: slow, certainly not a bot
    except BadSignature:
        return None
    return time.time() - float(issued) if isinstance(issued, (int, float)) else None


def new_comment_form(**data) -> CommentForm:
    form = CommentForm(formdata=None, data=data)
    form.ts.data = form_timestamp()
    if current_user.is_authenticated:
        form.name.data, form.email.data = current_user.display_name, current_user.email
    return form


def rules() -> service.Rules:
    return service.Rules.from_config(current_app.config, internal_hosts())


def _timer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="comment-form")
