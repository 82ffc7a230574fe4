"""Webhooks: a real receiver on 127.0.0.1 checks every signature; retries, timeouts, the address
check, the admin pages (issue 13)."""
import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Comment, CommentStatus, ResponseStatus, Role, Webhook, WebhookDelivery, utcnow
from app.moderation import service as moderation, target_alerts
from app.webhooks import service as webhooks
from tests.comment_helpers import add_comment, post_comment
from tests.moderation_helpers import login, moderator

EN = {"Accept-Language": "en"}
SITE = "https://blog.example.org"


class Receiver:
    """An HTTP server in a thread: verifies each delivery's signature with `secret`, records it,
    answers the next of `statuses` (then 200), after `delay` seconds."""

    def __init__(self):
        self.secret = ""
        self.statuses: list[int] = []
        self.delay = 0.0
        self.location = ""
        self.received: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.received.append({
                    "headers": dict(self.headers), "body": body, "payload": json.loads(body),
                    "valid": webhooks.verify(receiver.secret, self.headers.get("X-Dialog-Timestamp"), body,
                                             self.headers.get("X-Dialog-Signature")),
                })
                if receiver.delay:
                    time.sleep(receiver.delay)
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                if receiver.location:
                    self.send_header("Location", receiver.location)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook?channel=team"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)

    def payloads(self, event=None):
        return [r["payload"] for r in self.received if event is None or r["payload"]["event"] == event]


@pytest.fixture
def receiver(app):
    app.config.update(WEBHOOK_ALLOW_PRIVATE=True, SITE_URL=SITE)  # the receiver is on 127.0.0.1
    r = Receiver()
    r.thread.start()
    yield r
    r.server.shutdown()
    r.server.server_close()


def register(receiver, *events, name="Team-Chat"):
    hook = webhooks.create(webhooks.HookInput(name=name, url=receiver.url, events=list(events)), None,
                           allow_private=True)
    db.session.commit()
    receiver.secret = hook.secret
    return hook


def deliveries(hook_id):
    db.session.expire_all()
    return list(db.session.scalars(select(WebhookDelivery).where(WebhookDelivery.webhook_id == hook_id)
                                   .order_by(WebhookDelivery.id)))


def test_a_new_comment_reaches_the_receiver_signed(client, receiver, post):
    hook = register(receiver, "comment.waiting")
    assert post_comment(client, post.slug).status_code == 302  # the test client drains after the request
    (got,) = receiver.received
    assert got["valid"], "the signature and timestamp check out"
    assert got["headers"]["X-Dialog-Event"] == "comment.waiting"
    assert got["headers"]["X-Dialog-Delivery"] == str(deliveries(hook.id)[0].id)
    assert got["headers"]["X-Dialog-Signature"].startswith("sha256=")
    payload = got["payload"]
    comment = db.session.scalar(select(Comment))
    assert payload["comment"] == {**payload["comment"], "id": comment.id, "post_title": "Glasfaser für alle",
                                  "author_name": "Petra Lindqvist",
                                  "url": f"{SITE}/moderation/comments/{comment.id}"}
    assert payload["comment"]["url"] in payload["text"] and "Petra Lindqvist" in payload["text"]
    assert "petra@example.org" not in got["body"].decode() and "ip" not in json.dumps(payload["comment"])
    (delivery,) = deliveries(hook.id)
    assert delivery.delivered_at is not None and delivery.attempts == 1 and delivery.last_status == 200


def test_only_hooks_registered_and_enabled_for_the_event_get_it(client, receiver, post, make):
    other = register(receiver, "comment.reported", name="Andere")
    off = register(receiver, "comment.waiting", name="Aus")
    webhooks.set_active(off, False, None)
    db.session.commit()
    post_comment(client, post.slug)
    assert receiver.received == [] and deliveries(other.id) == [] and deliveries(off.id) == []
    staff = make.user("chef", role=Role.ADMIN)
    login(client, staff)
    post_comment(client, post.slug, body="Vom Team.")  # staff comments are approved: nothing waits
    assert receiver.received == []


