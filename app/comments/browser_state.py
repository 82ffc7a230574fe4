"""What the site knows about a reader between requests: their own comments, the form's timer, and
the proof that this browser may speak for an address (the reader cookie).

Trust follows proof, not a typed address: the reader cookie (signed, kept a year) lists the
comments this browser wrote and the addresses it confirmed through a link mailed to them. A
reader whose earlier comment from this address was approved, or who clicked such a link, is
published at once; someone who merely types their address is not.
"""
import secrets
import time
from functools import lru_cache

from flask import after_this_request, current_app, g, request, session
from flask_login import current_user
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from app.comments import service
from app.comments.forms import CommentForm
from app.moderation import rules as comment_rules
from app.urls import internal_hosts

OWN_KEY = "own_comments"
JUST_POSTED = "just_posted"
OWN_LIMIT = 50
READER_COOKIE = "dialog_reader"
READER_DAYS = 365
READER_LIMIT = 20  # comments and addresses remembered per browser


def own_comment_ids() -> set[int]:
    """Comments this browser wrote, remembered in the signed session (to show them while pending)."""
    return {i for i in session.get(OWN_KEY, []) if isinstance(i, int)}


def remember_own(comment_id: int) -> None:
    ids = [i for i in session.get(OWN_KEY, []) if i != comment_id] + [comment_id]
    session[OWN_KEY] = ids[-OWN_LIMIT:]


def fresh_session() -> None:
    """A new session (and CSRF token) at a sign-in, keeping the comments this browser wrote."""
    own = session.get(OWN_KEY)
    session.clear()
    if own:
        session[OWN_KEY] = own


def form_timestamp() -> str:
    """A signed time for the form (how fast it comes back tells people from bots) and a one-time
    key (the same form sent twice, a double click, is stored once: a unique column)."""
    stamp = new_stamp(current_app.config["SECRET_KEY"])
    g.setdefault("form_timestamps", []).append(stamp)  # the page cache cuts it out of stored pages
    return stamp


def new_stamp(secret_key: str) -> str:
    """The signed time and key alone (the page cache fills them into cached pages, outside Flask)."""
    return _timer(secret_key).dumps({"t": time.time(), "k": secrets.token_hex(16)})


def seconds_taken(token: str | None) -> float | None:
    try:
        issued = _timer().loads(token or "", max_age=7 * 24 * 3600)
    except SignatureExpired:
        return float("inf")  # a tab left open for a week: slow, certainly not a bot
    except BadSignature:
        return None
    issued = issued.get("t") if isinstance(issued, dict) else issued
    return time.time() - float(issued) if isinstance(issued, (int, float)) else None


def submission_key(token: str | None) -> str | None:
    """The form's one-time key, if its signature holds (an expired form keeps its key)."""
    if not token:
        return None
    valid, data = _timer().loads_unsafe(token)
    if not valid or not isinstance(data, dict) or not isinstance(data.get("k"), str):
        return None
    return data["k"][:64]


def new_comment_form(**data) -> CommentForm:
    form = CommentForm(formdata=None, data=data)
    form.ts.data = form_timestamp()
    if current_user.is_authenticated:
        form.name.data, form.email.data = current_user.display_name, current_user.email
    return form


def proof() -> service.Proof:
    """What this browser has proved (from the signed reader cookie; nothing when it is missing or forged)."""
    try:
        data = _reader_signer().loads(request.cookies.get(READER_COOKIE, ""), max_age=READER_DAYS * 86400)
    except BadSignature:
        return service.Proof()
    if not isinstance(data, dict):
        return service.Proof()
    written = tuple(i for i in data.get("c", []) if isinstance(i, int))[-READER_LIMIT:]
    addresses = tuple(a for a in data.get("a", []) if isinstance(a, str))[-READER_LIMIT:]
    return service.Proof(written=written, addresses=addresses)


def remember_written(comment_id: int) -> None:
    """This browser wrote the comment: once it is approved, its address is this browser's."""
    _update_reader_cookie(written=comment_id)


def remember_address(email: str) -> None:
    """This browser followed a link mailed to `email` (e.g. confirming notifications)."""
    _update_reader_cookie(address=service.address_key(email, current_app.config["SECRET_KEY"]))


def _update_reader_cookie(*, written: int | None = None, address: str | None = None) -> None:
    current = proof()
    ids = [i for i in current.written if i != written] + ([written] if written else [])
    addresses = [a for a in current.addresses if a != address] + ([address] if address else [])
    value = _reader_signer().dumps({"c": ids[-READER_LIMIT:], "a": addresses[-READER_LIMIT:]})

    @after_this_request
    def set_cookie(response):
        response.set_cookie(READER_COOKIE, value, max_age=READER_DAYS * 86400, httponly=True, samesite="Lax",
                            secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")))
        return response


def _reader_signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="reader-proof")


def rules() -> service.Rules:
    """The comment rules in force (app/config.py, overlaid by what admins set in the browser), read
    once per request: one query, whatever the page does with them."""
    if "comment_rules" not in g:
        stored = comment_rules.load(current_app.config)
        g.comment_rules = service.Rules.from_config(comment_rules.as_config(current_app.config, stored),
                                                    internal_hosts())
        g.report_threshold = stored.report_threshold
    return g.comment_rules


def report_threshold() -> int:
    """Reports from different readers after which an approved comment is hidden until checked."""
    rules()
    return g.report_threshold


def forget_rules() -> None:
    """The rules changed in this request: read them again when next needed."""
    g.pop("comment_rules", None)


def _timer(secret_key: str | None = None) -> URLSafeTimedSerializer:
    return _timer_for(secret_key or current_app.config["SECRET_KEY"])


@lru_cache(maxsize=4)  # made once: a serializer's setup costs more than a signature
def _timer_for(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt="comment-form")
