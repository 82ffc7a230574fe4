"""Signing in and out through the real forms: messages, redirects, remember-me, password change, throttling."""
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from app.models import Role

PASSWORD = "correct horse battery"
WRONG = "User name or password is wrong."


@pytest.fixture
def moderator(make):
    return make.user("mona", role=Role.MODERATOR, display_name="Mona Moderator")


@pytest.fixture
def author(make):
    return make.user("arno", role=Role.AUTHOR)


@pytest.fixture
def web(app):
    """A browser that reads English (the msgids), whatever the German catalogue says."""
    client = app.test_client()
    client.set_cookie("lang", "en")
    return client


def html(response):
    return response.get_data(as_text=True)


def login(client, username, password=PASSWORD, **extra):
    return client.post("/login", data={"username": username, "password": password, **extra})


def errors(response) -> list[str]:
    return re.findall(r'<ul class="field-errors"[^>]*>(.*?)</ul>', html(response), re.S)


def signed_in(client) -> bool:
    response = client.get("/account/password")
    return response.status_code == 200


# --- the login page --------------------------------------------------------------------------

def test_login_page(web):
    response = web.get("/login")
    page = html(response)
    assert response.status_code == 200
    assert 'name="username"' in page and 'name="password"' in page and 'name="remember"' in page
    assert 'action="/login"' in page


def test_moderator_lands_on_the_queue_author_on_the_blog(app, moderator, author):
    response = login(app.test_client(), "mona")
    assert response.status_code == 302 and response.headers["Location"] == "/moderation/"
    response = login(app.test_client(), "arno")
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_user_name_is_case_insensitive(web, moderator):
    assert login(web, " MONA ").status_code == 302
    assert signed_in(web)


def test_wrong_password_and_unknown_user_look_the_same(web, moderator):
    wrong_password = login(web, "mona", "not the password")
    unknown_user = login(web, "nobody", "not the password")
    assert wrong_password.status_code == unknown_user.status_code == 400
    assert errors(wrong_password) == errors(unknown_user)
    assert WRONG in html(wrong_password)
    # Apart from the echoed user name, the pages are identical.
    assert html(wrong_password).replace('value="mona"', "") == html(unknown_user).replace('value="nobody"', "")
    assert not signed_in(web)


def test_inactive_user_cannot_sign_in(web, moderator):
    from app.extensions import db

    moderator.active = False
    db.session.commit()
    response = login(web, "mona")
    assert response.status_code == 400 and WRONG in html(response)
    assert not signed_in(web)


def test_user_without_a_password_cannot_sign_in(web, make):
    from app.extensions import db

    imported = make.user("importiert")
    imported.password_hash = None
    db.session.commit()
    for password in ("", "x", PASSWORD):
        assert login(web, "importiert", password).status_code == 400
    assert not signed_in(web)


def test_empty_form_asks_for_both_fields(web):
    response = web.post("/login", data={})
    assert response.status_code == 400
    assert "Please enter your user name." in html(response) and "Please enter your password." in html(response)


# --- where to go afterwards ------------------------------------------------------------------

@pytest.mark.parametrize("target", [
    "https://evil.example", "//evil.example", "/\\evil.example", "javascript:alert(1)", "http:/evil.example",
    " //evil.example", "/\t/evil.example", "evil.example",
])
def test_next_never_leaves_the_site(app, moderator, target):
    client = app.test_client()
    # The login page does not pass a foreign target on …
    form = html(client.get("/login", query_string={"next": target}))
    carried = re.search(r'name="next"[^>]*value="([^"]*)"|value="([^"]*)"[^>]*name="next"', form)
    assert carried is None or not any(carried.groups())
    # … and a posted one is ignored as well.
    response = login(client, "mona", next=target)
    assert response.status_code == 302 and response.headers["Location"] == "/moderation/"


def test_next_within_the_site_is_followed(app, moderator):
    client = app.test_client()
    form = html(client.get("/login", query_string={"next": "/moderation/?view=spam"}))
    assert 'value="/moderation/?view=spam"' in form
    response = login(client, "mona", next="/moderation/?view=spam")
    assert response.status_code == 302 and response.headers["Location"] == "/moderation/?view=spam"


def test_protected_page_sends_to_login_and_back(app, moderator):
    client = app.test_client()
    response = client.get("/moderation/?view=spam")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login"
    target = parse_qs(location.query)["next"][0]
    assert login(client, "mona", next=target).headers["Location"] == "/moderation/?view=spam"


def test_signed_in_visitor_of_the_login_page_is_sent_on(web, moderator):
    login(web, "mona")
    response = web.get("/login")
    assert response.status_code == 302 and response.headers["Location"] == "/moderation/"


# --- remember me -----------------------------------------------------------------------------

def test_remember_me_sets_the_remember_cookie(app, moderator):
    plain = app.test_client()
    login(plain, "mona")
    assert plain.get_cookie("remember_token") is None
    remembered = app.test_client()
    login(remembered, "mona", remember="y")
    cookie = remembered.get_cookie("remember_token")
    assert cookie is not None and cookie.http_only and cookie.expires is not None
    # The cookie alone signs the browser in again once the session is gone.
    remembered.delete_cookie("session")
    assert signed_in(remembered)


