"""Sessions that end on the server, throttling that cannot lock an owner out, author pages that
say nothing about staff accounts. Each finding of the security review has its test here."""
import time

import pytest
from werkzeug.http import parse_cookie

from app.extensions import db
from app.models import LoginSession, Role, User
from app.users.service import deactivate, set_password
from tests.test_auth import PASSWORD, login, signed_in


@pytest.fixture
def moderator(make):
    return make.user("mona", role=Role.MODERATOR, display_name="Mona Moderator")


def cookies_of(client) -> dict[str, str]:
    return {cookie.key: cookie.value for cookie in client._cookies.values()}


def with_cookies(app, cookies: dict[str, str]):
    """Another browser holding a copy of these cookies (as a thief would)."""
    other = app.test_client()
    for name, value in cookies.items():
        other.set_cookie(name, value)
    return other


# --- sessions end on the server ------------------------------------------------------------------

def test_a_session_cookie_copied_before_logout_opens_nothing_afterwards(app, moderator):
    owner = app.test_client()
    login(owner, "mona")
    copied = cookies_of(owner)
    assert with_cookies(app, copied).get("/moderation/").status_code == 200  # the copy works … for now
    owner.post("/logout")
    assert with_cookies(app, copied).get("/moderation/").status_code == 302  # → the login page


def test_a_remember_cookie_copied_before_logout_opens_nothing_afterwards(app, moderator):
    owner = app.test_client()
    login(owner, "mona", remember="y")
    remember = {k: v for k, v in cookies_of(owner).items() if k == "remember_token"}
    assert remember, "stay signed in sets the remember cookie"
    assert with_cookies(app, remember).get("/moderation/").status_code == 200  # restores the sign-in
    owner.post("/logout")
    assert with_cookies(app, remember).get("/moderation/").status_code == 302


def test_logout_ends_only_that_sign_in(app, moderator):
    laptop, phone = app.test_client(), app.test_client()
    login(laptop, "mona")
    login(phone, "mona")
    laptop.post("/logout")
    assert not signed_in(laptop) and signed_in(phone)


def test_a_new_password_ends_every_other_sign_in_and_keeps_this_one(app, moderator):
    here, elsewhere = app.test_client(), app.test_client()
    login(here, "mona")
    login(elsewhere, "mona", remember="y")
    copied = cookies_of(elsewhere)
    response = here.post("/account/password", data={"current": PASSWORD, "new": "ein neues Passwort 1",
                                                    "repeat": "ein neues Passwort 1"})
    assert response.status_code == 302
    assert signed_in(here)
    assert not signed_in(elsewhere) and not signed_in(with_cookies(app, copied))


def test_deactivation_ends_every_sign_in(app, moderator):
    client = app.test_client()
    login(client, "mona", remember="y")
    copied = cookies_of(client)
    deactivate(db.session.get(User, moderator.id))
    db.session.commit()
    assert not signed_in(client) and not signed_in(with_cookies(app, copied))


def test_the_cli_password_reset_ends_sign_ins(app, moderator):
    client = app.test_client()
    login(client, "mona")
    set_password(db.session.get(User, moderator.id), "vom Admin gesetzt 1")
    db.session.commit()
    assert not signed_in(client)


def test_a_sign_in_expires_on_the_server(app, moderator):
    client = app.test_client()
    login(client, "mona")
    db.session.execute(LoginSession.__table__.update().values(expires_at=LoginSession.created_at))
    db.session.commit()
    assert not signed_in(client)


def test_the_database_keeps_only_a_hash_of_the_token(app, moderator):
    client = app.test_client()
    login(client, "mona")
    (row,) = db.session.scalars(db.select(LoginSession)).all()
    assert row.token_hash not in str(cookies_of(client))


@pytest.mark.parametrize("forged", ["1", "1:", "1:" + "x" * 43, "x:y", "99999999999999999999:abc"])
def test_forged_or_token_less_ids_open_nothing(app, moderator, forged):
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = forged.replace("1", str(moderator.id), 1)
    assert client.get("/moderation/").status_code == 302


# --- throttling cannot lock the owner out --------------------------------------------------------

@pytest.fixture
def limits(app):
    app.config.update(LOGIN_RATE_LIMIT_CLIENT="4 per minute", LOGIN_RATE_LIMIT_ACCOUNT="3 per minute",
                      LOGIN_RATE_LIMIT_DEVICE="3 per minute")