def test_a_breached_target_reaches_the_receiver_once(app, receiver, post):
    register(receiver, "target.breached", "target.warning")
    question = add_comment(post, status=CommentStatus.APPROVED, minutes_ago=5 * 60, name="Jonas",
                           response_status=ResponseStatus.NEEDS_ANSWER)  # the default target is 4 hours
    checked = target_alerts.check()
    assert (checked.breached, checked.warned) == (1, 0)
    assert webhooks.deliver_due() == (1, 0)
    (payload,) = receiver.payloads()
    assert payload["event"] == "target.breached" and receiver.received[0]["valid"]
    assert payload["comment"]["id"] == question.id and payload["due_at"].endswith("Z")
    db.session.expire_all()
    assert db.session.get(Comment, question.id).target_breached_at is not None
    assert target_alerts.check().breached == 0  # once per comment
    assert webhooks.deliver_due() == (0, 0) and len(receiver.received) == 1


def test_a_warning_comes_before_the_breach(app, receiver, post):
    register(receiver, "target.warning", "target.breached")
    add_comment(post, minutes_ago=4 * 60 - 20, response_status=ResponseStatus.NEEDS_ANSWER)  # due in 20 minutes
    add_comment(post, minutes_ago=60, response_status=ResponseStatus.NEEDS_ANSWER, body="Noch Zeit?")
    assert (target_alerts.check().warned, target_alerts.check().warned) == (1, 0)
    later = utcnow() + timedelta(minutes=21)
    assert target_alerts.check(now=later).breached == 1
    webhooks.deliver_due(now=later)
    assert [p["event"] for p in receiver.payloads()] == ["target.warning", "target.breached"]


def test_a_receiver_failing_is_retried_with_back_off(app, receiver, post):
    hook = register(receiver, "comment.reported")
    comment = add_comment(post)
    receiver.statuses = [500, 503]
    moderation.report(comment, reason="spam", details="Werbung", ip_hash="abc", hide_after=3)
    start = utcnow()
    assert webhooks.deliver_due() == (0, 1)
    (delivery,) = deliveries(hook.id)
    assert (delivery.attempts, delivery.last_status, delivery.delivered_at) == (1, 500, None)
    assert "HTTP 500" in delivery.last_error
    assert timedelta(seconds=55) < delivery.next_attempt_at - start < timedelta(seconds=65)  # 1 minute
    assert webhooks.deliver_due() == (0, 0), "not due yet"
    assert webhooks.deliver_due(now=start + timedelta(minutes=1, seconds=5)) == (0, 1)
    (delivery,) = deliveries(hook.id)
    assert delivery.attempts == 2 and delivery.last_status == 503
    assert timedelta(minutes=2) <= delivery.next_attempt_at - (start + timedelta(minutes=1)) < timedelta(minutes=3)
    assert webhooks.deliver_due(now=start + timedelta(minutes=4)) == (1, 0)
    (delivery,) = deliveries(hook.id)
    assert delivery.delivered_at is not None and delivery.attempts == 3 and delivery.last_error == ""
    assert [r["payload"]["event"] for r in receiver.received] == ["comment.reported"] * 3
    assert all(r["valid"] for r in receiver.received), "every attempt is signed afresh"
    assert len({r["headers"]["X-Dialog-Delivery"] for r in receiver.received}) == 1  # receivers deduplicate on it


