"""Privacy requests: look-up, export and erasure of everything stored about a commenter's address."""
import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    Comment,
    CommentStatus,
    ModerationEvent,
    OutboxMail,
    Post,
    Report,
    ResponseStatus,
    Role,
    StaffNote,
    Subscription,
    utcnow,
)
from app.privacy import service as privacy
from tests.comment_helpers import add_comment
from tests.moderation_helpers import login

EMAIL = "petra@example.org"
STORED = "Petra@Example.ORG"  # as she typed it once
NAME = "Petra Lindqvist"
IP_HASH = "a1" * 32
EN = {"Accept-Language": "en"}


@pytest.fixture
def mod(make):
    return make.user("mod", role=Role.MODERATOR, display_name="Mona Moderator")


@pytest.fixture
def moderating(client, mod):
    login(client, mod)
    client.drain = False  # the outbox's mail going out would change the rows these tests compare
    return client


@pytest.fixture
def stored(post, mod, make):
    """Petra's data, and around it other people's data that has to stay."""
    other_post = make.post("Netzkultur am Sonntag")
    answered = add_comment(post, name=NAME, email=STORED, body="Wann kommt Glasfaser nach Kleinwellingen?",
                           author_url="https://petra.example.net", ip_hash=IP_HASH,
                           response_status=ResponseStatus.ANSWERED, approved_at=utcnow() - timedelta(minutes=50))
    reply = add_comment(post, parent=answered, name="Otto Ohnesorg", email="otto@example.org",
                        body="Bei mir ging es schnell. Schreib mir an petra@example.org weiter? "
                             "Nein: PETRA@EXAMPLE.ORG!")
    official = add_comment(post, parent=answered, name="Sternwelle-Team", email="mod@example.org",
                           body="Hallo Petra, im Herbst.", user_id=mod.id, is_official=True)
    pending = add_comment(post, status=CommentStatus.PENDING, name=NAME, email=EMAIL, body="Und der Preis?",
                          ip_hash=IP_HASH, response_status=ResponseStatus.NEEDS_ANSWER, flag_count=1)
    edited = add_comment(other_post, name=NAME, email=EMAIL, body="Meine Kundennummer: [entfernt]",
                         original_body_md="Meine Kundennummer: 4711", minutes_ago=600)
    deleted = add_comment(other_post, status=CommentStatus.DELETED, name=NAME, email=EMAIL, body="Zurückgezogen.")
    spam = add_comment(other_post, status=CommentStatus.SPAM, name=NAME, email=EMAIL, body="Noch mal?")
    lookalike = add_comment(post, name="Anna", email="anna.petra@example.org", body="Ich bin jemand anderes.")
    db.session.add_all([
        Subscription(email=STORED, comment_id=answered.id, lang="en", confirmed_at=utcnow()),
        Subscription(email=EMAIL, comment_id=pending.id),
        Subscription(email="otto@example.org", comment_id=reply.id, confirmed_at=utcnow()),
        Report(comment_id=pending.id, reason="offtopic", details="Frau petra@example.org nervt.", ip_hash="b2" * 32),
        StaffNote(comment_id=answered.id, author_id=mod.id, body="Kundin ruft oft an."),
        StaffNote(comment_id=pending.id, author_id=mod.id, body="Rückfrage an petra@example.org geschickt."),
        OutboxMail(to=EMAIL, subject="Ihr Kommentar ist veröffentlicht", body="Hallo Petra Lindqvist"),
        OutboxMail(to=STORED, subject="Neue Antwort", body="Otto hat geantwortet", sent_at=utcnow()),
        OutboxMail(to="otto@example.org", subject="Neue Antwort", body="Das Team hat geantwortet"),
    ])
    db.session.add(ModerationEvent(comment_id=pending.id, actor_id=mod.id, action="escalate",
                                   reason="Datenschutz: petra@example.org fragt nach"))
    db.session.commit()
    return {"answered": answered, "reply": reply, "official": official, "pending": pending, "edited": edited,
            "deleted": deleted, "spam": spam, "lookalike": lookalike}


def everything_in_the_database() -> str:
    """Every value of every row of every table, as one lower-case text."""
    db.session.expire_all()
    parts = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(select(table)).all():
            parts += [str(value) for value in row]
    return "\n".join(parts).lower()


def holds_the_address(text: str) -> bool:
    """Petra's address on its own (anna.petra@example.org is someone else's)."""
    return re.search(r"(?<![\w.+-])petra@example\.org", text, re.IGNORECASE) is not None