def attacker(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_strangers_guessing_do_not_lock_the_owner_out_of_their_own_browser(app, moderator, limits):
    owner = attacker(app, "192.0.2.10")
    assert login(owner, "mona").status_code == 302  # signed in here before: this browser is known
    owner.post("/logout")
    for n in range(10):  # a botnet: many addresses, one account
        login(attacker(app, f"198.51.100.{n}"), "mona", "falsch")
    assert login(attacker(app, "198.51.100.77"), "mona").status_code == 429  # unknown browsers wait …
    assert login(owner, "mona").status_code == 302  # … the owner's own browser does not


def test_the_owner_in_a_new_browser_is_slowed_down_not_locked_out(app, moderator):
    app.config["LOGIN_RATE_LIMIT_ACCOUNT"] = "2 per 2 seconds"
    for n in range(4):
        login(attacker(app, f"198.51.100.{n}"), "mona", "falsch")
    new_browser = attacker(app, "192.0.2.20")
    refused = login(new_browser, "mona")
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    time.sleep(2.2)
    assert login(new_browser, "mona").status_code == 302


def test_a_known_browser_has_its_own_limit(app, moderator, limits):
    owner = attacker(app, "192.0.2.10")
    login(owner, "mona")
    owner.post("/logout")
    for _ in range(3):
        assert login(owner, "mona", "falsch").status_code == 400
    assert login(owner, "mona", "falsch").status_code == 429  # a stolen device cookie gains little


def test_one_address_guessing_many_accounts_is_stopped(app, make, limits):
    for name in ("ada", "bea", "cem", "dan", "eva"):
        make.user(name, role=Role.MODERATOR)
    guesser = attacker(app, "203.0.113.5")
    answers = [login(guesser, name, "falsch").status_code for name in ("ada", "bea", "cem", "dan", "eva")]
    assert answers[:4] == [400] * 4 and answers[4] == 429


def test_the_device_cookie_is_signed_and_scoped_to_the_login_page(app, moderator, limits):
    owner = attacker(app, "192.0.2.10")
    response = login(owner, "mona")
    header = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("dialog_device="))
    assert "Path=/login" in header and "HttpOnly" in header
    forged = attacker(app, "192.0.2.10")
    forged.set_cookie("dialog_device", "eyJkIjoieCIsInUiOlsibW9uYSJdfQ", path="/login")  # unsigned {"u":["mona"]}
    for n in range(3):
        login(attacker(app, f"198.51.100.{n}"), "mona", "falsch")
    assert login(forged, "mona").status_code == 429
    assert parse_cookie(header)["dialog_device"]


# --- author pages --------------------------------------------------------------------------------

def test_author_pages_only_for_people_with_published_posts(client, make):
    writer = make.user("wanda", role=Role.AUTHOR, display_name="Wanda Schreiber")
    make.post("Veröffentlicht", author=writer)
    quiet = make.user("quentin", role=Role.MODERATOR)
    drafts_only = make.user("dora", role=Role.AUTHOR)
    make.post("Entwurf", author=drafts_only, status="draft")
    gone = make.user("gustav", role=Role.EDITOR)
    gone.active = False
    db.session.commit()
    assert client.get("/author/wanda").status_code == 200
    for name in (quiet.username, drafts_only.username, gone.username, "niemand"):
        assert client.get(f"/author/{name}").status_code == 404, name


def test_a_mailed_link_lets_the_owner_in_while_strangers_keep_guessing(app, moderator, limits):
    """Review of the fix, finding 10: continued guessing would keep every new browser waiting."""
    import re as regex

    from app.models import OutboxMail

    for n in range(5):
        login(attacker(app, f"198.51.100.{n}"), "mona", "falsch")
    new_browser = attacker(app, "192.0.2.30")
    refused = login(new_browser, "mona")
    assert refused.status_code == 429 and "/login/known-browser" in refused.get_data(as_text=True)
    asked = new_browser.post("/login/known-browser", data={"username": "Mona"})
    assert asked.status_code == 302
    (sent,) = db.session.scalars(db.select(OutboxMail)).all()
    assert sent.to == "mona@example.org"
    link = regex.search(r"http://\S+/login/known-browser/\S+", sent.body).group(0)
    path = link.split("5000", 1)[1]
    assert new_browser.get(path).status_code == 200  # one button: a mail scanner opening it changes nothing
    assert new_browser.post(path).status_code == 302
    for n in range(5, 10):  # the guessing goes on …
        login(attacker(app, f"198.51.100.{n}"), "mona", "falsch")
    assert login(new_browser, "mona").status_code == 302  # … and the owner is in


def test_the_sign_in_link_tells_nothing_and_mails_only_real_accounts(app, moderator, limits):
    from app.models import OutboxMail

    client = attacker(app, "192.0.2.40")
    for name in ("niemand", "mona"):
        response = client.post("/login/known-browser", data={"username": name}, headers={"Accept-Language": "en"})
        assert response.status_code == 302
        assert "If an account with this user name exists" in client.get("/login").get_data(as_text=True)
    assert [m.to for m in db.session.scalars(db.select(OutboxMail))] == ["mona@example.org"]
    assert client.get("/login/known-browser/forged-token").status_code == 404
