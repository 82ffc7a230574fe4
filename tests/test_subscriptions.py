"""Notifications for commenters (double opt-in, replies, unsubscribe) through the test client and real SMTP."""
import re
from urllib.parse import urlsplit

import pytest
from itsdangerous import URLSafeSerializer
from itsdangerous.encoding import base64_encode
from sqlalchemy import func, select

from app.extensions import db
from app.models import Comment, CommentStatus, OutboxMail, Role, Subscription
from app.moderation import service as moderation
from tests.moderation_helpers import login

TITLE = "Glasfaser für alle"
pytestmark = pytest.mark.post(TITLE)
ENGLISH = {"Accept-Language": "en"}
URL = re.compile(r"https?://[^\s<>\"]+")


# --- helpers ----------------------------------------------------------------------------------------

def comment(client, post, email, body, *, name=None, notify=True, parent=None, headers=None):
    """Send the comment form as a browser would; returns the stored comment."""
    data = {"name": name or email.split("@")[0].title(), "email": email, "body": body, "consent": "y"}
    if notify:
        data["notify"] = "y"
    if parent is not None:
        data["parent_id"] = str(parent)
    response = client.post(f"/posts/{post.slug}/comments", data=data, headers=headers or {})
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    stored = db.session.scalar(select(Comment).where(Comment.body_md == body))
    assert stored is not None
    return stored


def approve(runner, comment_id: int) -> None:
    result = runner.invoke(args=["comments", "approve", str(comment_id)])
    assert result.exit_code == 0, result.output
    assert f"comment {comment_id}: approved" in result.output


def links(received) -> dict[str, str]:
    """The paths of the confirm and unsubscribe links in a mail's body, by kind."""
    found = {}
    for url in URL.findall(received.body):
        path = urlsplit(url).path
        for kind in ("confirm", "unsubscribe"):
            if path.startswith(f"/subscriptions/{kind}/"):
                assert found.setdefault(kind, path) == path, "two different links of one kind"
    return found


def subscription_of(comment_id: int) -> Subscription | None:
    db.session.expire_all()
    return db.session.scalar(select(Subscription).where(Subscription.comment_id == comment_id))


def only_mail(smtp, to: str):
    """Exactly one mail arrived since the last clear, and it went to `to`; returns it and clears."""
    assert [r.rcpt_tos for r in smtp.received] == [[to]], [r.subject for r in smtp.received]
    [received] = smtp.received
    smtp.clear()
    return received


def subscribed(client, runner, smtp, post, email, body, headers=ENGLISH):
    """A reader comments with notify, is approved, confirms: returns (comment, the first mail's links)."""
    own = comment(client, post, email, body, headers=headers)
    approve(runner, own.id)
    found = links(only_mail(smtp, email))
    response = client.post(found["confirm"])
    assert response.status_code == 200
    assert subscription_of(own.id).active
    return own, found


# --- the journey ------------------------------------------------------------------------------------

