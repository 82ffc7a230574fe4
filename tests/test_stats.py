"""/moderation/stats and the CSV export: exact numbers from hand-built comments, access, escaping."""
import csv
import io
import re
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert

from app.config import PROJECT_ROOT
from app.extensions import db
from app.models import Comment, CommentStatus, ModerationEvent, ResponseStatus, Role, utcnow
from app.moderation import stats
from app.moderation.queue import Targets
from tests.comment_helpers import add_comment
from tests.moderation_helpers import login

S, R = CommentStatus, ResponseStatus
BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2024, 5, 15, 10, 0, tzinfo=UTC)  # Wednesday, 12:00 in Berlin
ENGLISH = {"Accept-Language": "en"}


def berlin(*args) -> datetime:
    return datetime(*args, tzinfo=BERLIN).astimezone(UTC)


def reader(post, at: datetime, *, status=S.APPROVED, response=R.NEEDS_ANSWER, moderated=None, answered=None,
           topic=None, **kw) -> Comment:
    """A reader comment written at `at`; moderated/answered are minutes after that (None: never)."""
    comment = add_comment(post, status=status, commit=False, response_status=response, topic=topic, **kw)
    comment.created_at = at
    comment.moderated_at = at + timedelta(minutes=moderated) if moderated is not None else None
    comment.answered_at = at + timedelta(minutes=answered) if answered is not None else None
    if answered is not None and response == R.NEEDS_ANSWER:
        comment.response_status = R.ANSWERED
    db.session.flush()
    return comment


def staff(post, at: datetime, user, **kw) -> Comment:
    comment = add_comment(post, commit=False, user_id=user.id, is_official=True, name="Team", **kw)
    comment.created_at = comment.moderated_at = at
    db.session.flush()
    return comment


@pytest.fixture
def goals(app):
    return Targets.load(app.config, BERLIN)


@pytest.fixture
def moderator(make):
    return make.user("mod", role=Role.MODERATOR, display_name="Anna Seidel")


# --- the window -------------------------------------------------------------------------------

def test_window_is_whole_iso_weeks_in_the_site_time_zone():
    win = stats.window(NOW, 8, BERLIN)
    # Monday 25 March 2024, midnight in Berlin, still winter time (UTC+1): DST began on the 31st.
    assert win.start == datetime(2024, 3, 24, 23, 0, tzinfo=UTC)
    assert [(w.year, w.number) for w in win.week_list()] == [(2024, n) for n in range(13, 21)]
    assert win.days()[0] == date(2024, 3, 25) and win.days()[-1] == date(2024, 5, 15) and len(win.days()) == 52
    assert stats.window(NOW, 4, BERLIN).start == datetime(2024, 4, 21, 22, 0, tzinfo=UTC)  # summer time
    assert stats.window(NOW, 5, BERLIN).weeks == 8


@pytest.mark.parametrize("value, weeks", [("4", 4), ("26", 26), ("12", 12), ("5", 8), (None, 8), ("x", 8), ("", 8)])
def test_weeks_parameter(value, weeks):
    assert stats.parse_weeks(value) == weeks


def test_percentile_interpolates_between_ranks():
    assert stats.percentile([], .5) is None
    assert stats.percentile([7], .9) == 7
    assert stats.percentile([40, 10, 30, 20, 100], .5) == 30
    assert stats.percentile([10, 20, 30, 40, 100], .9) == pytest.approx(76)
    assert stats.percentile([60, 120], .5) == 90


# --- numbers --------------------------------------------------------------------------------------

def test_medians_and_p90_per_week_for_reader_comments_only(app, make, moderator, goals):
    post = make.post()
    monday = berlin(2024, 5, 13, 9, 0)
    for moderated, answered in [(10, 60), (20, 120), (30, None), (40, None), (100, None)]:
        reader(post, monday, moderated=moderated, answered=answered,
               response=R.NEEDS_ANSWER if answered else R.NO_ANSWER_NEEDED)
    reader(post, monday, moderated=None, response=R.NO_ANSWER_NEEDED)  # approved by the policy: no decision
    staff(post, monday, moderator)  # staff answers are not the readers' waiting time
    reader(post, berlin(2024, 3, 24, 23, 59), moderated=1000)  # before the window
    db.session.commit()

    speed = stats.speed(stats.window(NOW, 8, BERLIN), goals)
    assert len(speed.weeks) == 8
    *earlier, week = speed.weeks
    assert (week.week.year, week.week.number, week.week.monday) == (2024, 20, date(2024, 5, 13))
    assert (week.comments, week.moderated, week.answered) == (6, 5, 2)
    assert week.moderation_median == pytest.approx(30) and week.moderation_p90 == pytest.approx(76)
    assert week.answer_median == pytest.approx(90) and week.answer_p90 == pytest.approx(114)
    assert (week.within_target, week.target_counted, week.share_within_target) == (2, 2, 1.0)
    assert all(t.comments == 0 and t.moderation_median is None and t.share_within_target is None for t in earlier)
    assert speed.total.moderation_median == pytest.approx(30) and speed.total.answer_p90 == pytest.approx(114)