def petra(comment_id: int) -> Comment:
    db.session.expire_all()
    return db.session.get(Comment, comment_id)


def erase(client, email=EMAIL, confirm=None):
    data = {"email": email, "confirm": email if confirm is None else confirm}
    return client.post("/moderation/privacy/erase", data=data, headers=EN)


# --- who may ------------------------------------------------------------------------------------

REQUESTS = [("get", "/moderation/privacy", None), ("get", f"/moderation/privacy?email={EMAIL}", None),
            ("post", "/moderation/privacy/export", {"email": EMAIL}),
            ("post", "/moderation/privacy/erase", {"email": EMAIL, "confirm": EMAIL})]


@pytest.mark.parametrize("method, url, data", REQUESTS)
def test_anonymous_visitors_are_sent_to_the_login(client, stored, method, url, data):
    response = getattr(client, method)(url, data=data)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    assert petra(stored["pending"].id).author_email == EMAIL


@pytest.mark.parametrize("role", [Role.AUTHOR, Role.EDITOR])
@pytest.mark.parametrize("method, url, data", REQUESTS)
def test_staff_who_do_not_moderate_are_refused(client, make, stored, role, method, url, data):
    login(client, make.user("someone", role=role))
    response = getattr(client, method)(url, data=data)
    assert response.status_code == 403
    assert petra(stored["pending"].id).author_email == EMAIL


@pytest.mark.parametrize("role", [Role.MODERATOR, Role.ADMIN])
def test_moderators_and_admins_may(client, make, role):
    login(client, make.user("someone", role=role))
    response = client.get("/moderation/privacy", headers=EN)
    assert response.status_code == 200
    assert "Privacy requests" in response.get_data(as_text=True)


# --- look-up ------------------------------------------------------------------------------------

def test_lookup_lists_everything_about_the_address_whatever_its_case(moderating, stored):
    response = moderating.get("/moderation/privacy", query_string={"email": "  PETRA@example.org "}, headers=EN)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "5 comments" in html
    assert "2 subscriptions" in html
    assert "1 report by others against these comments" in html
    assert "2 mails to the address in the outbox" in html and "1 not sent yet" in html
    assert "typed into" in html  # Otto's reply, the report, the note, the audit reason
    for key in ("answered", "pending", "edited", "deleted", "spam"):
        assert f'/moderation/comments/{stored[key].id}"' in html
    assert "Wann kommt Glasfaser nach Kleinwellingen?" in html and "Und der Preis?" in html
    assert "Glasfaser für alle" in html and "Netzkultur am Sonntag" in html
    assert "https://petra.example.net" in html
    assert "Ich bin jemand anderes." not in html  # anna.petra@… is someone else
    assert "Bei mir ging es schnell" not in html  # Otto's words are his
    assert 'action="/moderation/privacy/export"' in html and 'action="/moderation/privacy/erase"' in html


def test_lookup_without_an_address_shows_the_form(moderating):
    response = moderating.get("/moderation/privacy", headers=EN)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'name="email"' in html and "Stored about" not in html


@pytest.mark.parametrize("typed, message", [("", "Please enter an e-mail address."),
                                            ("   ", "Please enter an e-mail address."),
                                            ("petra", "Please enter a valid e-mail address"),
                                            ("petra@localhost", "Please enter a valid e-mail address"),
                                            ("a b@example.org", "Please enter a valid e-mail address"),
                                            ("x" * 250 + "@example.org", "Please enter a valid e-mail address")])
def test_lookup_of_no_address_says_so(moderating, typed, message):
    response = moderating.get("/moderation/privacy", query_string={"email": typed}, headers=EN)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html
    assert 'name="email"' in html


def test_lookup_of_an_unknown_address(moderating, stored):
    response = moderating.get("/moderation/privacy", query_string={"email": "nobody@example.org"}, headers=EN)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Nothing is stored about this address." in html
    assert 'action="/moderation/privacy/erase"' not in html


def test_lookup_escapes_what_readers_typed(moderating, post):
    add_comment(post, name="<script>alert(1)</script>", email=EMAIL, body="<img src=x onerror=alert(1)>")
    html = moderating.get("/moderation/privacy", query_string={"email": EMAIL}).get_data(as_text=True)
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    assert "&lt;script&gt;" in html


# --- export -------------------------------------------------------------------------------------