def test_double_opt_in_journey(client, runner, make, smtp, post):
    # 1. Anna comments and asks for notifications: nothing is sent while the comment waits.
    anna = comment(client, post, "anna@example.org", "Wann kommt Köln dran?", headers=ENGLISH)
    assert anna.status == CommentStatus.PENDING
    assert smtp.received == []
    assert db.session.scalar(select(func.count()).select_from(OutboxMail)) == 0
    subscription = subscription_of(anna.id)
    assert subscription.email == "anna@example.org" and subscription.confirmed_at is None

    # 2. A moderator approves it: one mail tells her it is published and asks to confirm.
    approve(runner, anna.id)
    received = only_mail(smtp, "anna@example.org")
    assert received.subject == f"Your comment on “{TITLE}” is published – confirm notifications"
    assert "Hello Anna," in received.body
    found = links(received)
    assert set(found) == {"confirm", "unsubscribe"}
    assert f"/posts/{post.slug}/comments/{anna.id}" in received.body
    header = str(received.message["List-Unsubscribe"])
    assert header.startswith("<") and header.endswith(">")
    assert urlsplit(header[1:-1]).path == found["unsubscribe"]
    assert str(received.message["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click"
    assert subscription_of(anna.id).confirmation_sent_at is not None

    # 3. Opening the link (or a link scanner fetching it) only shows a button …
    page = client.get(found["confirm"], headers=ENGLISH)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<form method="post"' in html and "Yes, notify me" in html
    assert subscription_of(anna.id).confirmed_at is None

    # 4. … pressing it confirms.
    page = client.post(found["confirm"], headers=ENGLISH)
    assert page.status_code == 200
    assert "we will let you know when someone answers your comment" in page.get_data(as_text=True)
    assert subscription_of(anna.id).active
    assert "already switched on" in client.get(found["confirm"], headers=ENGLISH).get_data(as_text=True)

    # 5. Ben answers (without notifications); once approved, Anna hears about it.
    ben = comment(client, post, "ben@example.org", "Im Frühjahr, laut Plan.", name="Ben", notify=False,
                  parent=anna.id)
    assert smtp.received == []
    approve(runner, ben.id)
    received = only_mail(smtp, "anna@example.org")
    assert received.subject == f"New reply to your comment on “{TITLE}”"
    assert "Ben has answered your comment" in received.body
    assert "Im Frühjahr, laut Plan." in received.body
    assert links(received) == {"unsubscribe": found["unsubscribe"]}
    assert f"/posts/{post.slug}/comments/{ben.id}" in received.body

    # 6. A staff member answers while signed in: published at once, Anna gets a reply mail.
    staff = make.user("mara.moderation", role=Role.MODERATOR, display_name="Mara vom Team")
    login(client, staff)
    official = comment(client, post, "ignoriert@example.org", "Wir melden uns mit Details.", notify=False,
                       parent=anna.id)
    assert official.status == CommentStatus.APPROVED and official.user_id == staff.id
    assert official.author_email == "mara.moderation@example.org"
    received = only_mail(smtp, "anna@example.org")
    assert TITLE in received.subject
    assert "Wir melden uns mit Details." in received.body
    assert links(received) == {"unsubscribe": found["unsubscribe"]}


def test_no_mail_about_ones_own_reply(client, runner, smtp, post):
    anna, _ = subscribed(client, runner, smtp, post, "anna@example.org", "Erster Gedanke.")

    # Anna has an approved comment now, so her reply is published at once; the address's case differs.
    reply = comment(client, post, "Anna@Example.ORG", "Nachtrag von mir.", notify=False, parent=anna.id)

    assert reply.status == CommentStatus.APPROVED
    assert smtp.received == []
    assert db.session.scalar(select(func.count()).select_from(OutboxMail).where(OutboxMail.sent_at.is_(None))) == 0


def test_reader_without_notify_gets_no_mail_at_all(client, runner, smtp, post):
    carl = comment(client, post, "carl@example.org", "Ohne Benachrichtigung, bitte.", notify=False)
    approve(runner, carl.id)
    assert subscription_of(carl.id) is None

    dora = comment(client, post, "dora@example.org", "Antwort an Carl.", notify=False, parent=carl.id)
    approve(runner, dora.id)

    assert smtp.received == []
    assert db.session.scalar(select(func.count()).select_from(OutboxMail)) == 0


def test_pending_comment_of_someone_else_sends_nothing_until_approved(client, runner, smtp, post):
    anna, _ = subscribed(client, runner, smtp, post, "anna@example.org", "Frage zum Ausbau.")

    ben = comment(client, post, "ben@example.org", "Eine Antwort, noch in der Warteschlange.", notify=False,
                  parent=anna.id)

    assert ben.status == CommentStatus.PENDING
    assert smtp.received == []


def test_a_reply_approved_again_is_not_announced_twice(client, runner, smtp, post):
    anna, _ = subscribed(client, runner, smtp, post, "anna@example.org", "Frage zur Störung.")
    ben = comment(client, post, "ben@example.org", "Antwort, die zweimal freigegeben wird.", notify=True,
                  parent=anna.id)
    approve(runner, ben.id)
    assert sorted(r.rcpt_tos[0] for r in smtp.received) == ["anna@example.org", "ben@example.org"]
    smtp.clear()

    # Rejected by mistake, then approved again: Anna already knows about this reply, Ben about his comment.
    moderation.transition(db.session.get(Comment, ben.id), "reject", reason="versehentlich")
    approve(runner, ben.id)

    assert [r.rcpt_tos for r in smtp.received] == []


# --- unsubscribe ------------------------------------------------------------------------------------

def test_unsubscribe_link_stops_reply_mails(client, runner, smtp, post):
    anna, found = subscribed(client, runner, smtp, post, "anna@example.org", "Bitte auf dem Laufenden halten.")

    # Opening the link (a mail scanner may do that too) only asks; the button unsubscribes.
    page = client.get(found["unsubscribe"], headers=ENGLISH)
    assert page.status_code == 200 and "Unsubscribe" in page.get_data(as_text=True)
    assert subscription_of(anna.id).unsubscribed_at is None
    page = client.post(found["unsubscribe"], headers=ENGLISH)

    assert page.status_code == 200
    assert "You are unsubscribed" in page.get_data(as_text=True)
    subscription = subscription_of(anna.id)
    assert subscription.unsubscribed_at is not None and not subscription.active
    assert client.post(found["unsubscribe"]).status_code == 200  # twice is fine

    ben = comment(client, post, "ben@example.org", "Eine Antwort nach der Abmeldung.", notify=False,
                  parent=anna.id)
    approve(runner, ben.id)
    assert smtp.received == []


def test_one_click_unsubscribe_answers_204(client, runner, smtp, post):
    anna, found = subscribed(client, runner, smtp, post, "anna@example.org", "One-Click bitte.")

    response = client.post(found["unsubscribe"], data="List-Unsubscribe=One-Click",
                           content_type="application/x-www-form-urlencoded")

    assert response.status_code == 204
    assert response.get_data() == b""
    assert subscription_of(anna.id).unsubscribed_at is not None

    ben = comment(client, post, "ben@example.org", "Antwort nach One-Click.", notify=False, parent=anna.id)
    approve(runner, ben.id)
    assert smtp.received == []


def test_unsubscribe_before_confirming_means_no_mail(client, runner, smtp, post):
    anna = comment(client, post, "anna@example.org", "Doch lieber nicht.", headers=ENGLISH)
    approve(runner, anna.id)
    found = links(only_mail(smtp, "anna@example.org"))

    assert client.post(found["unsubscribe"], data={"List-Unsubscribe": "One-Click"}).status_code == 204
    ben = comment(client, post, "ben@example.org", "Hallo Anna.", notify=False, parent=anna.id)
    approve(runner, ben.id)

    assert smtp.received == []
    assert not subscription_of(anna.id).active


# --- forged and misused tokens ----------------------------------------------------------------------

def _state(comment_id: int):
    s = subscription_of(comment_id)
    return s.confirmed_at, s.unsubscribed_at


def test_wrong_purpose_and_forged_tokens_are_404_and_change_nothing(app, client, runner, smtp, post):
    anna = comment(client, post, "anna@example.org", "Token-Test.", headers=ENGLISH)
    approve(runner, anna.id)
    found = links(only_mail(smtp, "anna@example.org"))
    confirm_token = found["confirm"].rsplit("/", 1)[1]
    unsubscribe_token = found["unsubscribe"].rsplit("/", 1)[1]
    subscription_id = subscription_of(anna.id).id
    payload, signature = unsubscribe_token.rsplit(".", 1)
    flipped = ("B" if signature[0] == "A" else "A") + signature[1:]  # the first character carries 6 signature bits
    other_action = base64_encode(b'{"s":%d,"a":"confirm"}' % subscription_id).decode()
    other_key = URLSafeSerializer("not-the-secret-key", salt="subscription")
    same_key = URLSafeSerializer(app.config["SECRET_KEY"], salt="subscription")
    before = _state(anna.id)

    attempts = [
        ("confirm", unsubscribe_token),  # an unsubscribe link used to confirm
        ("unsubscribe", confirm_token),  # a confirm link used to unsubscribe
        ("confirm", f"{payload}.{flipped}"),  # tampered signature
        ("confirm", f"{other_action}.{signature}"),  # payload changed to another action, old signature
        ("unsubscribe", f"{payload}.{flipped}"),
        ("confirm", other_key.dumps({"s": subscription_id, "a": "confirm"})),  # signed with another key
        ("confirm", same_key.dumps({"s": 99999, "a": "confirm"})),  # no such subscription
        ("confirm", same_key.dumps({"s": str(subscription_id), "a": "confirm"})),  # not an int
        ("confirm", same_key.dumps([subscription_id, "confirm"])),  # not even a dict
        ("confirm", "kaputt"),
    ]
    for action, token in attempts:
        for method in (client.get, client.post):
            response = method(f"/subscriptions/{action}/{token}")
            assert response.status_code == 404, (action, token, method)
    response = client.post(f"/subscriptions/unsubscribe/{confirm_token}", data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 404

    assert _state(anna.id) == before == (None, None)


# --- later comments, languages ----------------------------------------------------------------------

def test_confirmed_address_gets_published_mail_without_new_confirmation(client, runner, make, smtp, post):
    subscribed(client, runner, smtp, post, "anna@example.org", "Mein erster Kommentar.")
    other = make.post("Neues vom Netzausbau")

    # Trusted now: her next comment is published at once, with notify ticked.
    later = comment(client, other, "anna@example.org", "Und noch einer.", headers=ENGLISH)

    assert later.status == CommentStatus.APPROVED
    received = only_mail(smtp, "anna@example.org")
    assert received.subject == "Your comment on “Neues vom Netzausbau” is published"
    found = links(received)
    assert set(found) == {"unsubscribe"}  # nothing to confirm
    assert "let you know when someone answers" in received.body
    subscription = subscription_of(later.id)
    assert subscription.active

    # And answers to it reach her straight away.
    ben = comment(client, other, "ben@example.org", "Antwort auf den zweiten.", notify=False, parent=later.id)
    approve(runner, ben.id)
    received = only_mail(smtp, "anna@example.org")
    assert received.subject == "New reply to your comment on “Neues vom Netzausbau”"
    assert links(received) == found


def test_mail_is_in_english_for_an_english_reader(client, runner, smtp, post):
    english = comment(client, post, "emma@example.org", "Is there an English version?", headers=ENGLISH)
    assert subscription_of(english.id).lang == "en"

    approve(runner, english.id)

    received = only_mail(smtp, "emma@example.org")
    assert received.subject == f"Your comment on “{TITLE}” is published – confirm notifications"
    assert received.body.startswith("Hello Emma,")


def test_mail_is_in_german_by_default(client, runner, smtp, post):
    german = comment(client, post, "gerd@example.org", "Gibt es das auch auf Deutsch?")
    assert subscription_of(german.id).lang == "de"

    approve(runner, german.id)

    received = only_mail(smtp, "gerd@example.org")
    assert "Your comment" not in received.subject and "confirm notifications" not in received.subject
    assert "Kommentar" in received.subject and TITLE in received.subject
    assert received.body.startswith("Hallo Gerd,")
    assert "Hello" not in received.body
