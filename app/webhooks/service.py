"""Webhooks: admins register URLs per event; each event becomes one signed JSON post per hook.

`emit(event, comment, **data)` writes one `WebhookDelivery` per active hook registered for the
event, in the caller's transaction (nothing is sent for a change that never commits). The outbox's
drainer calls `deliver_due()` after the commit: it claims each due delivery with a lease (two
drainers never post it twice at once), posts it (`WEBHOOK_TIMEOUT`), and records the outcome: a 2xx
answer is delivered, anything else is retried after 1, 2, 4, 8, 16 … minutes until
`WEBHOOK_MAX_ATTEMPTS`, with the status code and error kept as the hook's delivery log.

Signature: `X-Dialog-Signature: sha256=<hex>` is HMAC-SHA256 with the hook's secret over
`f"{timestamp}.{body}"`, the timestamp (Unix seconds) in `X-Dialog-Timestamp`; receivers reject
timestamps older than `REPLAY_WINDOW` (5 minutes) so a recorded delivery cannot be replayed later.
`verify()` is that check, for receivers and tests.

Addresses: a hook's URL must be http(s) with a host, and the host must not resolve to a private,
loopback or link-local address (unless `WEBHOOK_ALLOW_PRIVATE`), checked when it is saved and again
at every delivery; the connection goes to the very address that was checked (no second lookup a
rebinding DNS server could answer differently), and redirects are never followed.
"""
import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import secrets
import socket
import ssl
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import force_locale, format_datetime, gettext as _, lazy_gettext as _l
from sqlalchemy import delete, select, update

from app.extensions import db
from app.i18n import isotime
from app.models import WEBHOOK_EVENTS, AdminEvent, Comment, Post, User, Webhook, WebhookDelivery, utcnow
from app.urls import site_url

log = logging.getLogger(__name__)

TEST = "test"  # the "send test" button's event (not registrable)
EVENT_LABELS = {
    "comment.waiting": _l("A new reader comment awaits moderation"),
    "target.warning": _l("A reader's response target is about to break"),
    "target.breached": _l("A reader's response target was missed"),
    "comment.escalated": _l("A comment was escalated"),
    "comment.reported": _l("A reader reported a comment"),
}
REPLAY_WINDOW = 300  # seconds: receivers reject older timestamps (and ones this far in the future)
LOG_SIZE = 50  # deliveries shown per hook
KEEP = timedelta(days=30)  # finished deliveries are removed after this long
ROUND_SECONDS = 15.0  # one drainer round posts for at most this long; the rest waits for the next
MAX_URL = 2000
MAX_NAME = 120
USER_AGENT = "Dialog-Webhooks/1"


class WebhookError(ValueError):
    """Input that cannot be saved (`errors`: field → message), or an action that is not possible."""

    def __init__(self, errors: dict[str, str] | str):
        self.errors = errors if isinstance(errors, dict) else {"": errors}
        super().__init__("; ".join(str(v) for v in self.errors.values()))


class AddressRefused(Exception):
    """The URL's host cannot be used (private address, does not resolve …); `message` says why."""

    def __init__(self, message):
        self.message = message
        super().__init__(str(message))


# --- signing ---------------------------------------------------------------------------------------

def sign(secret: str, timestamp: int | str, body: bytes | str) -> str:
    """The `X-Dialog-Signature` value: sha256=<hex of HMAC-SHA256(secret, f"{timestamp}.{body}")>."""
    body = body.encode("utf-8") if isinstance(body, str) else body
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode("ascii") + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(secret: str, timestamp: int | str | None, body: bytes | str, signature: str | None,
           now: float | None = None, window: int = REPLAY_WINDOW) -> bool:
    """What a receiver checks: the signature matches and the timestamp is within `window` seconds
    of `now` (Unix seconds; default: the clock). A replayed or forged delivery is False."""
    try:
        sent = int(str(timestamp))
    except (TypeError, ValueError):
        return False
    now = time.time() if now is None else now
    if abs(now - sent) > window:
        return False
    return hmac.compare_digest(sign(secret, sent, body), signature or "")