def test_export_is_a_json_download_of_the_person_s_own_data(moderating, stored):
    response = moderating.post("/moderation/privacy/export", data={"email": "PETRA@example.org"}, headers=EN)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and ".json" in disposition
    assert "petra" not in disposition.lower()  # the file name carries no address
    data = json.loads(response.get_data(as_text=True))

    assert data["about"] == EMAIL
    by_id = {c["id"]: c for c in data["comments"]}
    assert set(by_id) == {stored[k].id for k in ("answered", "pending", "edited", "deleted", "spam")}
    first = by_id[stored["answered"].id]
    assert first["name"] == NAME and first["email"] == STORED
    assert first["website"] == "https://petra.example.net"
    assert first["text"] == "Wann kommt Glasfaser nach Kleinwellingen?"
    assert first["status"] == "approved"
    assert first["post"]["title"] == "Glasfaser für alle"
    assert first["created_at"] and first["approved_at"]
    assert by_id[stored["pending"].id]["status"] == "pending"
    assert by_id[stored["edited"].id]["original_text_before_staff_edit"] == "Meine Kundennummer: 4711"
    assert {s["comment"] for s in data["subscriptions"]} == {stored["answered"].id, stored["pending"].id}
    assert len(data["notification_mails"]) == 2
    assert "ip_hash" in data["notes"] and "30 days" in data["notes"]["ip_hash"]

    text = json.dumps(data, ensure_ascii=False)
    assert IP_HASH not in text and "b2" * 32 not in text  # no IP hashes
    assert "Kundin ruft oft an" not in text and "Rückfrage" not in text  # no staff notes
    assert "Otto" not in text and "otto@example.org" not in text and "Bei mir ging es schnell" not in text
    assert "Hallo Petra, im Herbst." not in text and "mod@example.org" not in text  # the team's answer
    assert "nervt" not in text  # someone else's report
    assert "anna.petra" not in text and "Ich bin jemand anderes." not in text
    assert "Datenschutz:" not in text  # the audit trail


def test_export_of_the_post_uses_slug_and_title(moderating, stored, post):
    data = json.loads(moderating.post("/moderation/privacy/export", data={"email": EMAIL}).get_data(as_text=True))
    [entry] = [c for c in data["comments"] if c["id"] == stored["answered"].id]
    assert entry["post"]["slug"] == post.slug and entry["post"]["title"] == post.title
    assert entry["post"]["url"].endswith(f"/posts/{post.slug}")


def test_export_of_an_unknown_address(moderating, stored):
    response = moderating.post("/moderation/privacy/export", data={"email": "nobody@example.org"}, headers=EN)
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "Nothing is stored about this address." in response.get_data(as_text=True)


@pytest.mark.parametrize("email", ["", "not-an-address"])
def test_export_of_no_address(moderating, stored, email):
    response = moderating.post("/moderation/privacy/export", data={"email": email}, headers=EN)
    assert response.status_code == 400
    assert "e-mail address" in response.get_data(as_text=True)


# --- erasure ------------------------------------------------------------------------------------

def test_erasure_leaves_no_trace_of_the_address_anywhere(moderating, stored):
    assert holds_the_address(everything_in_the_database())
    response = erase(moderating)
    assert response.status_code == 302
    assert response.headers["Location"] == "/moderation/privacy"  # no address in the URL
    everything = everything_in_the_database()
    assert not holds_the_address(everything)
    assert "anna.petra@example.org" in everything  # someone else's address stays
    assert NAME.lower() not in everything.replace("hallo petra, im herbst.", "")  # the team greeted her by first name
    assert IP_HASH not in everything
    assert "petra.example.net" not in everything
    assert "kundennummer: 4711" not in everything and "wann kommt glasfaser" not in everything
    assert "und der preis?" not in everything


def test_erased_comments_are_blanked_and_deleted_through_the_state_machine(moderating, stored, mod):
    erase(moderating)
    for key in ("answered", "pending", "edited", "deleted", "spam"):
        c = petra(stored[key].id)
        assert c.status == CommentStatus.DELETED
        assert c.author_name == "Gelöscht"  # the site's language (German) at the time of erasure
        assert c.author_email == f"erased-{c.id}@invalid"
        assert (c.body_md, c.body_html, c.author_url, c.original_body_md, c.ip_hash) == ("", "", None, None, None)
        assert c.claimed_by_id is None
        erase_events = db.session.scalars(select(ModerationEvent).where(
            ModerationEvent.comment_id == c.id, ModerationEvent.action == "erase")).all()
        assert [(e.actor_id, e.reason, e.to_status) for e in erase_events] == [(mod.id, "privacy erasure", "deleted")]
    deletions = dict(db.session.execute(select(ModerationEvent.comment_id, ModerationEvent.from_status).where(
        ModerationEvent.action == "delete", ModerationEvent.reason == "privacy erasure",
        ModerationEvent.actor_id == mod.id)).all())
    assert deletions == {stored["answered"].id: "approved", stored["pending"].id: "pending",
                         stored["edited"].id: "approved", stored["spam"].id: "spam"}  # not the one deleted before
    # Reports against the deleted comment are dealt with, as with every deletion.
    assert db.session.scalar(select(Report.resolved_at)) is not None


