"""Staff accounts by mail: invitations and "forgot password" (mails through the real SMTP fixture)."""
import re
from urllib.parse import urlsplit

import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import func, select

from app.extensions import db
from app.models import AdminEvent, LoginSession, Role, User
from tests.test_auth import PASSWORD, html, login, signed_in

SITE = "https://blog.example.org"
NEW_PASSWORD = "ein ganz neues Passwort"


@pytest.fixture
def admin(make):
    return make.user("ada", role=Role.ADMIN, display_name="Ada Admin")


@pytest.fixture(autouse=True)
def _site_url(app):
    app.config["SITE_URL"] = SITE  # links in mails are built on it


@pytest.fixture
def web(app):
    """An English-reading browser (the msgids), whatever the German catalogue says."""
    client = app.test_client()
    client.set_cookie("lang", "en")
    return client


@pytest.fixture
def admin_web(app, admin, web):
    assert login(web, "ada").status_code == 302
    return web


def link_in(mail, prefix: str) -> str:
    """The one link of `prefix` in a mail's body, as a path (asserting it points at SITE_URL)."""
    links = re.findall(r"https?://\S+", mail.body)
    ours = [u for u in links if urlsplit(u).path.startswith(prefix)]
    assert len(ours) == 1, mail.body
    assert ours[0].startswith(SITE + prefix)  # SITE_URL, never the request's Host
    return urlsplit(ours[0]).path


def invite(client, username="ines", email="ines@example.org", role=Role.EDITOR, display_name="Ines Invited"):
    return client.post("/admin/users/invite", data={"username": username, "email": email, "role": role,
                                                    "display_name": display_name})


def later(monkeypatch, seconds: int) -> None:
    """Make every signed token look `seconds` older (itsdangerous reads the age from its clock)."""
    now = TimestampSigner.get_timestamp
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: now(self) + seconds)


def events(action: str) -> list[AdminEvent]:
    db.session.expire_all()
    return db.session.scalars(select(AdminEvent).where(AdminEvent.action == action)).all()


def user_named(name: str) -> User:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.username == name))


# --- invitations -------------------------------------------------------------------------------

def test_an_invited_editor_sets_a_password_and_is_signed_in(app, admin_web, smtp):
    response = invite(admin_web)
    assert response.status_code == 302 and response.headers["Location"] == "/admin/users"
    ines = user_named("ines")
    assert ines.password_hash is None and ines.role == Role.EDITOR and ines.display_name == "Ines Invited"
    [event] = events("user.invite")
    assert event.subject == "ines" and event.actor_id == user_named("ada").id

    [mail] = smtp.to("ines@example.org")
    assert "ines" in mail.body and "72" in mail.body  # user name and hours valid
    path = link_in(mail, "/account/invite/")

    newcomer = app.test_client()
    newcomer.set_cookie("lang", "en")
    page = newcomer.get(path)
    assert page.status_code == 200 and "ines" in html(page)
    response = newcomer.post(path, data={"new": NEW_PASSWORD, "repeat": NEW_PASSWORD})
    assert response.status_code == 302
    assert signed_in(newcomer)
    assert user_named("ines").check_password(NEW_PASSWORD)
    assert events("user.invite_accept")

    # Single use: the password is set, so the link is dead (a clear page, not an error).
    again = app.test_client().get(path)
    assert again.status_code == 410 and "schon benutzt" in html(again)
    assert app.test_client().post(path, data={"new": "noch ein Passwort!", "repeat": "noch ein Passwort!"}
                                  ).status_code == 410
    assert user_named("ines").check_password(NEW_PASSWORD)