# --- changing one's password -----------------------------------------------------------------

def change(client, current=PASSWORD, new="ein neues Passwort", repeat=None):
    return client.post("/account/password", data={"current": current, "new": new,
                                                   "repeat": new if repeat is None else repeat})


def test_password_page_needs_a_signed_in_user(client):
    response = client.get("/account/password")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")


def test_wrong_current_password(web, moderator):
    login(web, "mona")
    response = change(web, current="falsch falsch")
    assert response.status_code == 400 and "The current password is wrong." in html(response)
    assert moderator.check_password(PASSWORD)


def test_new_passwords_must_match(web, moderator):
    login(web, "mona")
    response = change(web, repeat="ein anderes Passwort")
    assert response.status_code == 400 and "The two new passwords differ." in html(response)


def test_new_password_too_short(web, moderator):
    login(web, "mona")
    response = change(web, new="kurz")
    assert response.status_code == 400 and "The new password needs at least 10 characters." in html(response)


def test_password_change_works(app, web, moderator):
    login(web, "mona")
    assert web.get("/account/password").status_code == 200
    response = change(web)
    assert response.status_code == 302
    assert "Your password has been changed." in html(web.get(response.headers["Location"]))
    web.post("/logout")
    assert login(app.test_client(), "mona", PASSWORD).status_code == 400
    assert login(app.test_client(), "mona", "ein neues Passwort").status_code == 302


# --- signing out -----------------------------------------------------------------------------

def test_logout_is_post_only(web, moderator):
    """A link or an <img src="/logout"> on any page must not sign staff out; GET says "method not allowed"."""
    login(web, "mona")
    assert web.get("/logout").status_code == 405


def test_logout_signs_out_on_post_only(web, moderator):
    login(web, "mona")
    web.get("/logout")
    assert signed_in(web)
    response = web.post("/logout")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert not signed_in(web)
    assert "You are signed out." in html(web.get("/"))


def test_logout_forgets_the_remember_cookie(app, moderator):
    client = app.test_client()
    login(client, "mona", remember="y")
    client.post("/logout")
    assert not signed_in(client)


# --- throttling ------------------------------------------------------------------------------

@pytest.fixture
def three_per_minute(app):
    app.config["LOGIN_RATE_LIMIT_ACCOUNT"] = "3 per minute"


def test_fourth_failed_attempt_is_refused_with_429(web, moderator, three_per_minute):
    for _ in range(3):
        assert login(web, "mona", "falsch").status_code == 400
    response = login(web, "mona", "falsch")
    page = html(response)
    assert response.status_code == 429
    assert "Too many failed attempts. Please wait a minute and try again." in page
    assert 'action="/login"' in page and 'class="field-errors"' in page
    # While the account is throttled even the right password waits, so guessing cannot go on.
    assert login(web, "mona").status_code == 429
    assert not signed_in(web)


def test_throttling_is_per_account_whatever_the_spelling(app, moderator, make, three_per_minute):
    make.user("otto", role=Role.MODERATOR)
    for name in ("mona", "MONA", " Mona "):
        login(app.test_client(), name, "falsch")  # also from different browsers
    assert login(app.test_client(), "mona", "falsch").status_code == 429
    assert login(app.test_client(), "otto").status_code == 302


def test_successful_logins_do_not_count(app, moderator, three_per_minute):
    for _ in range(5):
        client = app.test_client()
        assert login(client, "mona").status_code == 302
        client.post("/logout")
    for _ in range(3):
        assert login(app.test_client(), "mona", "falsch").status_code == 400
    assert login(app.test_client(), "mona", "falsch").status_code == 429


def test_unknown_user_is_throttled_like_a_known_one(app, three_per_minute):
    """The 429 must not tell whether an account exists either."""
    for _ in range(3):
        assert login(app.test_client(), "nobody", "falsch").status_code == 400
    assert login(app.test_client(), "nobody", "falsch").status_code == 429


def test_a_new_password_signs_other_sessions_out(app, make):
    from app.extensions import db
    from app.models import User

    user = make.user("gina", role="moderator", password="altes Passwort 123")
    other = app.test_client()
    other.post("/login", data={"username": "gina", "password": "altes Passwort 123"})
    assert other.get("/moderation/").status_code == 200
    with app.app_context():
        from app.users.service import set_password

        set_password(db.session.get(User, user.id), "neues Passwort 456")
        db.session.commit()
    assert other.get("/moderation/").status_code == 302  # back to the login page


def test_login_starts_a_fresh_session(app, make):
    make.user("hans", role="moderator", password="Passwort 12345")
    client = app.test_client()
    with client.session_transaction() as s:
        s["planted"] = "by someone else"
        s["own_comments"] = [7]
    client.post("/login", data={"username": "hans", "password": "Passwort 12345"})
    with client.session_transaction() as s:
        assert "planted" not in s and s["own_comments"] == [7]