def new_secret() -> str:
    return secrets.token_hex(32)


def encode(payload: dict) -> bytes:
    """The body as sent (and signed): compact JSON, UTF-8."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")


# --- addresses -------------------------------------------------------------------------------------

def _forbidden(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.version == 6 and ip in _IPV4_COMPATIBLE:  # ::127.0.0.1, deprecated; Python counts it as global
        return True
    return not ip.is_global or ip.is_multicast


_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


def resolve(host: str, port: int, *, allow_private: bool) -> list[str]:
    """The host's addresses (getaddrinfo); refused if any is private, loopback, link-local or
    otherwise not public, unless `allow_private`."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise AddressRefused(_l("The host name could not be resolved (%(error)s).", error=str(exc))) from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise AddressRefused(_l("The host name could not be resolved."))
    if not allow_private and any(_forbidden(a) for a in addresses):
        raise AddressRefused(_l("The address points into a private, loopback or link-local network; "
                                "webhooks may only go to public addresses."))
    return addresses


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # ASCII (IDNA)
    port: int
    path: str


def parse_url(url: str) -> Target:
    """An http(s) URL with a host, or AddressRefused."""
    if not url or len(url) > MAX_URL or any(ord(ch) < 33 for ch in url):
        raise AddressRefused(_l("Please enter a web address (http:// or https://) without spaces."))
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise AddressRefused(_l("This is not a valid web address.")) from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise AddressRefused(_l("Only http:// and https:// addresses can receive webhooks."))
    if not parts.hostname:
        raise AddressRefused(_l("The address has no host name."))
    if parts.username is not None or parts.password is not None:  # they would be dropped silently
        raise AddressRefused(_l("Addresses with a user name or password are not supported: the receiver "
                                "checks the signature instead."))
    try:
        host = parts.hostname.encode("idna").decode("ascii") if not parts.hostname.isascii() else parts.hostname
    except UnicodeError:
        raise AddressRefused(_l("The host name is not valid.")) from None
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(scheme, host, port or (443 if scheme == "https" else 80), path)


def check_url(url: str, *, allow_private: bool) -> Target:
    target = parse_url(url)
    resolve(target.host, target.port, allow_private=allow_private)
    return target


# --- hooks: what admins register -------------------------------------------------------------------

@dataclass
class HookInput:
    name: str = ""
    url: str = ""
    events: list[str] = field(default_factory=list)


def _validated(data: HookInput, allow_private: bool) -> HookInput:
    errors = {}
    name = " ".join((data.name or "").split())
    if len(name) > MAX_NAME:
        errors["name"] = _l("At most %(n)s characters.", n=MAX_NAME)
    url = (data.url or "").strip()
    try:
        check_url(url, allow_private=allow_private)
    except AddressRefused as exc:
        errors["url"] = exc.message
    unknown = [e for e in data.events if e not in WEBHOOK_EVENTS]
    if unknown:
        errors["events"] = _l("Unknown event: %(events)s.", events=", ".join(unknown)[:200])
    elif not data.events:
        errors["events"] = _l("Please choose at least one event.")
    if errors:
        raise WebhookError(errors)
    return HookInput(name=name, url=url, events=[e for e in WEBHOOK_EVENTS if e in data.events])


def _audit(actor: User | None, action: str, hook: Webhook, before=None, after=None) -> None:
    """Admin events name the hook and its host; the URL itself may be a secret (chat webhooks)."""
    db.session.add(AdminEvent(actor_id=getattr(actor, "id", None), action=action,
                              subject=(hook.name or urlsplit(hook.url).hostname or "")[:200],
                              before=before, after=after))


def _summary(hook: Webhook) -> dict:
    return {"host": urlsplit(hook.url).hostname or "", "events": list(hook.events or []), "active": hook.active}


