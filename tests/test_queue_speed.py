"""The queue at full speed: decisions answered as JSON for work in place, undo through the state
machine, canned responses and their placeholders, the next item after a decision on a comment's
page, and what colleagues did meanwhile."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    CannedResponse,
    Comment,
    CommentStatus,
    ModerationEvent,
    OutboxMail,
    ResponseStatus,
    Subscription,
    utcnow,
)
from app.moderation import canned, service
from tests.comment_helpers import add_comment
from tests.moderation_helpers import login, moderator

P, A = CommentStatus.PENDING, CommentStatus.APPROVED
JSON = {"Accept": "application/json"}
EN = {"Accept-Language": "en"}


@pytest.fixture
def post(make):
    return make.post("Störungen erklärt", days_ago=5, category=make.category("Netz & Technik"))


@pytest.fixture
def anna(make, client):
    return moderator(make, client)


def reader(post, status=P, minutes_ago=90, **kw):
    return add_comment(post, status=status, minutes_ago=minutes_ago, response_status=ResponseStatus.NEEDS_ANSWER, **kw)


def fresh(comment):
    db.session.expire_all()
    return db.session.get(Comment, comment.id)


def actions(comment):
    return db.session.scalars(select(ModerationEvent.action).where(ModerationEvent.comment_id == comment.id)
                              .order_by(ModerationEvent.id)).all()


def act(client, comment, action, expected=P, **extra):
    return client.post(f"/moderation/comments/{comment.id}/{action}", headers={**JSON, **EN},
                       data={"expected": expected, "version": "", "view": "pending", **extra})


# --- decisions in place, and their undo -------------------------------------------------------------

def test_a_decision_asked_for_json_says_what_happened_offers_the_undo_and_the_counts(client, anna, post):
    first, second = reader(post, name="Erste"), reader(post, name="Zweite")
    response = act(client, first, "approve")
    assert response.status_code == 200
    body = response.get_json()
    assert body["ok"] and body["status"] == A and body["in_view"] is False
    assert "Erste" in body["message"] and body["counts"]["pending"] == 1
    assert body["undo"]["event"] and body["undo"]["seconds"] == 10
    assert fresh(first).status == A and fresh(second).status == P


def test_undo_within_the_window_is_an_audited_transition_back(client, anna, post):
    comment = reader(post)
    undo = act(client, comment, "approve").get_json()["undo"]
    response = client.post(undo["url"], headers={**JSON, **EN}, data={"event": undo["event"]})
    assert response.status_code == 200 and response.get_json()["ok"], response.get_json()
    stored = fresh(comment)
    assert stored.status == P and stored.approved_at is None and stored.moderated_at is None
    assert actions(comment)[-2:] == ["approve", "undo"]
    event = db.session.scalar(select(ModerationEvent).where(ModerationEvent.action == "undo"))
    assert (event.from_status, event.to_status, event.actor_id) == (A, P, anna.id)
    # … and only once: the same undo again finds nothing of the moderator's to take back
    again = client.post(undo["url"], headers={**JSON, **EN}, data={"event": undo["event"]})
    assert again.status_code == 409 and not again.get_json()["ok"]


@pytest.mark.parametrize("action", ["reject", "spam", "delete"])
def test_reject_spam_and_delete_can_be_undone_too(client, anna, post, action):
    comment = reader(post)
    undo = act(client, comment, action).get_json()["undo"]
    assert client.post(undo["url"], headers=JSON, data={"event": undo["event"]}).status_code == 200
    assert fresh(comment).status == P


def test_undo_after_the_window_is_refused_with_a_clear_message(client, anna, post):
    comment = reader(post)
    undo = act(client, comment, "approve").get_json()["undo"]
    db.session.execute(ModerationEvent.__table__.update().where(ModerationEvent.id == undo["event"])
                       .values(at=utcnow() - timedelta(seconds=30)))
    db.session.commit()
    response = client.post(undo["url"], headers={**JSON, **EN}, data={"event": undo["event"]})
    assert response.status_code == 409
    assert "Too late to undo" in response.get_json()["message"]
    assert fresh(comment).status == A


def test_undo_of_a_colleagues_decision_or_after_a_later_one_is_refused(client, anna, post, make):
    comment = reader(post)
    undo = act(client, comment, "approve").get_json()["undo"]
    ben = make.user("ben", role=anna.role, display_name="Ben Kurz")
    login(client, ben)
    response = client.post(undo["url"], headers={**JSON, **EN}, data={"event": undo["event"]})
    assert response.status_code == 409 and "nothing of yours" in response.get_json()["message"]
    service.transition(fresh(comment), "reject", actor=ben, expected=A)  # Ben rejects it meanwhile
    login(client, anna)
    response = client.post(undo["url"], headers={**JSON, **EN}, data={"event": undo["event"]})
    assert response.status_code == 409 and "Someone was quicker" in response.get_json()["message"]
    assert fresh(comment).status == CommentStatus.REJECTED


def test_an_undone_approval_takes_back_the_mails_it_held(client, anna, post):
    comment = reader(post, email="leserin@example.org")
    db.session.add(Subscription(email="leserin@example.org", comment_id=comment.id))
    db.session.commit()
    undo = act(client, comment, "approve").get_json()["undo"]
    held = db.session.scalars(select(OutboxMail).where(OutboxMail.comment_id == comment.id)).all()
    assert len(held) == 1 and held[0].sent_at is None and held[0].not_before > utcnow()  # waits out the window
    client.post(undo["url"], headers=JSON, data={"event": undo["event"]})
    assert db.session.scalar(select(func.count()).select_from(OutboxMail)) == 0
    subscription = db.session.scalar(select(Subscription))
    db.session.refresh(subscription)
    assert subscription.confirmation_sent_at is None  # approving again sends the mail once
    act(client, fresh(comment), "approve")
    assert db.session.scalar(select(func.count()).select_from(OutboxMail)) == 1


def test_a_decision_a_colleague_made_first_is_a_409_with_who_was_quicker(client, anna, post, make):
    comment = reader(post)
    ben = make.user("ben", role=anna.role, display_name="Ben Kurz")
    service.transition(comment, "spam", actor=ben, expected=P)
    response = act(client, comment, "approve")
    assert response.status_code == 409
    body = response.get_json()
    assert not body["ok"] and "Ben Kurz" in body["message"] and body["status"] == CommentStatus.SPAM


def test_without_javascript_the_next_page_offers_the_undo_as_a_form(client, anna, post):
    comment = reader(post, name="Ohne Skript")
    response = client.post(f"/moderation/comments/{comment.id}/approve", headers=EN,
                           data={"expected": P, "version": "", "next": "/moderation/"})
    assert response.status_code == 302
    page = client.get("/moderation/", headers=EN).get_data(as_text=True)
    assert 'class="toast"' in page and f"/moderation/comments/{comment.id}/undo" in page and "Ohne Skript" in page
    event = db.session.scalar(select(ModerationEvent.id).where(ModerationEvent.action == "approve"))
    client.post(f"/moderation/comments/{comment.id}/undo", data={"event": event, "next": "/moderation/"})
    assert fresh(comment).status == P


def test_undo_with_a_forged_event_is_a_400_or_a_message_never_a_500(client, anna, post):
    comment = reader(post)
    assert client.post(f"/moderation/comments/{comment.id}/undo", data={"event": "x"}).status_code == 400
    response = client.post(f"/moderation/comments/{comment.id}/undo", headers=JSON, data={"event": "99999999"})
    assert response.status_code == 409


# --- canned responses and placeholders ------------------------------------------------------------

def test_placeholders_typed_by_hand_are_filled_and_unknown_ones_refused(client, anna, post):
    question = reader(post, name="Petra [Support](https://evil.example)")
    response = client.post(f"/moderation/comments/{question.id}/reply", headers={**JSON, **EN},
                           data={"body": "Hallo {nmae}, danke!", "expect_unanswered": "1", "version": ""})
    assert response.status_code == 400
    message = response.get_json()["message"]
    assert "{nmae}" in message and "{name}" in message and "{post_title}" in message
    assert fresh(question).status == P and fresh(question).answered_at is None  # nothing done

    response = client.post(f"/moderation/comments/{question.id}/reply", headers={**JSON, **EN},
                           data={"body": "Hallo {name}, zu „{post_title}“: läuft wieder. {moderator}",
                                 "expect_unanswered": "1", "version": ""})
    assert response.status_code == 200 and response.get_json()["ok"]
    answer = db.session.scalar(select(Comment).where(Comment.parent_id == question.id))
    assert "{" not in answer.body_md and "Anna Seidel" in answer.body_md and "Störungen erklärt" in answer.body_md
    assert 'href="https://evil.example"' not in answer.body_html  # the name stays text


def test_without_javascript_an_unknown_placeholder_reshows_the_text_with_the_message(client, anna, post):
    question = reader(post)
    page = client.post(f"/moderation/comments/{question.id}/reply", headers=EN,
                       data={"body": "Hallo {vorname}!", "expect_unanswered": "1", "version": ""})
    assert page.status_code == 400
    text = page.get_data(as_text=True)
    assert "Hallo {vorname}!" in text and "Unknown placeholder {vorname}" in text


def test_a_canned_response_with_an_unknown_placeholder_is_not_saved(client, anna):
    page = client.post("/moderation/canned", headers=EN, data={"title": "Gruß", "lang": "de",
                                                                "body_md": "Hallo {kunde}"})
    assert page.status_code == 400 and "Unknown placeholder {kunde}" in page.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(CannedResponse)) == 0


def test_the_preview_fills_placeholders_for_the_comment_answered(client, anna, post):
    question = reader(post, name="Petra")
    result = client.post("/moderation/preview", data={"body": "Hallo {name}", "comment": question.id}).get_json()
    assert "Hallo Petra" in result["html"]
    result = client.post("/moderation/preview", headers=EN, data={"body": "Hallo {x}", "comment": question.id})
    assert result.status_code == 400 and "{x}" in result.get_json()["error"]


def test_the_queue_offers_canned_responses_in_the_answer_box_the_posts_language_first(client, anna, post, make):
    english = make.post("Outage explained", lang="en")
    german, british = reader(post, name="Deutsch"), reader(english, name="English")
    db.session.add_all([CannedResponse(title="Gruß", lang="de", body_md="Hallo {name}"),
                        CannedResponse(title="Greeting", lang="en", body_md="Hi {name}")])
    db.session.commit()
    page = client.get("/moderation/").get_data(as_text=True)
    items = {int(part.split('"', 1)[0]): part for part in page.split('<article class="queue-item')[1:]
             for part in [part.split('id="q-', 1)[1]]}
    assert items[german.id].index('label="DE"') < items[german.id].index('label="EN"')
    assert items[british.id].index('label="EN"') < items[british.id].index('label="DE"')
    assert "data-preferred>Gruß" in items[german.id] and "data-preferred>Greeting" in items[british.id]


def test_the_starter_set_installs_once_and_keeps_the_teams_changes(runner, app):
    result = runner.invoke(args=["demo", "canned"])
    assert result.exit_code == 0 and "Added" in result.output
    langs = set(db.session.scalars(select(CannedResponse.lang)))
    assert langs == {"de", "en"}
    first = db.session.scalar(select(CannedResponse).order_by(CannedResponse.id))
    first.body_md = "Von uns geändert, {name}."
    db.session.commit()
    count = db.session.scalar(select(func.count()).select_from(CannedResponse))
    again = runner.invoke(args=["demo", "canned"])
    assert again.exit_code == 0 and "exist already" in again.output
    assert db.session.scalar(select(func.count()).select_from(CannedResponse)) == count
    db.session.refresh(first)
    assert first.body_md == "Von uns geändert, {name}."
    for response in db.session.scalars(select(CannedResponse)):
        assert canned.unknown_placeholders(response.body_md) == []


# --- the next item after a decision on a comment's page ------------------------------------------

def test_deciding_on_a_comments_page_leads_to_the_next_of_the_view(client, anna, post):
    first, second = reader(post, minutes_ago=90), reader(post, minutes_ago=60)
    view = "/moderation/?view=pending"
    page = client.get(f"/moderation/comments/{first.id}", query_string={"from": view}).get_data(as_text=True)
    assert "/moderation/next?" in page
    response = client.post(f"/moderation/comments/{first.id}/approve",
                           data={"expected": P, "version": "", "next": f"/moderation/next?after={first.id}&from="
                                 + "%2Fmoderation%2F%3Fview%3Dpending"})
    follow = client.get(response.headers["Location"])
    assert follow.status_code == 302
    assert follow.headers["Location"].startswith(f"/moderation/comments/{second.id}?from=")
    # answering on the page leads on too (no longer to the public post)
    response = client.post(f"/moderation/comments/{second.id}/reply",
                           data={"body": "Erledigt.", "expect_unanswered": "1", "version": "", "from": view})
    assert "/moderation/next" in response.headers["Location"]
    last = client.get(response.headers["Location"])
    assert last.headers["Location"] == view  # nothing left: back to the view


def test_the_next_item_never_leaves_the_queue(client, anna, post):
    comment = reader(post)
    for sent in ("https://evil.example/", "//evil.example/moderation/", "/editor/1"):
        response = client.get("/moderation/next", query_string={"from": sent, "after": "x"})
        assert response.status_code == 302
        assert response.headers["Location"] == f"/moderation/comments/{comment.id}?from=/moderation/"


# --- what colleagues did meanwhile -----------------------------------------------------------------

def test_updates_name_what_colleagues_did_since_the_cursor(client, anna, post, make):
    handled, claimed = reader(post), reader(post)
    cursor = client.get("/moderation/updates").get_json()["cursor"]
    ben = make.user("ben", role=anna.role, display_name="Ben Kurz")
    service.transition(handled, "approve", actor=ben, expected=P)
    service.claim(claimed, ben, minutes=5)
    body = client.get("/moderation/updates", query_string={"since": cursor}, headers=EN).get_json()
    by_comment = {change["comment"]: change for change in body["changes"]}
    assert by_comment[handled.id]["status"] == A and "Ben Kurz" in by_comment[handled.id]["text"]
    assert by_comment[claimed.id]["claimed_by"] == "Ben Kurz" and not by_comment[claimed.id]["mine"]
    assert body["cursor"] > cursor and body["counts"]["pending"] == 1
    assert "actor_id" not in body["changes"][0] or body["changes"][0]["actor_id"] is None
    # nothing new since the new cursor
    assert client.get("/moderation/updates", query_string={"since": body["cursor"]}).get_json()["changes"] == []


def test_updates_with_a_bad_cursor_answer_without_changes(client, anna):
    for since in ("", "abc", "-1", "9" * 40):
        response = client.get("/moderation/updates", query_string={"since": since})
        assert response.status_code == 200 and response.get_json()["changes"] == []


def test_updates_cost_a_constant_number_of_statements(client, anna, post, make, count_queries):
    cursor = client.get("/moderation/updates").get_json()["cursor"]
    ben = make.user("ben", role=anna.role, display_name="Ben Kurz")
    service.transition(reader(post), "approve", actor=ben, expected=P)
    with count_queries() as few:
        client.get("/moderation/updates", query_string={"since": cursor})
    for _ in range(10):
        service.transition(reader(post), "approve", actor=ben, expected=P)
    with count_queries() as many:
        client.get("/moderation/updates", query_string={"since": cursor})
    assert few.n == many.n