def test_the_audit_trail_of_the_erasure_holds_nothing_personal(moderating, stored):
    erase(moderating)
    events = db.session.scalars(select(ModerationEvent).where(ModerationEvent.reason.like("privacy erasure%"))).all()
    assert len(events) >= 5 + 4
    for event in events:
        text = f"{event.action} {event.from_status} {event.to_status} {event.reason}".lower()
        assert "petra" not in text and "@" not in text


def test_a_comment_with_replies_stays_in_its_thread_as_removed(moderating, client, stored, post):
    erase(moderating)
    page = client.get(f"/posts/{post.slug}", headers=EN).get_data(as_text=True)
    assert "This comment has been removed." in page
    assert f'id="comment-{stored["answered"].id}"' in page
    assert "Bei mir ging es schnell." in page  # Otto's reply stays …
    assert "petra@example.org" not in page.lower()  # … without the address he typed
    assert "Hallo Petra, im Herbst." in page  # the team's answer stays
    assert NAME not in page and "Gelöscht" not in page
    assert "Wann kommt Glasfaser" not in page


def test_a_comment_without_replies_disappears_from_the_page(moderating, client, make, stored):
    slug = db.session.get(Post, stored["edited"].post_id).slug
    assert "Meine Kundennummer" in client.get(f"/posts/{slug}").get_data(as_text=True)
    erase(moderating)
    page = client.get(f"/posts/{slug}", headers=EN).get_data(as_text=True)
    assert "Meine Kundennummer" not in page and "This comment has been removed." not in page


def test_subscriptions_and_mails_to_the_address_go_other_people_s_stay(moderating, stored):
    erase(moderating)
    db.session.expire_all()
    assert [s.email for s in db.session.scalars(select(Subscription))] == ["otto@example.org"]
    assert [m.to for m in db.session.scalars(select(OutboxMail))] == ["otto@example.org"]


def test_what_staff_and_readers_wrote_about_her_comments_goes_and_the_trail_stays(moderating, stored):
    """Notes on her comments, report details and audit reasons quote her: they go; who did what, when, stays."""
    erase(moderating)
    assert db.session.scalars(select(StaffNote)).all() == []
    [report] = db.session.scalars(select(Report)).all()
    assert (report.details, report.reason) == ("", "offtopic")
    escalation = db.session.scalar(select(ModerationEvent).where(ModerationEvent.action == "escalate"))
    assert escalation.reason == "" and escalation.actor_id is not None and escalation.at is not None


def test_a_staff_note_elsewhere_keeps_its_text_without_the_address(moderating, stored, mod):
    db.session.add(StaffNote(comment_id=stored["reply"].id, author_id=mod.id, body="Otto kennt petra@example.org."))
    db.session.commit()
    erase(moderating)
    assert [n.body for n in db.session.scalars(select(StaffNote))] == ["Otto kennt [erased]."]


def test_the_address_typed_into_someone_else_s_comment_is_blanked_with_an_audit_entry(moderating, stored, mod):
    erase(moderating)
    reply = petra(stored["reply"].id)
    assert reply.status == CommentStatus.APPROVED and reply.author_name == "Otto Ohnesorg"
    assert reply.body_md == "Bei mir ging es schnell. Schreib mir an [erased] weiter? Nein: [erased]!"
    assert "[erased]" in reply.body_html and "petra@" not in reply.body_html.lower()
    [event] = db.session.scalars(select(ModerationEvent).where(ModerationEvent.comment_id == reply.id,
                                                               ModerationEvent.action == "redact")).all()
    assert event.actor_id == mod.id and "@" not in event.reason


def test_other_people_s_data_is_untouched(moderating, stored):
    erase(moderating)
    lookalike = petra(stored["lookalike"].id)
    assert (lookalike.author_email, lookalike.body_md, lookalike.status) == \
        ("anna.petra@example.org", "Ich bin jemand anderes.", CommentStatus.APPROVED)
    official = petra(stored["official"].id)
    assert official.status == CommentStatus.APPROVED and official.body_md == "Hallo Petra, im Herbst."