def test_accept_page_explains_bad_passwords_and_keeps_nothing_typed(app, admin_web, smtp):
    invite(admin_web)
    path = link_in(smtp.to("ines@example.org")[0], "/account/invite/")
    client = app.test_client()
    client.set_cookie("lang", "en")
    differ = client.post(path, data={"new": NEW_PASSWORD, "repeat": NEW_PASSWORD + "x"})
    assert differ.status_code == 400 and "The two new passwords differ." in html(differ)
    assert NEW_PASSWORD not in html(differ)
    short = client.post(path, data={"new": "kurz", "repeat": "kurz"})
    assert short.status_code == 400 and "at least 10 characters" in html(short)
    assert user_named("ines").password_hash is None and not signed_in(client)


def test_an_expired_invitation_says_so(app, admin_web, smtp, monkeypatch):
    invite(admin_web)
    path = link_in(smtp.to("ines@example.org")[0], "/account/invite/")
    later(monkeypatch, 72 * 3600 - 60)
    assert app.test_client().get(path).status_code == 200  # still valid just before the end
    later(monkeypatch, 120)
    response = admin_web.get(path)
    assert response.status_code == 410 and "expired" in html(response) and "new invitation" in html(response)
    assert admin_web.post(path, data={"new": NEW_PASSWORD, "repeat": NEW_PASSWORD}).status_code == 410
    assert user_named("ines").password_hash is None


def test_a_forged_or_cut_link_is_a_clear_404(app, admin_web, smtp):
    invite(admin_web)
    path = link_in(smtp.to("ines@example.org")[0], "/account/invite/")
    for bad in (path[:-3], "/account/invite/x", path.replace("/account/invite/", "/login/reset/")):
        response = admin_web.get(bad)
        assert response.status_code == 404, bad
        assert "not valid" in html(response)


def test_admins_resend_an_invitation(app, admin_web, smtp):
    invite(admin_web)
    ines = user_named("ines")
    response = admin_web.post(f"/admin/users/{ines.id}/invite")
    assert response.status_code == 302
    assert len(smtp.to("ines@example.org")) == 2
    assert events("user.invite_resend")
    first, second = (link_in(m, "/account/invite/") for m in smtp.to("ines@example.org"))
    assert app.test_client().post(second, data={"new": NEW_PASSWORD, "repeat": NEW_PASSWORD}).status_code == 302
    assert app.test_client().get(first).status_code == 410  # a password is set: every invitation is dead

    smtp.clear()
    assert admin_web.post(f"/admin/users/{ines.id}/invite").status_code == 302
    assert smtp.received == []  # nothing to resend once the account has a password


def test_an_invitation_follows_the_account_rules(app, admin_web, smtp, make):
    make.user("taken")
    response = invite(admin_web, username="taken", email="someone@example.org")
    assert response.status_code == 400 and "already taken" in html(response)
    assert 'value="someone@example.org"' in html(response)  # what was typed stays
    response = invite(admin_web, username="Not Valid!", email="x@example.org")
    assert response.status_code == 400
    assert smtp.received == [] and events("user.invite") == []


def test_a_changed_address_kills_the_invitation_sent_to_the_old_one(app, admin_web, smtp):
    invite(admin_web)
    path = link_in(smtp.to("ines@example.org")[0], "/account/invite/")
    ines = user_named("ines")
    ines.email = "ines.neu@example.org"
    db.session.commit()
    assert app.test_client().get(path).status_code == 410


# --- forgot password ---------------------------------------------------------------------------

def forgot(client, value):
    return client.post("/login/forgot", data={"login": value})


def test_login_page_links_to_forgot_password(web):
    assert 'href="/login/forgot"' in html(web.get("/login"))
    assert web.get("/login/forgot").status_code == 200


@pytest.mark.parametrize("typed", ["gina", "GINA", "gina@example.org", " Gina@Example.org "])
def test_forgot_password_mails_a_reset_link(app, web, make, smtp, typed):
    make.user("gina", role=Role.MODERATOR)
    response = forgot(web, typed)
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    [mail] = smtp.to("gina@example.org")
    assert "gina" in mail.body and "60" in mail.body
    link_in(mail, "/login/reset/")