def create(data: HookInput, actor: User | None, *, allow_private: bool) -> Webhook:
    """A new hook with a generated secret (the caller commits)."""
    clean = _validated(data, allow_private)
    hook = Webhook(name=clean.name, url=clean.url, events=clean.events, secret=new_secret(), active=True,
                   created_by_id=getattr(actor, "id", None), created_at=utcnow())
    db.session.add(hook)
    db.session.flush()
    _audit(actor, "webhook.create", hook, after=_summary(hook))
    return hook


def update_hook(hook: Webhook, data: HookInput, actor: User | None, *, allow_private: bool) -> Webhook:
    clean = _validated(data, allow_private)
    before, was = _summary(hook), (hook.name, hook.url)
    hook.name, hook.url, hook.events = clean.name, clean.url, clean.events
    if _summary(hook) != before or was != (hook.name, hook.url):
        _audit(actor, "webhook.update", hook, before=before, after=_summary(hook))
    return hook


def set_active(hook: Webhook, active: bool, actor: User | None) -> None:
    if hook.active != active:
        hook.active = active
        _audit(actor, "webhook.enable" if active else "webhook.disable", hook)


def rotate_secret(hook: Webhook, actor: User | None) -> None:
    hook.secret = new_secret()
    _audit(actor, "webhook.secret", hook)


def remove(hook: Webhook, actor: User | None) -> None:
    """The hook and its delivery log go (undelivered deliveries with it)."""
    _audit(actor, "webhook.delete", hook, before=_summary(hook))
    db.session.execute(delete(WebhookDelivery).where(WebhookDelivery.webhook_id == hook.id)
                       .execution_options(synchronize_session=False))
    db.session.delete(hook)


def hooks() -> list[Webhook]:
    return list(db.session.scalars(select(Webhook).order_by(Webhook.id)))


def deliveries(hook: Webhook, limit: int = LOG_SIZE) -> list[WebhookDelivery]:
    """The hook's delivery log: its newest deliveries first."""
    return list(db.session.scalars(select(WebhookDelivery).where(WebhookDelivery.webhook_id == hook.id)
                                   .order_by(WebhookDelivery.id.desc()).limit(limit)))


def send_test(hook: Webhook, actor: User | None) -> WebhookDelivery:
    """Queue a `test` delivery for this hook (the drainer sends it within a second; the log shows
    the outcome). Refused for a disabled hook. The caller commits."""
    if not hook.active:
        raise WebhookError(_l("This webhook is disabled: enable it to send a test."))
    now = utcnow()
    config = current_app.config
    with force_locale(config["DEFAULT_LANGUAGE"]):
        text = _("Test from %(site)s: the webhook “%(name)s” works.", site=config["SITE_NAME"],
                 name=hook.name or urlsplit(hook.url).hostname)
    payload = {"event": TEST, "text": text, "site": config["SITE_NAME"], "occurred_at": isotime(now),
               "webhook": {"id": hook.id, "name": hook.name},
               "by": actor.display_name if actor is not None else None}
    delivery = WebhookDelivery(webhook_id=hook.id, event=TEST, payload=payload, created_at=now, next_attempt_at=now)
    db.session.add(delivery)
    return delivery


# --- events ----------------------------------------------------------------------------------------

def _short(value: datetime | None) -> str:
    return format_datetime(value, "short") if value is not None else ""


