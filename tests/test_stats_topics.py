"""The customer pulse with the classifier's suggestions, the topics left unanswered, and the
per-moderator figures (first answers and the median time to them) on /moderation/stats."""
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.extensions import db
from app.models import CommentStatus, ModerationEvent, ResponseStatus, Role, utcnow
from app.moderation import stats
from app.moderation.queue import Targets
from tests.moderation_helpers import login
from tests.test_stats import ENGLISH, reader, staff as staff_answer

S, R = CommentStatus, ResponseStatus
BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2024, 5, 15, 10, 0, tzinfo=UTC)


def berlin(*args) -> datetime:
    return datetime(*args, tzinfo=BERLIN).astimezone(UTC)


@pytest.fixture
def anna(make):
    return make.user("anna", role=Role.MODERATOR, display_name="Anna Seidel")


@pytest.fixture
def ben(make):
    return make.user("ben", role=Role.MODERATOR, display_name="Ben Ott")


def test_the_teams_topic_wins_and_a_suggestion_counts_where_it_set_none(app, make):
    service = make.category("Kundenservice")
    post = make.post(category=service)
    reader(post, berlin(2024, 5, 13, 9, 0), topic="bug", suggested_topic="question")  # the team's topic counts
    reader(post, berlin(2024, 5, 13, 9, 0), suggested_topic="question")
    reader(post, berlin(2024, 5, 6, 9, 0), suggested_topic="wish", status=S.PENDING)
    reader(post, berlin(2024, 5, 6, 9, 0), suggested_topic="praise", status=S.SPAM)  # spam has no topic
    reader(post, berlin(2024, 5, 6, 9, 0), suggested_topic="unknown")
    db.session.commit()

    pulse = stats.topics(stats.window(NOW, 8, BERLIN))
    assert pulse.totals == {"question": 1, "bug": 1, "wish": 1, "complaint": 0, "praise": 0}
    assert pulse.suggested == 2 and pulse.total == 3
    assert pulse.per_category == [("Kundenservice", {"question": 1, "bug": 1, "wish": 1, "complaint": 0,
                                                     "praise": 0})]
    weekly = {w.number: counts for w, counts in pulse.per_week}
    assert weekly[19]["wish"] == 1 and weekly[20] == {"question": 1, "bug": 1, "wish": 0, "complaint": 0,
                                                      "praise": 0}


def test_topics_left_unanswered_most_over_target_first(app, make):
    service = make.category("Kundenservice")  # 240 minutes
    post = make.post(category=service)
    now = utcnow()
    late, fresh = now - timedelta(hours=6), now - timedelta(minutes=10)
    reader(post, late, topic="complaint")
    reader(post, late, suggested_topic="complaint")
    reader(post, fresh, topic="question")
    reader(post, fresh, topic="question")
    reader(post, fresh, topic="question")
    reader(post, late)  # no topic at all
    reader(post, late, topic="bug", answered=30)  # answered: nobody waits
    reader(post, late, topic="wish", response=R.NO_ANSWER_NEEDED)
    db.session.commit()

    rows = stats.unanswered_topics(now, Targets.load(app.config, BERLIN))
    assert [(r.topic, r.waiting, r.breaching) for r in rows] == [
        ("complaint", 2, 2), ("question", 3, 0), (None, 1, 1)]


def test_first_answers_and_their_median_per_moderator(app, make, anna, ben):
    post = make.post()
    win = stats.window(NOW, 8, BERLIN)
    at = berlin(2024, 5, 13, 9, 0)
    for minutes, who in [(30, anna), (90, anna), (120, anna), (45, ben)]:
        question = reader(post, at, answered=minutes)
        staff_answer(post, at + timedelta(minutes=minutes), who, parent=question)
        db.session.add(ModerationEvent(comment_id=question.id, actor_id=who.id, action="reply",
                                       at=at + timedelta(minutes=minutes)))
    # Ben adds a follow-up to Anna's first answer: his answer, not a first answer.
    followed = reader(post, at, answered=10)
    staff_answer(post, at + timedelta(minutes=10), anna, parent=followed)
    staff_answer(post, at + timedelta(minutes=300), ben, parent=followed)
    old = reader(post, berlin(2024, 1, 8, 9, 0), answered=5)  # answered before the window
    staff_answer(post, berlin(2024, 1, 8, 9, 5), ben, parent=old)
    db.session.add(ModerationEvent(comment_id=followed.id, actor_id=ben.id, action="approve", at=at))
    db.session.commit()

    work = {w.name: w for w in stats.work_per_moderator(win)}
    assert (work["Anna Seidel"].first_answers, work["Anna Seidel"].answer_median) == (4, pytest.approx(60))
    assert (work["Ben Ott"].first_answers, work["Ben Ott"].answer_median) == (1, pytest.approx(45))
    assert (work["Anna Seidel"].decisions, work["Anna Seidel"].answers) == (0, 3)
    assert (work["Ben Ott"].decisions, work["Ben Ott"].answers) == (1, 1)


def test_the_page_shows_topic_trends_unanswered_topics_and_per_moderator_figures(client, make, anna):
    post = make.post(category=make.category("Kundenservice"))
    now = utcnow()
    question = reader(post, now - timedelta(days=1), answered=42, topic="question")
    staff_answer(post, now - timedelta(days=1) + timedelta(minutes=42), anna, parent=question)
    db.session.add(ModerationEvent(comment_id=question.id, actor_id=anna.id, action="reply", at=now))
    reader(post, now - timedelta(hours=6), suggested_topic="complaint")
    db.session.commit()
    login(client, anna)

    html = client.get("/moderation/stats", headers=ENGLISH).get_data(as_text=True)
    assert "Topics left unanswered" in html and 'id="unanswered-topics"' in html
    unanswered = html.split('id="unanswered-topics"')[1].split("</table>")[0]
    assert "Complaint" in unanswered
    assert 'id="topic-weeks"' in html and "(1 of them)" in html  # one suggested topic in the pulse
    work = html.split('id="work-table"')[1].split("</table>")[0]
    assert "First answers" in work and "Median to first answer" in work and "42 min" in work
    assert html.count('role="img"') == 6  # the same charts; the topic ones now count suggestions too