def test_the_answer_is_the_same_whether_the_account_exists_or_not(app, make, smtp):
    make.user("gina", role=Role.MODERATOR)
    make.user("olaf", role=Role.AUTHOR).active = False
    db.session.commit()
    invited = User(username="neu", email="neu@example.org", role=Role.AUTHOR, display_name="Neu")
    db.session.add(invited)
    db.session.commit()

    answers = []
    for typed in ("gina", "nobody", "nobody@example.org", "olaf", "neu"):
        client = app.test_client()
        client.set_cookie("lang", "en")
        response = forgot(client, typed)
        page = client.get(response.headers["Location"])
        answers.append((response.status_code, response.headers["Location"], html(page)))
    assert len(set(answers)) == 1
    # Only the active account with a password gets a mail (inactive and invited ones get none).
    assert [m.rcpt_tos for m in smtp.received] == [["gina@example.org"]]


def test_an_empty_forgot_form_is_shown_again(web):
    response = forgot(web, "")
    assert response.status_code == 400 and "Please enter your user name or e-mail address." in html(response)


def test_forgot_password_is_rate_limited_per_client(app, make, smtp):
    app.config["FORGOT_PASSWORD_RATE_LIMIT"] = "2 per minute"
    make.user("gina", role=Role.MODERATOR)
    client = app.test_client()
    assert forgot(client, "a").status_code == 302
    assert forgot(client, "b").status_code == 302
    response = forgot(client, "gina")
    assert response.status_code == 429 and "Retry-After" in response.headers
    assert 'name="login"' in html(response)  # the form, with the message
    assert smtp.received == []


def test_one_mailbox_is_not_flooded(app, make, smtp):
    make.user("gina", role=Role.MODERATOR)
    for n in range(4):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"10.0.0.{n}"  # a new address each time: only the account limit
        forgot(client, "gina")
    assert len(smtp.to("gina@example.org")) == 3