def payload(event: str, comment: Comment, now: datetime, **data) -> dict:
    """What receivers get: `text` (one readable line with a link, for chat incoming webhooks) and
    the structured data. Names and titles only: never an e-mail address or IP hash."""
    config = current_app.config
    title = db.session.scalar(select(Post.title).where(Post.id == comment.post_id)) or ""
    url = site_url("moderation.comment", comment_id=comment.id)
    values = {k: isotime(v) if isinstance(v, datetime) else v for k, v in data.items()}
    author = comment.author_name
    with force_locale(config["DEFAULT_LANGUAGE"]):
        if event == "comment.waiting":
            text = _("New comment by %(author)s on “%(title)s” awaits moderation: %(url)s",
                     author=author, title=title, url=url)
        elif event == "target.warning":
            text = _("%(author)s is waiting for an answer on “%(title)s”; the response target is due %(due)s: "
                     "%(url)s", author=author, title=title, due=_short(data.get("due_at")), url=url)
        elif event == "target.breached":
            text = _("Response target missed: %(author)s has waited on “%(title)s” since %(since)s (due %(due)s): "
                     "%(url)s", author=author, title=title, since=_short(comment.created_at),
                     due=_short(data.get("due_at")), url=url)
        elif event == "comment.escalated":
            text = _("Comment by %(author)s on “%(title)s” escalated to %(to)s: %(url)s",
                     author=author, title=title, to=data.get("escalated_to") or "–", url=url)
        else:  # comment.reported
            text = _("Comment by %(author)s on “%(title)s” was reported: %(url)s", author=author, title=title, url=url)
    return {
        "event": event, "text": text, "site": config["SITE_NAME"], "occurred_at": isotime(now),
        "comment": {"id": comment.id, "post_title": title, "url": url, "author_name": author,
                    "status": str(comment.status), "response_status": comment.response_status,
                    "created_at": isotime(comment.created_at)},
        "due_at": values.pop("due_at", None),
        **values,
    }


def emit(event: str, comment: Comment, *, now: datetime | None = None, **data) -> list[WebhookDelivery]:
    """One delivery per active hook registered for `event`, in the caller's transaction (one query
    when no hook wants it). `data` goes into the payload (datetimes as ISO 8601)."""
    if event not in WEBHOOK_EVENTS:
        raise ValueError(f"unknown webhook event {event!r}")
    wanted = [h for h in db.session.scalars(select(Webhook).where(Webhook.active)) if event in (h.events or ())]
    if not wanted:
        return []
    now = now or utcnow()
    body = payload(event, comment, now, **data)
    rows = [WebhookDelivery(webhook_id=h.id, event=event, comment_id=comment.id, payload=body, created_at=now,
                            next_attempt_at=now)
            for h in wanted]
    db.session.add_all(rows)
    return rows


# --- delivery --------------------------------------------------------------------------------------

def _connect(addresses: list[str], port: int, timeout: float) -> socket.socket:
    """A connection to the first of the checked addresses that answers (IPv6 and IPv4 alike)."""
    error: OSError | None = None
    for address in addresses:
        try:
            return socket.create_connection((address, port), timeout)
        except OSError as exc:
            error = exc
    raise error or OSError("no address to connect to")


class _PinnedHTTP(http.client.HTTPConnection):
    """Connects to the addresses that were checked, while Host (and TLS's server name) stay the URL's."""

    def __init__(self, host, port, addresses, timeout):
        super().__init__(host, port, timeout=timeout)
        self.addresses = addresses

    def connect(self):
        self.sock = _connect(self.addresses, self.port, self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host, port, addresses, timeout):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.addresses = addresses

    def connect(self):
        sock = _connect(self.addresses, self.port, self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


@dataclass
class Attempt:
    status: int | None
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def post(hook: Webhook, delivery: WebhookDelivery) -> Attempt:
    """One attempt: checked address, signed body, no redirects. Never raises."""
    config = current_app.config
    try:
        target = parse_url(hook.url)
        addresses = resolve(target.host, target.port, allow_private=bool(config["WEBHOOK_ALLOW_PRIVATE"]))
    except AddressRefused as exc:
        return Attempt(None, str(exc.message))
    body = encode(delivery.payload or {})
    timestamp = int(time.time())
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT,
               "X-Dialog-Event": delivery.event, "X-Dialog-Delivery": str(delivery.id),
               "X-Dialog-Timestamp": str(timestamp), "X-Dialog-Signature": sign(hook.secret, timestamp, body)}
    kind = _PinnedHTTPS if target.scheme == "https" else _PinnedHTTP
    connection = kind(target.host, target.port, addresses, float(config["WEBHOOK_TIMEOUT"]))
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        answer = response.read(512)
    except (OSError, http.client.HTTPException, ValueError) as exc:  # refused, timeout, TLS, bad answer
        return Attempt(None, f"{exc.__class__.__name__}: {exc}"[:500] if str(exc) else exc.__class__.__name__)
    finally:
        connection.close()
    if 200 <= response.status < 300:
        return Attempt(response.status)
    if 300 <= response.status < 400:
        return Attempt(response.status, f"HTTP {response.status}: redirects are not followed "
                                        f"({response.getheader('Location', '')[:200]})")
    text = " ".join(answer.decode("utf-8", "replace").split())[:200]
    return Attempt(response.status, f"HTTP {response.status}" + (f": {text}" if text else ""))