def test_a_delivery_is_given_up_after_the_attempt_limit(app, receiver, post, make):
    app.config["WEBHOOK_MAX_ATTEMPTS"] = 2
    hook = register(receiver, "comment.escalated")
    receiver.statuses = [500, 500]
    comment = add_comment(post, response_status=ResponseStatus.NEEDS_ANSWER)
    moderation.escalate(comment, moderator(make), "Technik", "Bitte prüfen")
    later = utcnow()
    for minutes in (0, 2):
        webhooks.deliver_due(now=later + timedelta(minutes=minutes))
    (delivery,) = deliveries(hook.id)
    assert delivery.attempts == 2 and delivery.next_attempt_at is None and delivery.delivered_at is None
    assert receiver.payloads()[0]["escalated_to"] == "Technik"


def test_a_receiver_that_times_out_is_retried_and_blocks_nothing(app, receiver, post):
    app.config["WEBHOOK_TIMEOUT"] = 0.3
    hook = register(receiver, "comment.reported")
    receiver.delay = 1.0
    moderation.report(add_comment(post), reason="spam", details="", ip_hash="x", hide_after=3)
    started = time.monotonic()
    assert webhooks.deliver_due() == (0, 1)
    assert time.monotonic() - started < 0.9
    (delivery,) = deliveries(hook.id)
    assert delivery.last_status is None and "timed out" in delivery.last_error.lower()
    assert delivery.next_attempt_at is not None


def test_redirects_are_not_followed(app, receiver, post):
    hook = register(receiver, "comment.reported")
    receiver.statuses, receiver.location = [302], "http://example.net/elsewhere"
    moderation.report(add_comment(post), reason="spam", details="", ip_hash="y", hide_after=3)
    assert webhooks.deliver_due() == (0, 1)
    (delivery,) = deliveries(hook.id)
    assert delivery.last_status == 302 and "redirects are not followed" in delivery.last_error
    assert len(receiver.received) == 1


def test_private_addresses_are_refused_unless_allowed(app, receiver, post):
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False
    for url in (receiver.url, "http://localhost/x", "http://10.1.2.3/x", "http://169.254.169.254/latest",
                "http://[::1]/x", "http://[::ffff:127.0.0.1]/x", "http://0.0.0.0/"):
        with pytest.raises(webhooks.WebhookError) as refused:
            webhooks.create(webhooks.HookInput(url=url, events=["comment.waiting"]), None, allow_private=False)
        assert "url" in refused.value.errors, url
    # Saved while allowed, then no longer: every delivery checks the address again (DNS rebinding).
    hook = register(receiver, "comment.reported")
    moderation.report(add_comment(post), reason="spam", details="", ip_hash="z", hide_after=3)
    assert webhooks.deliver_due() == (0, 1)
    (delivery,) = deliveries(hook.id)
    assert "private" in delivery.last_error and receiver.received == []


def test_bad_input_is_refused_with_a_reason():
    def refused(**kw):
        data = webhooks.HookInput(**{"url": "https://hooks.example.org/x", "events": ["comment.waiting"], **kw})
        with pytest.raises(webhooks.WebhookError) as exc:
            webhooks._validated(data, allow_private=True)
        return exc.value.errors

    assert "url" in refused(url="ftp://example.org/x")
    assert "url" in refused(url="javascript:alert(1)")
    assert "url" in refused(url="https:///nohost")
    assert "url" in refused(url="http://exa mple.org/")
    assert "url" in refused(url="http://example.org:99999/")
    assert "url" in refused(url="")
    assert "events" in refused(events=["comment.deleted"])
    assert "events" in refused(events=[])


def test_verify_rejects_forgeries_and_replays():
    body = b'{"event":"test"}'
    now = 1_800_000_000
    good = webhooks.sign("s3cret", now, body)
    assert webhooks.verify("s3cret", str(now), body, good, now=now + 10)
    assert webhooks.verify("s3cret", now, body.decode(), good, now=now)
    assert not webhooks.verify("other", now, body, good, now=now), "wrong secret"
    assert not webhooks.verify("s3cret", now, body + b" ", good, now=now), "changed body"
    assert not webhooks.verify("s3cret", now + 1, body, good, now=now), "changed timestamp"
    assert not webhooks.verify("s3cret", now, body, good, now=now + 301), "older than 5 minutes: a replay"
    assert not webhooks.verify("s3cret", "soon", body, good, now=now)
    assert not webhooks.verify("s3cret", now, body, None, now=now)


