"""The state machine's bookkeeping and its conditions on what the moderator saw (issue 9)."""
import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.comments import service as comments
from app.comments.policy import CommentPolicy
from app.extensions import db
from app.models import Comment, CommentStatus, ModerationEvent, OutboxTask, Report, ResponseStatus
from app.moderation import service
from tests.comment_helpers import add_comment, post_comment
from tests.moderation_helpers import moderator

A, P = CommentStatus.APPROVED, CommentStatus.PENDING

pytestmark = pytest.mark.post("Störungen erklärt", slug="stoerungen")


@pytest.fixture
def anna(make):
    return moderator(make)


def actions(comment) -> list[str]:
    return list(db.session.scalars(select(ModerationEvent.action).where(ModerationEvent.comment_id == comment.id)
                                   .order_by(ModerationEvent.id)))


def test_moderated_at_is_set_by_the_team_only(post, anna):
    withdrawn = add_comment(post, status=P)
    service.transition(withdrawn, "delete", actor=None, reason="deleted by its author")
    assert withdrawn.moderated_at is None  # the author's own deletion is no decision of the team
    decided = add_comment(post, status=P)
    service.transition(decided, "approve", actor=anna)
    assert decided.moderated_at is not None and decided.approved_at is not None


def test_a_moderators_approval_resolves_the_reports_that_hid_the_comment(post, anna):
    reported = add_comment(post)
    for n in range(3):
        service.report(reported, reason="spam", details="", ip_hash=f"client-{n}", hide_after=3)
    assert reported.status == P and reported.flag_count == 3
    service.transition(reported, "approve", actor=anna)
    assert reported.status == A and reported.flag_count == 0
    resolved = db.session.scalars(select(Report.resolved_at)).all()
    assert len(resolved) == 3 and None not in resolved


def test_hiding_by_reports_goes_through_the_state_machine_and_keeps_the_reports(post):
    reported = add_comment(post)
    for n in range(3):
        service.report(reported, reason="spam", details="", ip_hash=f"client-{n}", hide_after=3)
    assert actions(reported)[-1] == "hide" and reported.flag_count == 3 and reported.moderated_at is None


def test_an_escalation_never_overwrites_an_answer_given_meanwhile(post, anna, make):
    question = add_comment(post, response_status=ResponseStatus.NEEDS_ANSWER, body="Wann kommt Glasfaser?")
    seen = question.response_status
    bea = moderator(make, name="bea", display_name="Bea")
    service.reply(db.session.get(Comment, question.id), bea, "Im Herbst.", team_name="Team")
    with pytest.raises(service.AlreadyHandled):
        service.escalate(db.session.get(Comment, question.id), anna, "Technik", "bitte prüfen", expected=seen)
    assert db.session.get(Comment, question.id).response_status == ResponseStatus.ANSWERED


def test_answer_status_and_assignment_are_conditional_too(post, anna, make):
    question = add_comment(post, response_status=ResponseStatus.NEEDS_ANSWER)
    service.set_response_status(question, anna, ResponseStatus.NO_ANSWER_NEEDED, expected="needs_answer")
    with pytest.raises(service.AlreadyHandled):  # a colleague's view from before
        service.set_response_status(question, anna, ResponseStatus.ESCALATED, expected="needs_answer")
    bea = moderator(make, name="bea", display_name="Bea")
    service.assign(question, anna, bea, expected=None)
    with pytest.raises(service.AlreadyHandled):
        service.assign(question, anna, anna, expected=None)  # it was no longer unassigned
    assert question.assigned_to_id == bea.id


def test_claim_release_and_note_are_in_the_audit_trail(post, anna):
    comment = add_comment(post, status=P)
    assert service.claim(comment, anna, minutes=5).ok
    service.claim(comment, anna, minutes=5)  # renewing is not news
    service.release(comment, anna)
    service.add_note(comment, anna, "Kunde hat angerufen")
    assert actions(comment)[-3:] == ["claim", "release", "note"]


