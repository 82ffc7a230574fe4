"""Queue digests for moderators: the settings page, when a digest is due, what it says, and how it travels."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import CommentStatus, OutboxMail, ResponseStatus, Role, User, utcnow
from app.moderation import digest as digests
from tests.comment_helpers import add_comment
from tests.moderation_helpers import login

WAITING = ResponseStatus.NEEDS_ANSWER


def reload(user: User) -> User:
    db.session.expire_all()
    return db.session.get(User, user.id)


def set_digest(user: User, digest: str, minutes_ago: float | None = None) -> None:
    user.digest = digest
    user.digest_sent_at = None if minutes_ago is None else utcnow() - timedelta(minutes=minutes_ago)
    db.session.commit()


def run(runner, *args):
    result = runner.invoke(args=["moderation", "digest", *args])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def mod(make):
    user = make.user("mod", role=Role.MODERATOR, display_name="Mona Moderator")
    set_digest(user, "hourly")
    return user


# --- the settings page ---------------------------------------------------------------------------

def test_settings_page_needs_a_login(client):
    response = client.get("/account/notifications")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    response = client.post("/account/notifications", data={"digest": "daily"})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_settings_page_shows_the_three_choices_with_the_current_one_checked(client, make):
    user = make.user("mod2", role=Role.MODERATOR)
    set_digest(user, "daily")
    login(client, user)
    response = client.get("/account/notifications", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for value in ("off", "hourly", "daily"):
        assert f'value="{value}"' in html
    assert re.search(r'<input[^>]*checked[^>]*value="daily"|<input[^>]*value="daily"[^>]*checked', html)
    assert "your role does not" not in html


def test_saving_a_choice(client, make):
    user = make.user("mod2", role=Role.MODERATOR)
    login(client, user)
    response = client.post("/account/notifications", data={"digest": "hourly"}, headers={"Accept-Language": "en"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/notifications"
    assert reload(user).digest == "hourly"
    page = client.get("/account/notifications", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Your notification settings have been saved." in page
    response = client.post("/account/notifications", data={"digest": "off"})
    assert response.status_code == 302
    assert reload(user).digest == "off"


def test_switching_on_again_starts_afresh_switching_between_intervals_does_not(client, make):
    user = make.user("mod2", role=Role.MODERATOR)
    set_digest(user, "off", minutes_ago=90 * 24 * 60)  # the last digest went out months ago
    login(client, user)
    client.post("/account/notifications", data={"digest": "daily"})
    assert reload(user).digest_sent_at is None  # the first digest covers one day, not three months
    set_digest(user, "daily", minutes_ago=600)
    client.post("/account/notifications", data={"digest": "hourly"})
    assert reload(user).digest_sent_at is not None


@pytest.mark.parametrize("data", [{"digest": "weekly"}, {}])
def test_an_unknown_or_missing_choice_is_refused(client, make, data):
    user = make.user("mod2", role=Role.MODERATOR)
    set_digest(user, "daily")
    login(client, user)
    response = client.post("/account/notifications", data=data, headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert "Please choose one of the options." in response.get_data(as_text=True)
    assert reload(user).digest == "daily"


def test_staff_who_do_not_moderate_may_save_but_are_told_they_get_no_digest(client, make):
    author = make.user("author", role=Role.AUTHOR)
    login(client, author)
    response = client.get("/account/notifications", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    assert "your role does not, so you will not get one" in response.get_data(as_text=True)


# --- when a digest is due ------------------------------------------------------------------------

@pytest.mark.parametrize("setting, minutes_ago, due", [
    ("off", None, False), ("off", 10_000, False),
    ("hourly", None, True), ("hourly", 30, False), ("hourly", 59, False), ("hourly", 60, True), ("hourly", 300, True),
    ("daily", None, True), ("daily", 60, False), ("daily", 23 * 60 + 59, False), ("daily", 24 * 60, True),
])
def test_is_due(app, setting, minutes_ago, due):
    now = utcnow()
    user = User(username="x", display_name="X", digest=setting,
                digest_sent_at=None if minutes_ago is None else now - timedelta(minutes=minutes_ago))
    assert digests.is_due(user, now) is due


def test_a_cron_run_a_few_seconds_early_still_counts_as_due(app):
    now = utcnow()
    user = User(username="x", display_name="X", digest="hourly", digest_sent_at=now - timedelta(minutes=59, seconds=58))
    assert digests.is_due(user, now)


def test_only_active_staff_who_moderate_and_asked_for_it_receive_digests(app, make):
    wanted = {make.user("m1", role=Role.MODERATOR), make.user("a1", role=Role.ADMIN)}
    for user in wanted:
        set_digest(user, "daily")
    set_digest(make.user("m2", role=Role.MODERATOR), "off")
    set_digest(make.user("ed", role=Role.EDITOR), "hourly")
    set_digest(make.user("au", role=Role.AUTHOR), "hourly")
    gone = make.user("gone", role=Role.MODERATOR)
    gone.active = False
    set_digest(gone, "hourly")
    assert {u.username for u in digests.subscribers()} == {"m1", "a1"}


# --- what a digest says and how it travels --------------------------------------------------------

def test_digest_lists_new_pending_and_overdue_comments_in_german_with_links(app, runner, smtp, mod, post, make):
    app.config["SITE_URL"] = "https://blog.example.org"
    new = add_comment(post, status=CommentStatus.PENDING, name="Petra Neu", body="Wann kommt Glasfaser?",
                      minutes_ago=10, response_status=WAITING)
    old = add_comment(post, status=CommentStatus.PENDING, name="Olaf Alt", body="Schon lange da.", minutes_ago=120)
    late = add_comment(post, status=CommentStatus.APPROVED, name="Wanda Wartend", body="Hallo, noch jemand da?",
                       minutes_ago=300, response_status=WAITING)
    answered = add_comment(post, status=CommentStatus.APPROVED, name="Anton Beantwortet", body="Danke!",
                           minutes_ago=600, response_status=ResponseStatus.ANSWERED)
    gone = add_comment(post, status=CommentStatus.DELETED, name="Greta Gelöscht", body="weg", minutes_ago=5,
                       response_status=WAITING)
    before = utcnow()

    output = run(runner)

    [received] = smtp.received
    assert received.rcpt_tos == ["mod@example.org"]
    assert received.subject.startswith("Sternwelle Blog")
    body = received.body
    assert body.startswith("Hallo Mona Moderator,")
    assert "Petra Neu" in body and "Wann kommt Glasfaser?" in body and "Glasfaser für alle" in body
    assert "Wanda Wartend" in body and "noch jemand da?" in body
    assert "Olaf Alt" not in body  # pending, but older than the first digest's hour
    assert "Anton" not in body and "Greta" not in body
    assert f"https://blog.example.org/moderation/comments/{new.id}" in body
    assert f"https://blog.example.org/moderation/comments/{late.id}" in body
    assert f"https://blog.example.org/moderation/comments/{old.id}" not in body
    assert f"https://blog.example.org/moderation/comments/{answered.id}" not in body
    assert f"https://blog.example.org/moderation/comments/{gone.id}" not in body
    assert "https://blog.example.org/moderation/?view=pending" in body
    assert "https://blog.example.org/moderation/?view=needs_answer&breaching=1" in body
    assert "https://blog.example.org/account/notifications" in body
    assert "mod@example.org" in output and "1 sent" in output

    user = reload(mod)
    assert user.digest_sent_at is not None and user.digest_sent_at >= before
    stored = db.session.scalars(select(OutboxMail)).all()
    assert [(m.to, m.sent_at is not None) for m in stored] == [("mod@example.org", True)]


def test_english_msgids_are_translated_when_the_catalog_has_them(app, runner, smtp, mod, post):
    """The digest is rendered under the site default (German) even when run with no request at all."""
    add_comment(post, status=CommentStatus.PENDING, minutes_ago=5)
    run(runner)
    [received] = smtp.received
    assert "Hallo" in received.body and "Hello" not in received.body


def test_the_next_digest_covers_only_what_came_since_the_last(app, runner, smtp, mod, post):
    first = add_comment(post, status=CommentStatus.PENDING, name="Erste Leserin", minutes_ago=30)
    run(runner)
    assert len(smtp.received) == 1
    smtp.clear()

    output = run(runner)  # at once: not due yet
    assert smtp.received == []
    assert "1 not due" in output

    # An hour passes (everything moves 61 minutes into the past), and a second reader writes.
    mod = reload(mod)
    mod.digest_sent_at -= timedelta(minutes=61)
    first.created_at -= timedelta(minutes=61)
    db.session.commit()
    add_comment(post, status=CommentStatus.PENDING, name="Zweiter Leser", minutes_ago=0)
    run(runner)
    [received] = smtp.received
    assert "Zweiter Leser" in received.body
    assert "Erste Leserin" not in received.body  # still pending, but it was in the last digest


def test_overdue_readers_are_repeated_in_every_digest_until_answered(app, runner, smtp, mod, post):
    add_comment(post, status=CommentStatus.APPROVED, name="Wanda Wartend", minutes_ago=300, response_status=WAITING)
    set_digest(mod, "hourly", minutes_ago=90)
    run(runner)
    set_digest(mod, "hourly", minutes_ago=90)
    run(runner)
    assert [("Wanda Wartend" in r.body) for r in smtp.received] == [True, True]


def test_the_response_target_is_the_category_s(app, runner, smtp, mod, make):
    fast = make.category("Störungen")
    fast.response_target_minutes = 30
    db.session.commit()
    urgent = make.post("Störung in Kleinwellingen", category=fast)
    relaxed = make.post("Netzkultur am Sonntag")
    add_comment(urgent, status=CommentStatus.APPROVED, name="Eilig Ella", minutes_ago=45, response_status=WAITING)
    add_comment(relaxed, status=CommentStatus.APPROVED, name="Geduldig Gerd", minutes_ago=45, response_status=WAITING)
    set_digest(mod, "hourly", minutes_ago=120)  # neither is new
    run(runner)
    [received] = smtp.received
    assert "Eilig Ella" in received.body and "Störung in Kleinwellingen" in received.body
    assert "Geduldig Gerd" not in received.body


def test_nothing_to_report_sends_nothing_but_moves_the_clock_on(app, runner, smtp, mod, post):
    add_comment(post, status=CommentStatus.APPROVED, minutes_ago=5)  # approved, nobody waits
    add_comment(post, status=CommentStatus.PENDING, minutes_ago=600)  # pending, but not new
    set_digest(mod, "hourly", minutes_ago=120)
    before = utcnow()
    output = run(runner)
    assert smtp.received == []
    assert db.session.scalar(select(func.count()).select_from(OutboxMail)) == 0
    assert reload(mod).digest_sent_at >= before
    assert "Nothing to report for mod" in output and "1 with nothing to report" in output


def test_each_due_moderator_gets_their_own_digest(app, runner, smtp, mod, post, make):
    daily = make.user("dora", role=Role.ADMIN, display_name="Dora Daily")
    set_digest(daily, "daily", minutes_ago=25 * 60)
    waiting = make.user("wim", role=Role.MODERATOR)
    set_digest(waiting, "daily", minutes_ago=60)  # had one an hour ago
    author = make.user("auth", role=Role.AUTHOR)
    set_digest(author, "hourly")  # cannot moderate: never a digest
    add_comment(post, status=CommentStatus.PENDING, name="Frisch", minutes_ago=5)
    add_comment(post, status=CommentStatus.PENDING, name="Vom Vormittag", minutes_ago=10 * 60)
    output = run(runner)
    assert sorted(r.rcpt_tos[0] for r in smtp.received) == ["dora@example.org", "mod@example.org"]
    [to_dora] = smtp.to("dora@example.org")
    [to_mod] = smtp.to("mod@example.org")
    assert "Hallo Dora Daily," in to_dora.body and "Vom Vormittag" in to_dora.body  # her day
    assert "Vom Vormittag" not in to_mod.body  # his hour
    assert reload(waiting).digest_sent_at < utcnow() - timedelta(minutes=59)
    assert "2 sent" in output and "1 not due" in output


def test_long_lists_are_cut_with_a_pointer_to_the_queue(app, runner, smtp, mod, post, monkeypatch):
    monkeypatch.setattr(digests, "MAX_ITEMS", 2)
    for n in range(5):
        add_comment(post, status=CommentStatus.PENDING, name=f"Leser {n}", minutes_ago=5 + n)
    run(runner)
    [received] = smtp.received
    assert received.body.count("/moderation/comments/") == 2
    assert "5" in received.subject
    assert "3" in received.body


def test_dry_run_prints_the_mail_and_changes_nothing(app, runner, smtp, mod, post):
    add_comment(post, status=CommentStatus.PENDING, name="Petra Neu", body="Wann kommt Glasfaser?", minutes_ago=5)
    output = run(runner, "--dry-run")
    assert "Would send to mod@example.org" in output
    assert "Petra Neu" in output and "Wann kommt Glasfaser?" in output
    assert "Dry run: 1 digest(s) would be sent" in output
    assert smtp.received == []
    assert db.session.scalar(select(func.count()).select_from(OutboxMail)) == 0
    assert reload(mod).digest_sent_at is None


def test_dry_run_with_nothing_to_report(app, runner, smtp, mod):
    output = run(runner, "--dry-run")
    assert "Nothing to report for mod" in output
    assert reload(mod).digest_sent_at is None


def test_a_failing_mail_server_leaves_the_digest_in_the_outbox(app, runner, mod, post, dead_port):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=dead_port, MAIL_TIMEOUT=2)
    add_comment(post, status=CommentStatus.PENDING, minutes_ago=5)
    result = runner.invoke(args=["moderation", "digest"])
    assert result.exit_code == 0, result.output
    assert "send-pending" in result.output
    [stored] = db.session.scalars(select(OutboxMail)).all()
    assert stored.to == "mod@example.org" and stored.sent_at is None and stored.attempts == 1
    assert reload(mod).digest_sent_at is not None  # the digest exists; the outbox retries it


def test_a_moderator_without_an_address_is_skipped(app, runner, smtp, mod, post, make):
    nomail = make.user("nomail", role=Role.MODERATOR)
    nomail.email = None
    set_digest(nomail, "hourly")
    add_comment(post, status=CommentStatus.PENDING, minutes_ago=5)
    output = run(runner)
    assert [r.rcpt_tos for r in smtp.received] == [["mod@example.org"]]
    assert "nomail has no e-mail address" in output
    assert reload(nomail).digest_sent_at is None


def test_no_digest_settings_no_output_but_a_summary(app, runner, smtp):
    output = run(runner)
    assert smtp.received == []
    assert "Digests: 0 sent" in output


def test_the_settings_form_carries_a_csrf_token(app, client, make):
    app.config["WTF_CSRF_ENABLED"] = True
    user = make.user("mod2", role=Role.MODERATOR)
    login(client, user)
    assert client.post("/account/notifications", data={"digest": "daily"}).status_code == 400
    assert reload(user).digest == "off"
    html = client.get("/account/notifications").get_data(as_text=True)
    [token] = re.findall(r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', html)
    response = client.post("/account/notifications", data={"digest": "daily", "csrf_token": token})
    assert response.status_code == 302
    assert reload(user).digest == "daily"


def test_statements_do_not_grow_with_the_backlog(app, mod, post, make, count_queries, monkeypatch):
    """Only what the mail shows is loaded (LIMIT), the rest is counted."""
    monkeypatch.setattr(digests, "MAX_ITEMS", 3)
    other = make.post("Zweiter Beitrag")
    figures = []
    for backlog in (2, 40):
        for n in range(backlog):
            add_comment(post if n % 2 else other, status=CommentStatus.PENDING, name=f"Neu {n}", minutes_ago=5,
                        commit=False)
            add_comment(post, status=CommentStatus.APPROVED, name=f"Wartend {n}", minutes_ago=600,
                        response_status=WAITING, commit=False)
        db.session.commit()
        set_digest(mod, "hourly")
        db.session.expire_all()  # the run reads everything itself, as the cron job does
        with count_queries() as counter:
            [outcome] = digests.run(dry_run=True)
        listed = [s for s in counter.statements if "FROM comments JOIN posts" in s and "count(" not in s]
        assert len(listed) == 2 and all("LIMIT" in s for s in listed)
        figures.append((counter.n, outcome.digest.new_pending_total, outcome.digest.breaching_total,
                        len(outcome.digest.new_pending), len(outcome.digest.breaching)))
    assert figures[0][1:] == (2, 2, 2, 2) and figures[1][1:] == (42, 42, 3, 3)
    assert figures[0][0] == figures[1][0], figures


def test_a_long_comment_is_shortened_to_an_excerpt(app, runner, smtp, mod, post):
    add_comment(post, status=CommentStatus.PENDING, name="Lang", body="\n\n" + "Wort " * 2000 + "Ende", minutes_ago=5)
    run(runner)
    [received] = smtp.received
    line = next(line for line in received.body.splitlines() if line.strip().startswith("Wort"))
    assert len(line.strip()) <= digests.EXCERPT and line.strip().endswith("…") and "Ende" not in received.body
