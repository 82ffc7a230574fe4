"""The demo data looks like a blog in use whenever it is loaded: a queue of hours, statistics of weeks."""
from datetime import timedelta

import pytest
import yaml
from sqlalchemy import select

from app.demo.threads import DATA, parse_ago
from app.extensions import db
from app.i18n import site_timezone
from app.models import Comment, CommentStatus, Post, ResponseStatus, User, utcnow
from app.moderation import stats
from app.moderation.queue import Targets


@pytest.fixture
def demo(app, runner):
    """`make run`'s steps: accounts, posts, discussions; the moment they were loaded."""
    assert runner.invoke(args=["demo", "accounts"]).exit_code == 0
    assert runner.invoke(args=["posts", "import"]).exit_code == 0
    result = runner.invoke(args=["demo", "comments"])
    assert result.exit_code == 0 and "Added" in result.output, result.output
    return utcnow()


def entries(items, parent=None):
    for entry in items or []:
        yield entry, parent
        yield from entries(entry.get("replies"), entry)


@pytest.mark.parametrize("text, minutes", [("45m", 45), ("2h", 120), ("3d 4h 20m", 3 * 1440 + 260), ("1d2h", 1560),
                                           ("0d 5m", 5)])
def test_ago_is_read_as_days_hours_minutes(text, minutes):
    assert parse_ago(text) == timedelta(minutes=minutes)


@pytest.mark.parametrize("text", ["", "soon", "5", "3 days", "2h 3d", "-5m", None])
def test_ago_that_is_not_a_duration_is_refused(text):
    with pytest.raises(ValueError, match="ago"):
        parse_ago(text)


def test_the_data_file_is_consistent():
    threads = yaml.safe_load(DATA.read_text(encoding="utf-8"))
    for slug, items in threads.items():
        for entry, parent in entries(items):
            age = parse_ago(entry["ago"])
            assert timedelta(0) < age < timedelta(weeks=7), (slug, entry["ago"])
            if parent is not None:
                assert age < parse_ago(parent["ago"]), (slug, entry.get("author"), "is older than what it answers")
            if not entry.get("staff"):
                assert entry["email"].rsplit("@", 1)[1] in ("example.org", "example.net", "example.com")
            assert entry.get("topic") in (None, "question", "bug", "wish", "complaint", "praise")


def test_times_are_relative_to_the_moment_of_loading(demo):
    rows = db.session.execute(select(Comment.id, Comment.parent_id, Comment.created_at, Comment.approved_at,
                                     Post.published_at).join(Post, Post.id == Comment.post_id)).all()
    written = {r.id: r.created_at for r in rows}
    newest = max(written.values())
    assert demo - timedelta(hours=1) < newest <= demo  # minutes ago, not years
    assert min(written.values()) > demo - timedelta(weeks=7)  # all of it inside the statistics' window
    for r in rows:
        assert r.created_at > r.published_at
        assert r.parent_id is None or r.created_at > written[r.parent_id]
        assert r.approved_at is None or r.created_at <= r.approved_at <= demo


def test_the_queue_is_a_believable_mix(app, demo):
    goals = Targets.load(app.config, site_timezone())
    snapshot = stats.snapshot(demo, goals)
    assert snapshot.pending >= 10 and snapshot.waiting == snapshot.pending  # every approved question is answered
    assert snapshot.backlog_age(demo) < timedelta(days=3)
    # Three categories count business hours, so the exact number depends on the weekday.
    assert 3 <= snapshot.breaching <= snapshot.pending // 2, snapshot
    waiting_long = db.session.scalar(select(Comment.id).where(
        Comment.response_status == ResponseStatus.NEEDS_ANSWER, Comment.status == CommentStatus.APPROVED,
        Comment.created_at < demo - timedelta(days=3)))
    assert waiting_long is None


def test_the_statistics_have_weeks_of_data(app, demo):
    goals = Targets.load(app.config, site_timezone())
    window = stats.window(demo, stats.DEFAULT_WEEKS, site_timezone())
    speed = stats.speed(window, goals)
    assert sum(1 for week in speed.weeks if week.comments) >= 5
    assert sum(1 for week in speed.weeks if week.answered) >= 4
    total = speed.total
    assert total.moderation_median < total.moderation_p90  # a spread, not one fixed delay
    assert total.answer_median is not None and 0.5 <= total.share_within_target <= 0.9, total
    [work] = stats.work_per_moderator(window)
    moderator = db.session.scalar(select(User).where(User.username == "moderator"))
    assert work.user_id == moderator.id and work.counts["approve"] >= 30 and work.counts["reply"] >= 20
    assert stats.topics(window).total >= 20
    assert sum(day.total for day in stats.per_day(window)) == total.comments


def test_the_stats_page_shows_the_demo(client, demo):
    from tests.moderation_helpers import cookie_id

    moderator = db.session.scalar(select(User).where(User.username == "moderator"))
    with client.session_transaction() as session:
        session["_user_id"] = cookie_id(moderator)
        session["_fresh"] = True
    html = client.get("/moderation/stats", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Anna Seidel" in html and "No decisions or answers recorded in this period." not in html


def test_generated_pending_comments_are_recent(app, runner):
    result = runner.invoke(args=["demo", "generate", "--posts", "20", "--comments-per-post", "30", "--pending", "25",
                                 "--seed", "4"])
    assert result.exit_code == 0, result.output
    now = utcnow()
    rows = db.session.execute(select(Comment.id, Comment.parent_id, Comment.created_at, Comment.status,
                                     Post.published_at).join(Post, Post.id == Comment.post_id)).all()
    written = {r.id: r.created_at for r in rows}
    pending = [r for r in rows if r.status == CommentStatus.PENDING]
    assert len(pending) == 25
    for r in pending:
        assert now - timedelta(days=2, minutes=1) < r.created_at <= now
        assert r.created_at > r.published_at and (r.parent_id is None or r.created_at > written[r.parent_id])