def test_share_within_target_per_category_rule_with_business_hours(app, make, goals):
    service = make.category("Kundenservice")  # 240 minutes, around the clock
    technik = make.category("Netz & Technik")
    technik.response_target_minutes, technik.business_hours_only = 120, True  # Mon–Fri 8–18
    db.session.commit()
    goals = Targets.load(app.config, BERLIN)
    on_service, on_technik = make.post(category=service), make.post(category=technik)

    tuesday = berlin(2024, 5, 14, 8, 0)
    reader(on_service, tuesday, answered=200)  # in time
    reader(on_service, tuesday, answered=300)  # late
    reader(on_service, NOW - timedelta(hours=7))  # still waiting, past the target: missed
    reader(on_service, NOW - timedelta(minutes=10))  # still waiting, not due yet: not counted
    reader(on_service, tuesday, response=R.NO_ANSWER_NEEDED)
    reader(on_service, tuesday, response=R.ESCALATED)
    reader(on_service, tuesday, status=S.REJECTED)  # nobody waits for an answer to a rejected comment

    def between(start, end) -> int:
        return int((end - start).total_seconds() // 60)

    friday_evening = berlin(2024, 5, 10, 17, 30)  # 30 business minutes on Friday, 90 on Monday: due 9:30
    reader(on_technik, friday_evening, answered=between(friday_evening, berlin(2024, 5, 13, 9, 0)))
    reader(on_technik, friday_evening, answered=between(friday_evening, berlin(2024, 5, 13, 10, 0)))
    saturday = berlin(2024, 5, 11, 12, 0)  # counts from Monday 8:00: due 10:00
    reader(on_technik, saturday, answered=between(saturday, berlin(2024, 5, 13, 9, 59)))
    db.session.commit()

    speed = stats.speed(stats.window(NOW, 8, BERLIN), goals)
    week19, week20 = speed.weeks[-2], speed.weeks[-1]
    assert (week19.within_target, week19.target_counted) == (2, 3)  # 63 hours on the clock, yet in time
    assert (week20.within_target, week20.target_counted) == (1, 3)
    assert week19.share_within_target == pytest.approx(2 / 3)
    assert (speed.total.within_target, speed.total.target_counted, speed.total.share_within_target) == (3, 6, .5)


def test_comments_per_local_day_by_status(app, make, moderator):
    post = make.post()
    reader(post, datetime(2024, 5, 14, 21, 30, tzinfo=UTC))  # 23:30 in Berlin: still the 14th
    reader(post, datetime(2024, 5, 14, 22, 30, tzinfo=UTC), status=S.PENDING)  # 00:30 on the 15th
    reader(post, datetime(2024, 5, 14, 10, 0, tzinfo=UTC), status=S.SPAM)
    reader(post, datetime(2024, 5, 14, 11, 0, tzinfo=UTC), status=S.REJECTED)
    reader(post, datetime(2024, 5, 14, 12, 0, tzinfo=UTC), status=S.DELETED)
    reader(post, datetime(2024, 3, 24, 23, 0, tzinfo=UTC))  # the first minute of the window
    reader(post, datetime(2024, 3, 24, 22, 59, tzinfo=UTC))  # one minute before it
    staff(post, datetime(2024, 5, 14, 12, 0, tzinfo=UTC), moderator)
    db.session.commit()

    days = stats.per_day(stats.window(NOW, 8, BERLIN))
    by_day = {d.day: d.counts for d in days}
    assert len(days) == 52 and list(by_day) == sorted(by_day)
    assert by_day[date(2024, 3, 25)] == {"pending": 0, "approved": 1, "spam": 0, "rejected": 0, "deleted": 0}
    assert by_day[date(2024, 5, 14)] == {"pending": 0, "approved": 1, "spam": 1, "rejected": 1, "deleted": 1}
    assert by_day[date(2024, 5, 15)] == {"pending": 1, "approved": 0, "spam": 0, "rejected": 0, "deleted": 0}
    assert sum(d.total for d in days) == 6


def test_work_per_moderator_from_the_audit_trail(app, make, moderator):
    ben = make.user("ben", role=Role.MODERATOR, display_name="Ben Ott")
    comment = reader(make.post(), NOW - timedelta(days=1))
    inside, before = NOW - timedelta(days=2), stats.window(NOW, 8, BERLIN).start - timedelta(minutes=1)
    events = ([(moderator, "approve")] * 3 + [(moderator, "reject")] + [(moderator, "reply")] * 2
              + [(ben, "spam")] * 2 + [(ben, "delete"), (ben, "approve")] + [(moderator, "edit")] * 5
              + [(None, "approve")])
    for actor, action in events:
        db.session.add(ModerationEvent(comment_id=comment.id, actor_id=actor.id if actor else None, action=action,
                                       at=inside))
    db.session.add(ModerationEvent(comment_id=comment.id, actor_id=ben.id, action="approve", at=before))
    db.session.commit()

    work = stats.work_per_moderator(stats.window(NOW, 8, BERLIN))
    assert [(w.name, w.counts, w.total) for w in work] == [
        ("Anna Seidel", {"approve": 3, "reject": 1, "spam": 0, "delete": 0, "reply": 2}, 6),
        ("Ben Ott", {"approve": 1, "reject": 0, "spam": 2, "delete": 1, "reply": 0}, 4),
    ]


def test_busiest_posts_categories_and_topics(app, make, moderator):
    service, technik = make.category("Kundenservice"), make.category("Netz & Technik")
    a = make.post("Glasfaser", category=service)
    b = make.post("Router", category=technik)
    c = make.post("Ohne Kategorie")
    reader(a, berlin(2024, 5, 13, 9, 0), topic="question")
    reader(a, berlin(2024, 5, 6, 9, 0), topic="question", status=S.PENDING)
    reader(a, berlin(2024, 5, 14, 9, 0), topic="complaint", answered=30)
    reader(b, berlin(2024, 5, 14, 9, 0), topic="bug", response=R.NO_ANSWER_NEEDED)
    reader(b, berlin(2024, 1, 2, 9, 0), topic="bug")  # long before the window
    staff(b, berlin(2024, 5, 14, 9, 0), moderator, topic="praise")
    reader(c, berlin(2024, 5, 7, 9, 0), topic="praise")
    reader(c, berlin(2024, 5, 7, 10, 0), status=S.SPAM, response=R.NEEDS_ANSWER)  # spam waits for nobody
    db.session.commit()
    win = stats.window(NOW, 8, BERLIN)

    posts = stats.busiest_posts(win)
    assert [(p.name, p.slug, p.comments, p.waiting) for p in posts] == [
        ("Glasfaser", a.slug, 3, 2), ("Ohne Kategorie", c.slug, 2, 1), ("Router", b.slug, 1, 0)]
    assert stats.busiest_posts(win, limit=1)[0].name == "Glasfaser"
    categories = stats.busiest_categories(win)
    assert [(k.name, k.comments, k.waiting) for k in categories] == [
        ("Kundenservice", 3, 2), (None, 2, 1), ("Netz & Technik", 1, 0)]

    pulse = stats.topics(win)
    assert pulse.per_category == [  # most first; posts without a category last among equals
        ("Kundenservice", {"question": 2, "bug": 0, "wish": 0, "complaint": 1, "praise": 0}),
        ("Netz & Technik", {"question": 0, "bug": 1, "wish": 0, "complaint": 0, "praise": 0}),
        (None, {"question": 0, "bug": 0, "wish": 0, "complaint": 0, "praise": 1}),
    ]
    assert pulse.totals == {"question": 2, "bug": 1, "wish": 0, "complaint": 1, "praise": 1} and pulse.total == 5
    weekly = {w.number: counts for w, counts in pulse.per_week}
    assert weekly[19] == {"question": 1, "bug": 0, "wish": 0, "complaint": 0, "praise": 1}
    assert weekly[20] == {"question": 1, "bug": 1, "wish": 0, "complaint": 1, "praise": 0}
    assert sum(sum(c.values()) for n, c in weekly.items() if n < 19) == 0


def test_snapshot_of_the_queue_right_now(app, make):
    service = make.category("Kundenservice")  # 240 minutes
    post = make.post(category=service)
    goals = Targets.load(app.config, BERLIN)
    reader(post, NOW - timedelta(minutes=300), status=S.PENDING)  # waiting, over target
    reader(post, NOW - timedelta(minutes=60))  # waiting, in time
    reader(post, NOW - timedelta(minutes=30), status=S.PENDING, response=R.NO_ANSWER_NEEDED)
    reader(post, NOW - timedelta(days=3), answered=10)
    reader(post, NOW - timedelta(days=3), status=S.SPAM)
    db.session.commit()

    snap = stats.snapshot(NOW, goals)
    assert (snap.pending, snap.waiting, snap.breaching) == (2, 2, 1)
    assert snap.oldest_waiting == NOW - timedelta(minutes=300)
    assert snap.backlog_age(NOW) == timedelta(minutes=300)
    empty = stats.Snapshot(0, 0, None, 0)
    assert empty.backlog_age(NOW) is None


# --- the page ---------------------------------------------------------------------------------

def fill(make, moderator, n: int):
    """n threads of a question (with a topic) and the team's answer, spread over the last days."""
    category = make.category(f"Netz & <Technik> {n}")
    post = make.post(category=category)
    for i in range(n):
        at = utcnow() - timedelta(hours=5 * i + 1)
        question = reader(post, at, moderated=5 + i, answered=30 + i, topic=("question", "bug", "praise")[i % 3])
        staff(post, at + timedelta(minutes=30 + i), moderator, parent=question)
        db.session.add(ModerationEvent(comment_id=question.id, actor_id=moderator.id, action="reply", at=at))
    reader(post, utcnow() - timedelta(minutes=5), status=S.PENDING)
    db.session.commit()
    return post


def test_stats_page_for_a_moderator(client, make, moderator):
    post = fill(make, moderator, 6)
    login(client, moderator)
    response = client.get("/moderation/stats?weeks=4", headers=ENGLISH)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Numbers and customer pulse" in html
    assert 'href="/static/css/stats.css?v=' in html.split("</head>")[0]
    assert '<option value="4" selected>' in html
    assert "/moderation/export.csv?weeks=4" in html
    assert html.count('role="img"') == 6 and html.count("<desc") == 6
    assert "Anna Seidel" in html  # work per team member
    assert f'/posts/{post.slug}' in html  # busiest posts
    assert "Netz &amp; &lt;Technik&gt; 6" in html and "<Technik>" not in html
    assert "<script" not in html.split("</head>")[1]  # no JavaScript on the page


class _Ancestors(HTMLParser):
    """The open elements (tag, attributes) around each <table>, outermost first."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self):
        super().__init__()
        self.stack: list[tuple[str, dict]] = []
        self.tables: list[list[tuple[str, dict]]] = []

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append(list(self.stack))
        if tag not in self.VOID:
            self.stack.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break


def test_work_table_has_the_full_width_and_scrolls_in_its_own_box(client, make, moderator):
    """Bug: squeezed into half the page beside the categories, its last columns were cut off at 1280 px."""
    fill(make, moderator, 3)
    login(client, moderator)
    parser = _Ancestors()
    parser.feed(client.get("/moderation/stats").get_data(as_text=True))
    [work] = [chain for chain in parser.tables
              if any(attrs.get("aria-labelledby") == "work-title" for _tag, attrs in chain)]
    tag, attrs = work[-1]
    assert tag == "div" and "table-scroll" in attrs.get("class", "").split()  # scrolls inside, never the page
    assert not any("stats-columns" in attrs.get("class", "").split() for _tag, attrs in work)
    css = (PROJECT_ROOT / "static/css/stats.css").read_text(encoding="utf-8")
    assert re.search(r"\.table-scroll \{[^}]*overflow-x: auto", css)


def test_stats_page_with_nothing_to_show(client, moderator):
    login(client, moderator)
    response = client.get("/moderation/stats?weeks=99", headers=ENGLISH)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<option value="8" selected>' in html
    assert html.count("No data in this period.") >= 6  # one honest frame per chart


def test_stats_page_runs_a_fixed_number_of_queries(client, make, moderator, count_queries):
    login(client, moderator)
    fill(make, moderator, 3)
    client.drain = False  # the drainer's statements (outbox, webhooks, target checks …) are not the page's
    with count_queries() as few:
        assert client.get("/moderation/stats").status_code == 200
    fill(make, moderator, 30)
    with count_queries() as many:
        assert client.get("/moderation/stats").status_code == 200
    assert len(many.statements) == len(few.statements) <= 14, many.statements


def test_stats_page_needs_the_moderate_permission(client, make):
    response = client.get("/moderation/stats")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.get("/moderation/export.csv").status_code == 302
    login(client, make.user("author", role=Role.AUTHOR))
    assert client.get("/moderation/stats").status_code == 403
    assert client.get("/moderation/export.csv").status_code == 403


# --- the CSV export ---------------------------------------------------------------------------

def read_csv(response) -> list[list[str]]:
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


def test_csv_export(client, make, moderator):
    category = make.category("=Kundenservice")
    post = make.post("Glasfaser", category=category)
    at = (utcnow() - timedelta(days=2)).replace(microsecond=0)
    question = reader(post, at, moderated=15, answered=90, topic="question", email="petra@example.org",
                      name="Petra Lindqvist", ip_hash="f00dfeedcafe")
    staff(post, at + timedelta(minutes=90), moderator, parent=question)
    for name in ['=HYPERLINK("http://evil.example","klick")', "+49 170 1234", "-1+2", "@SUM(A1)", "\t=1+1"]:
        reader(post, at + timedelta(minutes=1), name=name, response=R.NO_ANSWER_NEEDED)
    reader(post, utcnow() - timedelta(days=200), name="Zu alt")
    db.session.commit()
    login(client, moderator)

    response = client.get("/moderation/export.csv")
    assert response.status_code == 200 and response.is_streamed
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    today = utcnow().astimezone(BERLIN).date().isoformat()
    assert response.headers["Content-Disposition"] == f"attachment; filename=dialog-comments-{today}.csv"
    body = response.get_data(as_text=True)
    assert "@example.org" not in body and "sternwelle" not in body and "f00dfeedcafe" not in body
    assert "Zu alt" not in body

    header, first, *others, answer = read_csv(response)  # oldest first
    assert tuple(header) == stats.EXPORT_COLUMNS
    iso = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert first == [str(question.id), post.slug, "'=Kundenservice", iso, "Petra Lindqvist", "approved", "answered",
                     "question", "no", (at + timedelta(minutes=15)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                     (at + timedelta(minutes=90)).strftime("%Y-%m-%dT%H:%M:%SZ"), "15", "90", "yes"]
    assert answer[4] == "Team" and answer[8] == "yes" and answer[13] == ""  # staff: no target of its own
    assert sorted(row[4] for row in others) == sorted([
        "'=HYPERLINK(\"http://evil.example\",\"klick\")", "'+49 170 1234", "'-1+2", "'@SUM(A1)", "'\t=1+1"])
    assert all(row[13] == "" for row in others)  # no answer needed: not counted


def test_csv_export_of_an_empty_window(client, make, moderator):
    reader(make.post(), utcnow() - timedelta(days=60))
    db.session.commit()
    login(client, moderator)
    response = client.get("/moderation/export.csv?weeks=4")
    assert response.status_code == 200
    assert read_csv(response) == [list(stats.EXPORT_COLUMNS)]
    assert len(read_csv(client.get("/moderation/export.csv?weeks=12"))) == 2


def test_csv_export_streams_in_chunks(client, make, moderator):
    post = make.post()
    at = utcnow() - timedelta(days=1)
    rows = [{"post_id": post.id, "author_name": f"Leser {i}", "author_email": f"l{i}@example.org", "body_md": "x",
             "body_html": "<p>x</p>", "status": S.APPROVED, "response_status": R.NO_ANSWER_NEEDED,
             "created_at": at + timedelta(seconds=i)} for i in range(1200)]
    db.session.execute(insert(Comment), rows)
    db.session.commit()
    login(client, moderator)
    response = client.get("/moderation/export.csv", buffered=False)
    chunks = list(response.response)
    assert len(chunks) >= 3  # flushed every few hundred rows, not built as one string
    body = b"".join(c if isinstance(c, bytes) else c.encode() for c in chunks).decode("utf-8-sig")
    assert len(body.splitlines()) == 1201 and "@example.org" not in body