def test_bulk_is_one_transaction_with_one_index_task(post, anna, monkeypatch):
    from app.search import index

    calls = []
    monkeypatch.setattr(index, "refresh", lambda **kw: calls.append(kw))
    waiting = [add_comment(post, status=P, body=f"Frage {n}") for n in range(30)]
    result = service.bulk([(c, P, "") for c in waiting], "approve", actor=anna)
    assert len(result.done) == 30
    (task,) = db.session.scalars(select(OutboxTask)).all()
    assert sorted(task.payload["comments"]) == sorted(c.id for c in waiting) and task.done_at is not None
    assert len(calls) == 1 and set(calls[0]["comments"]) == {c.id for c in waiting}


def test_two_identical_form_posts_store_one_comment(app, post):
    """The form's one-time key is unique in the database: the second of two simultaneous requests
    (both past the duplicate check) fails on the index, not silently stored twice."""
    rules = comments.Rules.from_config(app.config)
    data = comments.CommentInput(name="Petra", email="petra@example.org", body="Zweimal geklickt",
                                 submission_key="k" * 32)
    first = comments.submit(post, data, comments.Client(ip="192.0.2.1"), rules).comment
    again = comments.CommentInput(name="Petra", email="petra@example.org", body="Zweimal geklickt!",
                                  submission_key="k" * 32)  # past the text check: a different last character
    with pytest.raises(comments.CommentError) as refused:
        comments.submit(post, again, comments.Client(ip="192.0.2.1"), rules)
    assert refused.value.existing.id == first.id
    assert db.session.scalar(select(db.func.count()).select_from(Comment)) == 1


def test_two_simultaneous_reports_from_one_client_count_once(post):
    reported = add_comment(post)
    db.session.add(Report(comment_id=reported.id, reason="spam", ip_hash="same-client"))
    db.session.commit()
    db.session.add(Report(comment_id=reported.id, reason="spam", ip_hash="same-client"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_double_click_in_the_browser_sends_the_same_key(client, post):
    page = client.get("/posts/stoerungen").get_data(as_text=True)
    import re

    ts = re.search(r'name="ts" type="hidden" value="([^"]+)"', page).group(1)
    assert post_comment(client, "stoerungen", ts=ts).status_code == 302
    assert post_comment(client, "stoerungen", ts=ts, body="Wann kommt Glasfaser nach Kleinwellingen??") \
        .status_code == 302  # the same form again: led back to the first, nothing stored
    assert db.session.scalar(select(db.func.count()).select_from(Comment)) == 1


# --- which comments wait for an answer ---------------------------------------------------------------

@pytest.mark.parametrize("text, status", [
    ("Danke für den Artikel!", ResponseStatus.NO_ANSWER_NEEDED),
    ("Super, so macht ihr das richtig.", ResponseStatus.NO_ANSWER_NEEDED),
    ("Wann kommt Glasfaser nach Kleinwellingen?", ResponseStatus.NEEDS_ANSWER),
    ("Seit Montag habe ich kein Internet.", ResponseStatus.NEEDS_ANSWER),
    ("My router is not working since the update", ResponseStatus.NEEDS_ANSWER),
])
def test_only_questions_and_requests_for_help_wait_for_an_answer(app, text, status):
    assert CommentPolicy.from_config(app.config).response_status(text) == status


def test_a_link_with_www_counts_once():
    assert CommentPolicy.count_links("Siehe https://www.x.de und http://y.de/a") == 2
    assert CommentPolicy.count_links("www.x.de") == 1


def test_staff_can_still_change_the_answer_status(post, anna):
    thanks = add_comment(post, response_status=ResponseStatus.NO_ANSWER_NEEDED, body="Danke!")
    service.set_response_status(thanks, anna, ResponseStatus.NEEDS_ANSWER)
    assert thanks.response_status == ResponseStatus.NEEDS_ANSWER
