"""Issue 13, triage that learns: the rules "banned", "premoderated", "repeated" and "history", their
place in the policy's order, and the facts the service gathers for them (bounded, one query each)."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.comments import service
from app.comments.policy import CommentPolicy, Submission, normalised_text
from app.extensions import db
from app.models import Comment, CommenterKind, CommenterLevel, CommenterStatus, CommentStatus, utcnow
from app.moderation import commenters
from tests import databases
from tests.comment_helpers import add_comment, post_comment

A, P, S, R = CommentStatus.APPROVED, CommentStatus.PENDING, CommentStatus.SPAM, CommentStatus.REJECTED
TEXT = "Wann kommt endlich Glasfaser nach Kleinwellingen?"

pytestmark = pytest.mark.post("Glasfaser für alle", slug="glasfaser")

policy = CommentPolicy(min_seconds=3, max_links=2, blocklist=("viagra",), held_words=("kündigung",),
                       reserved_names=("Sternwelle",), repeat_limit=2, history_limit=2)


def decide(**kw):
    base = {"text": TEXT, "email": "a@example.org", "seconds_taken": 30.0}
    return policy.decide(Submission(**{**base, **kw}))


# --- the policy: each rule and the order --------------------------------------------------------

@pytest.mark.parametrize("kw, expected", [
    ({"banned": True}, (S, "banned")),
    ({"premoderated": True}, (P, "premoderated")),
    ({"repeats": 2}, (P, "repeated")),
    ({"repeats": 1}, (P, "new_author")),  # below the limit
    ({"removed_before": 2}, (P, "history")),
    ({"removed_before": 1}, (P, "new_author")),
])
def test_each_new_rule(kw, expected):
    d = decide(**kw)
    assert (d.status, d.reason) == expected
    assert d.silent_spam == (expected[0] == S)  # a banned reader is answered like a success


@pytest.mark.parametrize("kw, reason", [
    # each line adds the rule that should win over everything after it
    ({"is_staff": True, "honeypot": "x", "banned": True}, "staff"),
    ({"honeypot": "x", "seconds_taken": 0.1, "banned": True}, "honeypot"),
    ({"seconds_taken": 0.1, "text": "viagra", "banned": True}, "too_fast"),
    ({"text": "viagra kündigung", "banned": True}, "blocklist"),
    ({"text": "Meine Kündigung ist seit Wochen offen, bitte melden", "banned": True, "premoderated": True},
     "banned"),
    ({"text": "Meine Kündigung ist seit Wochen offen, bitte melden", "premoderated": True, "repeats": 5},
     "held_word"),
    ({"premoderated": True, "repeats": 5, "removed_before": 5, "approved_before": 3, "proven": True}, "premoderated"),
    ({"repeats": 5, "removed_before": 5, "name": "Sternwelle Team"}, "repeated"),
    ({"removed_before": 5, "name": "Sternwelle Team", "approved_before": 3, "proven": True}, "history"),
    ({"name": "Sternwelle Team", "approved_before": 3, "proven": True}, "looks_like_team"),
    ({"approved_before": 3, "proven": True}, "trusted"),
    ({}, "new_author"),
])
def test_the_order_of_the_rules(kw, reason):
    assert decide(**kw).reason == reason


def test_pre_moderation_and_the_new_rules_hold_even_a_trusted_address():
    for kw, reason in (({"premoderated": True}, "premoderated"), ({"repeats": 2}, "repeated"),
                       ({"removed_before": 2}, "history")):
        d = decide(approved_before=5, proven=True, **kw)
        assert (d.status, d.reason) == (P, reason)


def test_rules_switched_off_and_short_texts():
    off = CommentPolicy(min_seconds=0)  # limits 0: both rules off
    assert off.decide(Submission(text=TEXT, email="a@example.org", repeats=99, removed_before=99,
                                 approved_before=1, proven=True)).reason == "trusted"
    # "Danke!" is said by many readers: short texts never count as repeated
    assert decide(text="Danke, super!", repeats=9).reason == "new_author"
    assert not policy.counts_repeats("Danke, super!") and policy.counts_repeats(TEXT)


def test_the_config_sets_the_rules(app):
    loaded = CommentPolicy.from_config(app.config)
    assert (loaded.repeat_limit, loaded.repeat_hours, loaded.history_limit, loaded.history_days) == (2, 24, 2, 30)


def test_text_is_normalised_for_case_and_spacing():
    assert normalised_text("  Wann KOMMT\n\tGlasfaser?  ") == normalised_text("wann kommt glasfaser?")
    assert service.text_hash("Wann  KOMMT Glasfaser?", "k") == service.text_hash("wann kommt glasfaser?", "k")
    assert service.text_hash("Wann kommt Glasfaser?", "k") != service.text_hash("Wann kommt Glasfaser?", "other")
    assert len(service.text_hash("x", "k")) == 64


# --- through the comment form ----------------------------------------------------------------------

def newest() -> Comment:
    db.session.expire_all()
    return db.session.scalars(select(Comment).order_by(Comment.id.desc())).first()


def my_ip_hash(app) -> str:
    return service.hash_ip("127.0.0.1", app.config["SECRET_KEY"])  # the test client's address


def trusted_browser(app):
    """A browser whose address has an approved comment it wrote: the policy would approve it."""
    browser = app.test_client()
    post_comment(browser, "glasfaser", body="Meine allererste Frage zum Ausbau hier")
    first = newest()
    first.status = A
    db.session.commit()
    post_comment(browser, "glasfaser", body="Noch eine Frage, die gleich erscheinen darf")
    assert (newest().status, newest().status_reason) == (A, "trusted")
    return browser


def test_the_text_hash_is_stored_with_each_comment(app, post, client):
    post_comment(client, "glasfaser", body=TEXT)
    assert newest().text_hash == service.text_hash(TEXT, app.config["SECRET_KEY"])


def test_the_same_text_a_third_time_waits_even_from_a_trusted_address(app, post, make):
    browser = trusted_browser(app)
    other = make.post("Anderer Beitrag", slug="anderer")
    secret = app.config["SECRET_KEY"]
    for n, where in enumerate((post, other)):  # two readers sent it before, on two posts
        add_comment(where, email=f"r{n}@example.org", body=TEXT, text_hash=service.text_hash(TEXT, secret),
                    minutes_ago=60)
    post_comment(browser, "glasfaser", body="  wann KOMMT endlich glasfaser nach   Kleinwellingen? ")
    assert (newest().status, newest().status_reason) == (P, "repeated")


def test_copies_outside_the_window_or_by_staff_do_not_count(app, post, make):
    browser = trusted_browser(app)
    secret = app.config["SECRET_KEY"]
    add_comment(post, email="alt@example.org", body=TEXT, text_hash=service.text_hash(TEXT, secret),
                minutes_ago=25 * 60)  # before the 24 hours
    add_comment(post, email="team@example.org", body=TEXT, text_hash=service.text_hash(TEXT, secret),
                user_id=make.user("staffer").id)  # the team's own answers are not a reader's repeats
    post_comment(browser, "glasfaser", body=TEXT)
    assert newest().status_reason == "trusted"


def test_an_address_with_removed_comments_waits(app, post):
    browser = trusted_browser(app)
    for status in (R, S):
        add_comment(post, email="petra@example.org", status=status, minutes_ago=24 * 60)
    post_comment(browser, "glasfaser", body="Und jetzt wieder ganz freundlich gefragt")
    assert (newest().status, newest().status_reason) == (P, "history")


def test_a_client_with_removed_comments_waits_whatever_address_it_types(app, post, client):
    for n in range(2):
        add_comment(post, email=f"wegwerf{n}@example.org", status=S, ip_hash=my_ip_hash(app))
    post_comment(client, "glasfaser", email="ganz-neu@example.org", body="Ganz neue Adresse, alte Gewohnheiten")
    assert newest().status_reason == "history"


def test_old_removals_and_one_comment_matching_twice_count_once(app, post, client):
    add_comment(post, email="petra@example.org", status=R, minutes_ago=31 * 24 * 60)  # older than 30 days
    # the same comment matches by address and by client: it is one removed comment, not two
    add_comment(post, email="petra@example.org", status=S, ip_hash=my_ip_hash(app))
    add_comment(post, email="petra@example.org", status=CommentStatus.DELETED)  # withdrawn: not removed by us
    post_comment(client, "glasfaser", body="Eine ganz normale Frage zur Leitung")
    assert newest().status_reason == "new_author"


def test_a_banned_address_goes_to_spam_silently(app, post, client):
    commenters.set_status(CommenterKind.EMAIL, "petra@example.org", CommenterLevel.BANNED, "Beleidigungen", None,
                          None)
    db.session.commit()
    response = post_comment(client, "glasfaser", body="Schon wieder ich, mit freundlichen Worten")
    assert response.status_code == 302  # answered like a success
    assert (newest().status, newest().status_reason) == (S, "banned")


def test_a_pre_moderated_client_waits_even_when_trusted(app, post):
    browser = trusted_browser(app)
    commenters.set_status(CommenterKind.IP, my_ip_hash(app), CommenterLevel.PREMODERATE, "erst lesen", None, None)
    db.session.commit()
    post_comment(browser, "glasfaser", body="Eine Frage, die sonst sofort erschiene")
    assert (newest().status, newest().status_reason) == (P, "premoderated")


def test_an_expired_status_no_longer_applies(app, post):
    browser = trusted_browser(app)
    db.session.add(CommenterStatus(kind=CommenterKind.EMAIL, value="petra@example.org", level=CommenterLevel.BANNED,
                                   reason="früher", expires_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    post_comment(browser, "glasfaser", body="Die Sperre ist abgelaufen, jetzt geht es")
    assert newest().status_reason == "trusted"


def test_staff_comments_skip_the_new_rules(app, post, make):
    from tests.moderation_helpers import moderator

    staff_browser = app.test_client()
    anna = moderator(make, staff_browser)
    commenters.set_status(CommenterKind.IP, my_ip_hash(app), CommenterLevel.BANNED, "Bot-Netz", None, None)
    db.session.commit()
    post_comment(staff_browser, "glasfaser", body="Antwort des Teams auf alle Fragen", email=anna.email)
    assert (newest().status, newest().status_reason) == (A, "staff")


def test_the_double_submit_check_still_comes_first(app, post, client):
    post_comment(client, "glasfaser", body=TEXT)
    response = post_comment(client, "glasfaser", body=TEXT)
    assert response.status_code in (302, 303, 200)
    assert db.session.scalar(select(db.func.count()).select_from(Comment)) == 1


# --- bounded --------------------------------------------------------------------------------------

def test_the_facts_cost_one_bounded_statement_each(app, post, count_queries):
    p = CommentPolicy(repeat_limit=2, history_limit=2)
    for n in range(6):
        add_comment(post, email="petra@example.org", status=S, ip_hash="h" * 64, minutes_ago=n)
    with count_queries() as counter:
        facts = service._triage_facts(p, "petra@example.org", "h" * 64, TEXT, "t" * 64, utcnow())
    assert counter.n == 3, counter.statements  # statuses, repeats, history
    assert facts == {"banned": False, "premoderated": False, "repeats": 0, "removed_before": 2}  # stops at the limit
    with count_queries() as off:
        service._triage_facts(CommentPolicy(), "petra@example.org", None, "kurz", "t" * 64, utcnow())
    assert off.n == 1  # rules off: only the statuses are read


@pytest.mark.skipif(databases.ON_POSTGRESQL, reason="SQLite's query plan")
def test_the_history_and_repeat_queries_read_their_indexes(app, post):
    from sqlalchemy import event

    statements = []

    def keep(conn, cursor, statement, parameters, *args):
        statements.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", keep)
    try:
        service.removed_count("petra@example.org", "h" * 64, utcnow() - timedelta(days=30), 2)
        service.repeat_count("t" * 64, utcnow() - timedelta(hours=24), 2)
    finally:
        event.remove(db.engine, "before_cursor_execute", keep)
    plans = " | ".join(row[-1] for statement, parameters in statements for row in
                       db.session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters))
    assert "ix_comments_author_email_status" in plans and "ix_comments_ip_hash_status" in plans
    assert "ix_comments_text_hash_created_at (text_hash=? AND created_at>?)" in plans
    assert "ix_comments_status_created_at" not in plans and "SCAN comments" not in plans
