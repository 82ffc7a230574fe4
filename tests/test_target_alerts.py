"""A warning before a response target breaks, and the breach: once per comment, to the assignee or
the moderators who asked (issue 13). Time is driven by old `created_at` values and `now`."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from app import outbox
from app.extensions import db
from app.models import Comment, CommentStatus, OutboxMail, ResponseStatus, WebhookDelivery, utcnow
from app.moderation import service as moderation, staff_notices, target_alerts
from app.webhooks import service as webhooks
from tests.comment_helpers import add_comment
from tests.moderation_helpers import moderator

WAITING = {"response_status": ResponseStatus.NEEDS_ANSWER}


@pytest.fixture(autouse=True)
def _site(app):
    app.config.update(SITE_URL="https://blog.example.org", DEFAULT_LANGUAGE="en", TARGET_WARNING_MINUTES=30)


def mails(to=None):
    db.session.expire_all()
    return [m for m in db.session.scalars(select(OutboxMail).order_by(OutboxMail.id)) if to is None or m.to == to]


def test_the_assignee_hears_once_before_and_once_at_the_breach(make, post):
    anna = moderator(make)
    question = add_comment(post, minutes_ago=4 * 60 - 10, assigned_to_id=anna.id, **WAITING)  # due in 10 minutes
    assert target_alerts.check().warned == 1
    (warning,) = mails(anna.email)
    assert "Response target due soon" in warning.subject
    assert f"https://blog.example.org/moderation/comments/{question.id}" in warning.body
    assert target_alerts.check().warned == 0
    later = utcnow() + timedelta(minutes=11)
    assert target_alerts.check(now=later).breached == 1
    assert target_alerts.check(now=later + timedelta(minutes=5)).breached == 0
    assert [m.subject for m in mails(anna.email)][1].startswith("[Sternwelle Blog] Response target missed")
    assert len(mails()) == 2


def test_without_an_assignee_the_moderators_who_opted_in_hear_of_it(make, post):
    anna, ben = moderator(make), moderator(make, name="ben", display_name="Ben Kramer")
    staff_notices.save_prefs(ben, staff_notices.Prefs(targets=True))
    db.session.commit()
    add_comment(post, minutes_ago=5 * 60, **WAITING)
    add_comment(post, minutes_ago=6 * 60, body="Noch eine Frage?", **WAITING)
    assert target_alerts.check().breached == 2
    assert len(mails(ben.email)) == 2 and mails(anna.email) == []  # one mail per comment


def test_each_category_has_its_own_target(make, post):
    fast = make.category("Störungen")
    fast.response_target_minutes = 60
    db.session.commit()
    urgent = make.post("Ausfall in Nord", category=fast)
    breached = add_comment(urgent, minutes_ago=70, **WAITING)
    warned = add_comment(urgent, minutes_ago=40, body="Auch hier?", **WAITING)
    add_comment(post, minutes_ago=70, body="Ohne Eile?", **WAITING)  # 4 hours: not yet
    result = target_alerts.check()
    assert (result.breached, result.warned) == (1, 1)
    db.session.expire_all()
    assert db.session.get(Comment, breached.id).target_breached_at is not None
    assert db.session.get(Comment, warned.id).target_warned_at is not None
    assert db.session.get(Comment, warned.id).target_breached_at is None


def test_answered_removed_and_ancient_comments_send_nothing(make, post):
    anna = moderator(make)
    hook = webhooks.create(webhooks.HookInput(url="http://127.0.0.1:9/x", events=["target.breached"]), None,
                           allow_private=True)
    db.session.commit()
    answered = add_comment(post, minutes_ago=5 * 60, assigned_to_id=anna.id, **WAITING)
    moderation.reply(answered, anna, "Erledigt.", team_name="Team")
    add_comment(post, minutes_ago=5 * 60, status=CommentStatus.SPAM, body="Spam?", **WAITING)
    ancient = add_comment(post, minutes_ago=4 * 24 * 60, assigned_to_id=anna.id, body="Alt?", **WAITING)
    result = target_alerts.check()
    assert (result.breached, result.warned, result.skipped) == (0, 0, 1)
    db.session.expire_all()
    assert db.session.get(Comment, ancient.id).target_breached_at is not None  # marked, never alerted
    assert not [m for m in mails() if "Response target" in m.subject]
    assert db.session.scalar(select(WebhookDelivery).where(WebhookDelivery.webhook_id == hook.id)) is None


def test_a_notice_already_claimed_is_not_claimed_again(make, post):
    question = add_comment(post, minutes_ago=5 * 60, **WAITING)
    assert target_alerts._claim(question, Comment.target_breached_at.is_(None), target_breached_at=utcnow())
    assert not target_alerts._claim(question, Comment.target_breached_at.is_(None), target_breached_at=utcnow())
    db.session.commit()
    assert target_alerts.check().breached == 0  # the other process sent it


def test_the_drainer_checks_at_most_every_30_seconds(app, make, post):
    anna = moderator(make)
    add_comment(post, minutes_ago=5 * 60, assigned_to_id=anna.id, **WAITING)
    outbox.drain()
    (sent,) = mails(anna.email)
    assert sent.sent_at is not None or sent.attempts  # queued and handed to the mail sender in the same round
    assert target_alerts.maybe_check() is None  # checked moments ago in this process
    add_comment(post, minutes_ago=5 * 60, assigned_to_id=anna.id, body="Zweite?", **WAITING)
    outbox.drain()
    assert len(mails(anna.email)) == 1
    app.extensions.pop(target_alerts._LAST)
    assert target_alerts.maybe_check().breached == 1