def test_reset_sets_the_password_and_ends_every_sign_in(app, make, smtp):
    make.user("gina", role=Role.MODERATOR)
    elsewhere = app.test_client()
    assert login(elsewhere, "gina").status_code == 302
    client = app.test_client()
    client.set_cookie("lang", "en")
    forgot(client, "gina")
    path = link_in(smtp.to("gina@example.org")[0], "/login/reset/")

    assert client.get(path).status_code == 200  # opening the link changes nothing
    assert signed_in(elsewhere)
    response = client.post(path, data={"new": NEW_PASSWORD, "repeat": NEW_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert not signed_in(elsewhere)
    assert db.session.scalar(select(func.count()).select_from(LoginSession)) == 0
    assert login(app.test_client(), "gina", PASSWORD).status_code == 400
    assert login(app.test_client(), "gina", NEW_PASSWORD).status_code == 302

    used = client.get(path)
    assert used.status_code == 410 and "used already" in html(used) and 'href="/login/forgot"' in html(used)


def test_reset_refuses_bad_passwords(app, make, smtp):
    make.user("gina", role=Role.MODERATOR)
    client = app.test_client()
    client.set_cookie("lang", "en")
    forgot(client, "gina")
    path = link_in(smtp.to("gina@example.org")[0], "/login/reset/")
    response = client.post(path, data={"new": NEW_PASSWORD, "repeat": "something else entirely"})
    assert response.status_code == 400 and "The two new passwords differ." in html(response)
    response = client.post(path, data={"new": "short", "repeat": "short"})
    assert response.status_code == 400 and "at least 10 characters" in html(response)
    assert login(app.test_client(), "gina", PASSWORD).status_code == 302


def test_a_reset_link_expires(app, make, smtp, monkeypatch):
    make.user("gina", role=Role.MODERATOR)
    client = app.test_client()
    client.set_cookie("lang", "en")
    forgot(client, "gina")
    path = link_in(smtp.to("gina@example.org")[0], "/login/reset/")
    later(monkeypatch, 60 * 60 + 1)
    response = client.post(path, data={"new": NEW_PASSWORD, "repeat": NEW_PASSWORD})
    assert response.status_code == 410 and "expired" in html(response)
    assert login(app.test_client(), "gina", PASSWORD).status_code == 302


def test_a_reset_link_dies_with_a_deactivated_account(app, make, smtp):
    gina = make.user("gina", role=Role.MODERATOR)
    forgot(app.test_client(), "gina")
    path = link_in(smtp.to("gina@example.org")[0], "/login/reset/")
    gina.active = False
    db.session.commit()
    assert app.test_client().get(path).status_code == 410


def test_mails_go_to_files_without_a_mail_server(app, make):
    from pathlib import Path

    make.user("gina", role=Role.MODERATOR)
    forgot(app.test_client(), "gina")
    files = list((Path(app.config["DATA_DIR"]) / "outbox").glob("*.eml"))
    assert len(files) == 1 and "/login/reset/" in files[0].read_text()


def test_accepting_in_a_browser_signed_in_as_someone_else_ends_that_sign_in(app, admin_web, smtp):
    invite(admin_web)
    path = link_in(smtp.to("ines@example.org")[0], "/account/invite/")
    assert admin_web.post(path, data={"new": NEW_PASSWORD, "repeat": NEW_PASSWORD}).status_code == 302
    ada, ines = user_named("ada"), user_named("ines")
    assert db.session.scalar(select(func.count()).select_from(LoginSession).where(LoginSession.user_id == ada.id)) == 0
    assert "Ines Invited" in html(admin_web.get("/account/password"))  # this browser is now the new member's
    assert ines.check_password(NEW_PASSWORD)


def test_a_password_set_by_an_admin_is_audited(app, admin_web, make):
    gina = make.user("gina", role=Role.MODERATOR)
    response = admin_web.post(f"/admin/users/{gina.id}", data={
        "display_name": "Gina", "email": "gina@example.org", "role": Role.MODERATOR, "active": "y",
        "new_password": "ein Passwort vom Admin"})
    assert response.status_code == 302
    [event] = events("user.password_reset")
    assert event.subject == "gina" and event.actor_id == user_named("ada").id
    assert "ein Passwort vom Admin" not in str(event.after) + event.note  # never the password itself


def test_the_users_page_offers_invitations(admin_web):
    page = html(admin_web.get("/admin/users"))
    assert 'href="/admin/users/invite"' in page
    assert admin_web.get("/admin/users/invite").status_code == 200


def test_the_account_pages_are_valid_html(app, admin_web, smtp, make):
    from tests.test_html_validity import problems

    invite(admin_web)
    ines = user_named("ines")
    invite_path = link_in(smtp.to("ines@example.org")[0], "/account/invite/")
    make.user("gina", role=Role.MODERATOR)
    forgot(app.test_client(), "gina")
    reset_path = link_in(smtp.to("gina@example.org")[0], "/login/reset/")
    visitor = app.test_client()
    pages = {
        "forgot": visitor.get("/login/forgot"),
        "forgot with an error": forgot(visitor, ""),
        "reset": visitor.get(reset_path),
        "reset with errors": visitor.post(reset_path, data={"new": "kurz", "repeat": "anders"}),
        "invite accept": visitor.get(invite_path),
        "dead link": visitor.get("/login/reset/x"),
        "admin invite": admin_web.get("/admin/users/invite"),
        "admin invite with errors": invite(admin_web, username="", email=""),
        "admin account with an open invitation": admin_web.get(f"/admin/users/{ines.id}"),
        "users": admin_web.get("/admin/users"),
    }
    found = {name: problems(html(r)) for name, r in pages.items() if problems(html(r))}
    assert found == {}
    assert "Send the invitation again" in html(pages["admin account with an open invitation"])