def backoff(attempts: int) -> timedelta:
    """The pause after the `attempts`-th failure: 1, 2, 4, 8, 16 … minutes."""
    return timedelta(minutes=2 ** max(0, min(attempts - 1, 10)))


def _lease() -> timedelta:
    return timedelta(seconds=2 * float(current_app.config["WEBHOOK_TIMEOUT"]) + 30)


def deliver_due(limit: int = 50, *, now: datetime | None = None) -> tuple[int, int]:
    """Post what is due (the drainer calls it after mail): claim each with a lease, post, record.
    A hook that failed once in this round is not tried again until the next. Returns (delivered, failed)."""
    now = now or utcnow()
    started = time.monotonic()
    due = db.session.execute(
        select(WebhookDelivery.id, WebhookDelivery.webhook_id).where(
            WebhookDelivery.delivered_at.is_(None), WebhookDelivery.next_attempt_at.is_not(None),
            WebhookDelivery.next_attempt_at <= now,
            WebhookDelivery.lease_until.is_(None) | (WebhookDelivery.lease_until < now))
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id).limit(limit)).all()
    delivered = failed = 0
    failing: set[int] = set()
    max_attempts = int(current_app.config["WEBHOOK_MAX_ATTEMPTS"])
    for delivery_id, hook_id in due:
        if hook_id in failing:
            continue
        if time.monotonic() - started > ROUND_SECONDS:
            break
        claimed = db.session.execute(
            update(WebhookDelivery).where(
                WebhookDelivery.id == delivery_id, WebhookDelivery.delivered_at.is_(None),
                WebhookDelivery.next_attempt_at.is_not(None),
                WebhookDelivery.lease_until.is_(None) | (WebhookDelivery.lease_until < now))
            .values(lease_until=now + _lease()).execution_options(synchronize_session=False)).rowcount
        db.session.commit()
        if not claimed:
            continue
        delivery = db.session.get(WebhookDelivery, delivery_id)
        db.session.refresh(delivery)
        hook = db.session.get(Webhook, hook_id)
        if hook is None:
            continue
        if not hook.active:
            outcome = Attempt(None, "not sent: the webhook is disabled")
            delivery.next_attempt_at = None
        else:
            outcome = post(hook, delivery)
            delivery.attempts += 1
        delivery.lease_until = None
        delivery.last_status = outcome.status
        delivery.last_error = outcome.error
        if outcome.ok:
            delivery.delivered_at = utcnow()
            delivered += 1
        else:
            failing.add(hook_id)
            failed += 1
            if hook.active:
                delivery.next_attempt_at = now + backoff(delivery.attempts) \
                    if delivery.attempts < max_attempts else None
            log.warning("webhook %s delivery %s failed (attempt %s): %s", hook.id, delivery.id,
                        delivery.attempts, outcome.error)
        db.session.commit()
    _tidy(now)
    return delivered, failed


_TIDIED = "dialog.webhooks_tidied"
TIDY_EVERY = 3600.0  # seconds between clean-ups, per process


def _tidy(now: datetime) -> None:
    """Finished deliveries (delivered or given up) are kept for the log a while, then removed
    (checked once an hour per process, not every round)."""
    last = current_app.extensions.get(_TIDIED)
    if last is not None and time.monotonic() - last < TIDY_EVERY:
        return
    current_app.extensions[_TIDIED] = time.monotonic()
    db.session.execute(delete(WebhookDelivery).where(
        WebhookDelivery.created_at < now - KEEP,
        WebhookDelivery.delivered_at.is_not(None) | WebhookDelivery.next_attempt_at.is_(None))
        .execution_options(synchronize_session=False))
    db.session.commit()