def test_the_moderator_learns_what_was_erased(moderating, stored):
    response = erase(moderating)
    page = moderating.get(response.headers["Location"], headers=EN).get_data(as_text=True)
    assert "Erased: 5 comments, 2 subscriptions, 2 mails" in page
    assert EMAIL not in page.lower()


def test_erasing_again_finds_nothing(moderating, stored):
    erase(moderating)
    response = erase(moderating)
    assert response.status_code == 404
    assert "Nothing is stored about this address." in response.get_data(as_text=True)
    html = moderating.get("/moderation/privacy", query_string={"email": EMAIL}, headers=EN).get_data(as_text=True)
    assert "Nothing is stored about this address." in html


def test_confirmation_is_case_insensitive(moderating, stored):
    response = erase(moderating, email=EMAIL, confirm=" PETRA@example.ORG ")
    assert response.status_code == 302
    assert petra(stored["pending"].id).status == CommentStatus.DELETED


@pytest.mark.parametrize("confirm", ["", "petra@example.com", "anna.petra@example.org"])
def test_a_wrong_confirmation_erases_nothing(moderating, stored, confirm):
    before = everything_in_the_database()
    response = erase(moderating, confirm=confirm)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "does not match. Nothing has been erased." in html
    assert 'action="/moderation/privacy/erase"' in html  # the form again
    assert everything_in_the_database() == before


@pytest.mark.parametrize("email", ["", "petra"])
def test_erasing_no_address_is_refused(moderating, stored, email):
    before = everything_in_the_database()
    response = erase(moderating, email=email)
    assert response.status_code == 400
    assert "e-mail address" in response.get_data(as_text=True)
    assert everything_in_the_database() == before


def test_erasing_an_unknown_address(moderating, stored):
    before = everything_in_the_database()
    response = erase(moderating, email="nobody@example.org")
    assert response.status_code == 404
    assert "Nothing is stored about this address." in response.get_data(as_text=True)
    assert everything_in_the_database() == before


def test_a_staff_account_s_address_is_left_to_user_management(moderating, stored, make, post):
    colleague = make.user("anna", role=Role.EDITOR, display_name="Anna Editor")
    add_comment(post, name="Anna Editor", email="anna@example.org", body="Privat geschrieben.")
    html = moderating.get("/moderation/privacy", query_string={"email": "anna@example.org"}, headers=EN)\
        .get_data(as_text=True)
    assert "belongs to the staff account" in html and 'action="/moderation/privacy/erase"' not in html
    before = everything_in_the_database()
    response = erase(moderating, email=colleague.email)
    assert response.status_code == 409
    assert "user management" in response.get_data(as_text=True)
    assert everything_in_the_database() == before


def test_erasure_is_a_service_the_cli_could_call(app, stored, mod):
    result = privacy.erase(EMAIL.upper(), mod, placeholder_name="Gelöscht")
    assert (result.comments, result.subscriptions, result.mails) == (5, 2, 2)
    assert result.mentions == 1  # Otto's reply (notes, reports and reasons on her comments went with them)
    assert petra(stored["answered"].id).author_name == "Gelöscht"
    assert db.session.scalar(select(func.count()).select_from(Comment).where(
        func.lower(Comment.author_email) == EMAIL)) == 0


@pytest.mark.parametrize("typed, normal", [(" Petra@Example.ORG ", EMAIL), ("", None), ("petra", None),
                                           ("petra@example", None), ("<petra@example.org>", None)])
def test_normalize(typed, normal):
    assert privacy.normalize(typed) == normal


def test_the_forms_carry_a_csrf_token(app, moderating, stored):
    app.config["WTF_CSRF_ENABLED"] = True
    refused = erase(moderating)
    assert refused.status_code == 400
    assert petra(stored["pending"].id).author_email == EMAIL
    html = moderating.get("/moderation/privacy", query_string={"email": EMAIL}).get_data(as_text=True)
    tokens = re.findall(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or \
        re.findall(r'name="csrf_token" value="([^"]+)"', html)
    assert len(tokens) >= 2  # export and erase
    export = moderating.post("/moderation/privacy/export", data={"email": EMAIL, "csrf_token": tokens[0]})
    assert export.status_code == 200 and export.mimetype == "application/json"
    done = moderating.post("/moderation/privacy/erase",
                           data={"email": EMAIL, "confirm": EMAIL, "csrf_token": tokens[-1]})
    assert done.status_code == 302
    assert petra(stored["pending"].id).author_email != EMAIL
