"""Commenter statuses set from the queue (issue 13): the service, the comment page's form, the list,
lifting, the queue's badge, bad input and permissions."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AdminEvent, Comment, CommenterKind, CommenterLevel, CommenterStatus, CommentStatus, Role, utcnow
from app.moderation import commenters
from tests.comment_helpers import add_comment, post_comment
from tests.moderation_helpers import login, moderator

EN = {"Accept-Language": "en"}
IP_HASH = "a1" * 32


@pytest.fixture
def anna(make, client):
    return moderator(make, client)


@pytest.fixture
def comment(post, app):
    return add_comment(post, status=CommentStatus.PENDING, email="troll@example.org", name="Troll",
                       ip_hash=IP_HASH)


def html(response):
    return response.get_data(as_text=True)


def statuses():
    db.session.expire_all()
    return db.session.scalars(select(CommenterStatus).order_by(CommenterStatus.kind)).all()


def audit(action):
    return db.session.scalars(select(AdminEvent).where(AdminEvent.action == action).order_by(AdminEvent.id)).all()


def form(**fields):
    values = {"scope": "email", "level": "premoderate", "reason": "Beleidigt andere Leser", "expires_days": ""}
    values.update(fields)
    return {f"commenter-{k}": v for k, v in values.items()}


# --- the service ------------------------------------------------------------------------------------

def test_set_again_replaces_and_every_change_is_audited(app, make):
    anna = make.user("anna", role=Role.MODERATOR)
    now = utcnow()
    first = commenters.set_status("email", "Troll@Example.org ", "premoderate", "erst lesen", None, anna, now=now)
    again = commenters.set_status("email", "troll@example.org", "banned", "  jetzt  gesperrt ", now + timedelta(days=3),
                                  anna, now=now)
    db.session.commit()
    assert first.id == again.id and (again.value, again.level, again.reason) == ("troll@example.org", "banned",
                                                                                  "jetzt gesperrt")
    events = audit("commenter.status")
    assert [e.before for e in events] == [None, {"level": "premoderate", "reason": "erst lesen", "expires_at": None}]
    assert events[1].after["level"] == "banned" and events[1].actor_id == anna.id
    assert events[1].subject == "email:troll@example.org"
    commenters.lift(again, anna)
    db.session.commit()
    assert statuses() == [] and audit("commenter.lift")[0].before["level"] == "banned"


def test_active_for_takes_the_stronger_and_ignores_expired(app):
    now = utcnow()
    commenters.set_status("email", "a@example.org", "premoderate", "r", None, None, now=now)
    commenters.set_status("ip", IP_HASH, "banned", "r", now + timedelta(hours=1), None, now=now)
    db.session.commit()
    assert commenters.active_for("a@example.org", IP_HASH, now).level == "banned"
    assert commenters.active_for("a@example.org", IP_HASH, now + timedelta(hours=2)).level == "premoderate"
    assert commenters.active_for("b@example.org", None, now).level is None
    assert commenters.active_for(None, None, now) == commenters.Active()


@pytest.mark.parametrize("args, field", [
    (("user", "x@example.org", "banned", "r"), "scope"),  # unknown kind
    (("email", "x@example.org", "forever", "r"), "level"),  # unknown level
    (("email", "x@example.org", "banned", "   "), "reason"),
    (("email", "x@example.org", "banned", "x" * 501), "reason"),
    (("ip", None, "banned", "r"), "scope"),  # no IP hash
    (("email", "anna@example.org", "banned", "r"), "scope"),  # a team member's address
])
def test_what_the_service_refuses(app, make, args, field):
    make.user("anna", role=Role.MODERATOR)
    with pytest.raises(commenters.CommenterError) as caught:
        commenters.set_status(*args, None, None)
    assert caught.value.field == field
    assert statuses() == [] and audit("commenter.status") == []


@pytest.mark.parametrize("typed", ["abc", "-1", "0", "3651", "1e3", "9" * 30])
def test_absurd_expiry_is_refused(typed):
    with pytest.raises(commenters.CommenterError):
        commenters.expiry(typed, utcnow())


def test_expiry_in_days():
    now = utcnow()
    assert commenters.expiry("", now) is None and commenters.expiry(None, now) is None
    assert commenters.expiry(" 7 ", now) == now + timedelta(days=7)
    assert commenters.expiry("3650", now) == now + timedelta(days=3650)


# --- the comment's page: the form -----------------------------------------------------------------

def test_the_comment_page_offers_the_form_without_the_ip_hash(client, anna, comment):
    page = html(client.get(f"/moderation/comments/{comment.id}", headers=EN))
    assert 'id="commenter-status"' in page and "by client (IP hash)" in page
    assert IP_HASH not in page


def test_ban_by_address_and_client_for_a_week(client, anna, comment):
    response = client.post(f"/moderation/commenters/comments/{comment.id}",
                           data=form(scope="both", level="banned", expires_days="7"))
    assert response.status_code == 302 and response.headers["Location"].endswith(
        f"/moderation/comments/{comment.id}#commenter-status")
    rows = statuses()
    assert [(s.kind, s.value, s.level) for s in rows] == [("email", "troll@example.org", "banned"),
                                                         ("ip", IP_HASH, "banned")]
    assert all(s.created_by_id == anna.id and s.expires_at > utcnow() + timedelta(days=6) for s in rows)
    assert [e.note for e in audit("commenter.status")] == [f"comment {comment.id}"] * 2
    page = html(client.get(f"/moderation/comments/{comment.id}", headers=EN))
    assert page.count("Lift") >= 2 and IP_HASH not in page


@pytest.mark.parametrize("fields, message", [
    ({"expires_days": "bald"}, "whole number"),
    ({"expires_days": "-3"}, "from 1 to 3650"),
    ({"expires_days": "99999"}, "from 1 to 3650"),
    ({"level": "forever"}, "Unknown level"),
    ({"scope": "neighbourhood"}, "by address, by client or both"),
    ({"reason": ""}, "Please give a reason"),
])
def test_bad_input_is_shown_in_the_form_and_nothing_is_saved(client, anna, comment, fields, message):
    typed = form(**fields, **({} if "reason" in fields else {"reason": "Mein getippter Grund"}))
    response = client.post(f"/moderation/commenters/comments/{comment.id}", data=typed, headers=EN)
    page = html(response)
    assert response.status_code == 400 and message in page
    assert statuses() == [] and audit("commenter.status") == []
    if "reason" not in fields:
        assert 'value="Mein getippter Grund"' in page  # what the moderator typed is kept
    if "expires_days" in fields:
        assert f'value="{fields["expires_days"]}"' in page


def test_by_client_without_an_ip_hash_is_refused(client, anna, post):
    imported = add_comment(post, status=CommentStatus.PENDING, email="alt@example.org")  # no IP hash
    response = client.post(f"/moderation/commenters/comments/{imported.id}", data=form(scope="both"), headers=EN)
    assert response.status_code == 400 and "no client (IP hash)" in html(response)
    assert statuses() == []  # not even the address: all or nothing
    assert "only “by address” is possible" in html(client.get(f"/moderation/comments/{imported.id}", headers=EN))


def test_a_staff_comment_gets_no_status(client, anna, post):
    staff = add_comment(post, email=anna.email, user_id=anna.id, name=anna.display_name)
    response = client.post(f"/moderation/commenters/comments/{staff.id}", data=form(), headers=EN)
    assert response.status_code == 400 and "team member" in html(response)
    assert statuses() == []
    assert 'id="commenter-status"' not in html(client.get(f"/moderation/comments/{staff.id}"))


def test_unknown_comment_or_status_is_404(client, anna):
    assert client.post("/moderation/commenters/comments/999999", data=form()).status_code == 404
    assert client.post("/moderation/commenters/999999/lift").status_code == 404


# --- the list, lifting ---------------------------------------------------------------------------------

def test_the_list_shows_active_and_expired_and_lifts(client, anna, comment):
    now = utcnow()
    commenters.set_status("ip", IP_HASH, "banned", "Bot-Welle", None, anna, now=now)
    db.session.add(CommenterStatus(kind="email", value="alt@example.org", level="premoderate", reason="früher",
                                   expires_at=now - timedelta(days=1), created_at=now - timedelta(days=8)))
    db.session.commit()
    page = html(client.get("/moderation/commenters/", headers=EN))
    assert "1 in force, 1 expired" in page and "Bot-Welle" in page and "alt@example.org" in page
    assert "expired" in page and IP_HASH not in page
    assert page.index("Bot-Welle") < page.index("alt@example.org")  # in force first
    assert f"/moderation/comments/{comment.id}" in page  # the client's latest comment stands in for its hash
    expired = db.session.scalar(select(CommenterStatus).where(CommenterStatus.value == "alt@example.org"))
    response = client.post(f"/moderation/commenters/{expired.id}/lift", data={"next": "https://evil.example/"})
    assert response.status_code == 302 and response.headers["Location"] == "/moderation/commenters/"
    assert [s.value for s in statuses()] == [IP_HASH]
    assert audit("commenter.lift")[0].actor_id == anna.id


def test_the_queue_shows_a_badge_for_an_active_status(client, anna, comment, post):
    other = add_comment(post, status=CommentStatus.PENDING, email="nett@example.org", name="Nett")
    commenters.set_status("email", "troll@example.org", "banned", "Beleidigungen", None, anna)
    db.session.add(CommenterStatus(kind="email", value="nett@example.org", level="premoderate", reason="alt",
                                   expires_at=utcnow() - timedelta(hours=1)))
    db.session.commit()
    page = html(client.get("/moderation/", headers=EN))

    def item(c):
        start = page.index(f'id="q-{c.id}"')
        return page[start:page.index("</article>", start)]

    assert "commenter-status" in item(comment) and "banned (address)" in item(comment)
    assert "commenter-status" not in item(other)  # expired: no badge
    assert "/moderation/commenters/" in page  # the header links the list


def test_the_queue_reads_statuses_in_one_query_per_page(client, anna, post, count_queries):
    client.drain = False  # the page's own statements, not the outbox drainer's after it
    for n in range(3):
        add_comment(post, status=CommentStatus.PENDING, email=f"r{n}@example.org", ip_hash=f"{n:064d}")
    with count_queries() as few:
        client.get("/moderation/")
    for n in range(20):
        add_comment(post, status=CommentStatus.PENDING, email=f"s{n}@example.org", ip_hash=f"{n + 10:064d}",
                    commit=False)
        commenters.set_status("ip", f"{n + 10:064d}", "premoderate", "r", None, anna)
    db.session.commit()
    with count_queries() as many:
        client.get("/moderation/")
    assert few.n == many.n, many.statements


def test_a_status_set_in_the_browser_applies_to_the_next_comment(client, anna, comment, app, post):
    client.post(f"/moderation/commenters/comments/{comment.id}", data=form(level="banned"))
    post_comment(app.test_client(), post.slug, email="troll@example.org", body="Und wieder ein böser Kommentar")
    db.session.expire_all()
    newest = db.session.scalars(select(Comment).order_by(Comment.id.desc())).first()
    assert (newest.status, newest.status_reason) == ("spam", "banned")


# --- who may ---------------------------------------------------------------------------------------------

def test_only_moderators_manage_statuses(app, client, make, comment):
    assert client.get("/moderation/commenters/").status_code == 302  # to the login page
    response = client.post(f"/moderation/commenters/comments/{comment.id}", data=form())
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    for role in (Role.AUTHOR, Role.EDITOR):
        login(client, make.user(role=role))
        assert client.get("/moderation/commenters/").status_code == 403
        assert client.post(f"/moderation/commenters/comments/{comment.id}", data=form()).status_code == 403
    login(client, make.user(role=Role.ADMIN))
    assert client.get("/moderation/commenters/").status_code == 200
    assert db.session.scalar(select(func.count()).select_from(CommenterStatus)) == 0


def test_csrf_is_checked(app, client, anna, comment):
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post(f"/moderation/commenters/comments/{comment.id}", data=form(), headers=EN)
    assert response.status_code == 400 and statuses() == []
    assert client.post("/moderation/commenters/1/lift").status_code in (400, 404)


def test_kinds_and_levels_are_the_models():
    assert set(commenters.STRENGTH) == set(CommenterLevel) and {"email", "ip"} == set(CommenterKind)


def test_a_privacy_erasure_removes_the_statuses_of_the_address_and_its_clients(app, make):
    from app.privacy import service as privacy

    post = make.post("Glasfaser")
    comment = add_comment(post, email="weg@example.org", ip_hash="abc123", status="spam")
    admin = make.user("dpo", role=Role.ADMIN)
    commenters.set_status("email", "weg@example.org", "banned", "Werbung", None, admin)
    commenters.set_status("ip", "abc123", "premoderate", "Werbung", None, admin)
    db.session.commit()
    assert comment.id
    privacy.erase("weg@example.org", admin)
    assert db.session.scalar(select(func.count()).select_from(CommenterStatus)) == 0
    subjects = db.session.scalars(select(AdminEvent.subject)).all()
    assert not any("weg@example.org" in s for s in subjects)