def test_the_admin_pages(client, receiver, make, post):
    admin = make.user("chefin", role=Role.ADMIN)
    login(client, admin)
    assert "No webhooks yet" in client.get("/admin/webhooks", headers=EN).get_data(as_text=True)
    response = client.post("/admin/webhooks", headers=EN, data={
        "name": "Support-Kanal", "url": receiver.url, "events": ["comment.waiting", "target.breached"]})
    assert response.status_code == 302
    hook = db.session.scalar(select(Webhook))
    receiver.secret = hook.secret
    page = client.get(response.headers["Location"], headers=EN).get_data(as_text=True)
    assert hook.secret in page and "Nothing sent yet" in page
    assert client.post(f"/admin/webhooks/{hook.id}/test", headers=EN).status_code == 302  # drained after it
    page = client.get(f"/admin/webhooks/{hook.id}", headers=EN).get_data(as_text=True)
    assert "delivered" in page and ">test<" in page
    (got,) = receiver.received
    assert got["valid"] and got["payload"]["event"] == "test"
    # disabled: no test, no deliveries
    client.post(f"/admin/webhooks/{hook.id}/disable")
    response = client.post(f"/admin/webhooks/{hook.id}/test", headers=EN, follow_redirects=True)
    assert "disabled" in response.get_data(as_text=True) and len(receiver.received) == 1
    client.post(f"/admin/webhooks/{hook.id}/enable")
    # editing with bad input re-shows the form with the reason
    receiver_url = receiver.url
    response = client.post(f"/admin/webhooks/{hook.id}", headers=EN, data={"url": "ftp://x.org/", "events": ["nope"]})
    text = response.get_data(as_text=True)
    assert response.status_code == 400 and "Only http:// and https://" in text and "Unknown event" in text
    db.session.expire_all()
    assert db.session.get(Webhook, hook.id).url == receiver_url
    old_secret = hook.secret
    client.post(f"/admin/webhooks/{hook.id}/secret")
    db.session.expire_all()
    assert db.session.get(Webhook, hook.id).secret != old_secret
    assert client.post(f"/admin/webhooks/{hook.id}/delete").status_code == 302
    assert db.session.scalar(select(Webhook)) is None and db.session.scalar(select(WebhookDelivery)) is None
    assert client.post("/admin/webhooks/9999/test").status_code == 404


def test_the_admin_form_refuses_private_addresses_without_a_500(client, app, make):
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False
    login(client, make.user("chefin", role=Role.ADMIN))
    for url in ("http://127.0.0.1:8080/hook", "http://[::1]/", "gopher://example.org/", "http://"):
        response = client.post("/admin/webhooks", headers=EN, data={"url": url, "events": ["comment.waiting"]})
        assert response.status_code == 400, url
        assert "Nothing was saved" in response.get_data(as_text=True)
    assert db.session.scalar(select(Webhook)) is None


def test_moderators_cannot_manage_webhooks(client, make):
    login(client, make.user("mod", role=Role.MODERATOR))
    assert client.get("/admin/webhooks").status_code == 403
    assert client.post("/admin/webhooks", data={"url": "https://example.org", "events": ["test"]}).status_code == 403


def test_a_privacy_erasure_removes_the_deliveries_that_name_the_person(client, receiver, post, make):
    from app.privacy import service as privacy

    hook = register(receiver, "comment.waiting")
    assert post_comment(client, post.slug).status_code == 302
    assert len(deliveries(hook.id)) == 1 and deliveries(hook.id)[0].comment_id is not None
    privacy.erase("petra@example.org", make.user("dpo", role=Role.ADMIN))
    assert deliveries(hook.id) == []
