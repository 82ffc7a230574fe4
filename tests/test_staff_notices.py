"""Mails to the team at once: assignment, escalation, @mentions in notes; own settings (issue 13)."""
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import OutboxMail, ResponseStatus, Role
from app.moderation import service as moderation, staff_notices
from tests.comment_helpers import add_comment
from tests.moderation_helpers import login, moderator

SITE = "https://blog.example.org"
EN = {"Accept-Language": "en"}


@pytest.fixture(autouse=True)
def _site(app):
    app.config.update(SITE_URL=SITE, DEFAULT_LANGUAGE="en")  # mails in English, links on the site's address


def mails(to=None):
    db.session.expire_all()
    rows = db.session.scalars(select(OutboxMail).order_by(OutboxMail.id)).all()
    return [m for m in rows if to is None or m.to == to]


@pytest.fixture
def team(make, client):
    anna = moderator(make, client)  # signed in on `client`
    ben = moderator(make, name="ben", display_name="Ben Kramer")
    return anna, ben


def test_the_assignee_is_mailed_at_once_with_a_link(client, team, post, smtp):
    anna, ben = team
    question = add_comment(post, name="Jonas", body="Router verliert nachts die Verbindung",
                           response_status=ResponseStatus.NEEDS_ANSWER)
    client.post(f"/moderation/comments/{question.id}/assign", data={"assignee": str(ben.id)})
    (got,) = smtp.to("ben@example.org")  # sent by the drainer after the request
    assert "Anna Seidel assigned a comment to you" in got.subject
    assert f"{SITE}/moderation/comments/{question.id}" in got.body and "Router verliert" in got.body
    assert "/account/notifications" in got.body
    client.post(f"/moderation/comments/{question.id}/assign", data={"assignee": str(anna.id)})
    assert smtp.to("anna@example.org") == [], "not to the one who acted"


def test_escalation_mails_the_colleague_named_and_the_assignee(client, team, make, post):
    anna, ben = team
    technik = make.user("technik", role=Role.EDITOR, display_name="Technik")
    question = add_comment(post, response_status=ResponseStatus.NEEDS_ANSWER, assigned_to_id=ben.id)
    client.post(f"/moderation/comments/{question.id}/escalate", data={"to": "Technik", "note": "Bitte Logs prüfen"})
    to_technik, to_ben = mails(technik.email), mails(ben.email)
    assert len(to_technik) == 1 and len(to_ben) == 1 and mails(anna.email) == []
    assert "Escalated to Technik" in to_technik[0].subject and "Bitte Logs prüfen" in to_technik[0].body
    assert to_technik[0].comment_id == question.id  # an erasure finds the mails quoting the comment


def test_an_escalation_to_a_team_without_account_mails_only_the_assignee(team, post):
    anna, _ben = team
    question = add_comment(post, response_status=ResponseStatus.NEEDS_ANSWER)
    moderation.escalate(question, anna, "Produkt", "Preisfrage")
    assert mails() == []


def test_a_mention_in_a_note_mails_that_moderator(client, team, make, post):
    _anna, ben = team
    editor = make.user("carla", role=Role.EDITOR)  # not a moderator: mentions do not reach her
    question = add_comment(post)
    client.post(f"/moderation/comments/{question.id}/note",
                data={"body": "@BEN bitte übernehmen, @carla zur Info, @anna, mail@ben.example"})
    (mail,) = mails()
    assert mail.to == ben.email and "mentioned you in a note" in mail.subject
    assert "@BEN bitte übernehmen" in mail.body and mails(editor.email) == []


def test_own_settings_turn_direct_mails_off_and_target_alerts_on(client, team, post):
    anna, ben = team
    response = client.get("/account/notifications", headers=EN)
    assert "Mail me at once" in response.get_data(as_text=True)
    client.post("/account/notifications", data={"digest": "off", "targets": "y"})
    assert staff_notices.prefs(anna) == staff_notices.Prefs(direct=False, targets=True)
    login(client, ben)
    question = add_comment(post)
    client.post(f"/moderation/comments/{question.id}/assign", data={"assignee": str(anna.id)})
    client.post(f"/moderation/comments/{question.id}/note", data={"body": "@anna schau mal"})
    assert mails() == []
    assert staff_notices.prefs(ben) == staff_notices.Prefs()  # defaults: direct on, target alerts off


def test_no_address_no_mail(team, make, post):
    anna, _ben = team
    nomail = make.user("nomail", role=Role.MODERATOR)
    nomail.email = None
    db.session.commit()
    question = add_comment(post)
    moderation.assign(question, anna, nomail)
    assert mails() == []
