"""Optional two-factor sign-in: enabling with the QR code, the second step, replay, recovery codes, off."""
import html as htmllib
import re

import pyotp
import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AdminEvent, LoginSession, Role, User
from app.users import two_factor
from tests.test_auth import PASSWORD, html, login, signed_in

T0 = 1_800_000_000.0  # a fixed clock, at the start of a 30-second step


@pytest.fixture
def clock(monkeypatch):
    """The time codes are checked against; `clock.now` can be moved."""
    class Clock:
        now = T0

    monkeypatch.setattr(two_factor, "clock", lambda: Clock.now)
    return Clock


@pytest.fixture
def gina(make):
    return make.user("gina", role=Role.MODERATOR)


def client_of(app):
    client = app.test_client()
    client.set_cookie("lang", "en")
    return client


def fresh(user_id: int) -> User:
    db.session.expire_all()
    return db.session.get(User, user_id)


def setup_page(client):
    """The setup page's hidden token and the secret shown as text."""
    page = html(client.get("/account/two-factor"))
    token = re.search(r'name="setup" type="hidden" value="([^"]+)"', page)[1]
    secret = re.search(r'<code class="totp-secret">([^<]+)</code>', page)[1].replace(" ", "")
    return page, token, secret


def enable(client, at=None):
    """Turn two-factor on through the pages; returns (secret, recovery codes)."""
    _page, token, secret = setup_page(client)
    code = pyotp.TOTP(secret).at(two_factor.clock() if at is None else at)
    response = client.post("/account/two-factor/enable", data={"setup": token, "code": code})
    assert response.status_code == 200, html(response)
    codes = re.findall(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>", html(response))
    return secret, codes


def second_step(client, code):
    return client.post("/login/two-factor", data={"code": code})


@pytest.fixture
def enabled(app, gina, clock):
    """gina with two-factor on (confirmed at T0); returns (secret, recovery codes)."""
    client = client_of(app)
    login(client, "gina")
    return enable(client)


# --- turning it on -----------------------------------------------------------------------------

def test_setup_shows_the_secret_as_qr_code_and_text(app, gina):
    client = client_of(app)
    login(client, "gina")
    page, _token, secret = setup_page(client)
    src = htmllib.unescape(re.search(r'<img src="(data:image/svg\+xml[^"]+)"', page)[1])
    uri = two_factor.provisioning_uri(secret, gina, app.config["SITE_NAME"])
    assert src == two_factor.qr_data_uri(uri)  # the QR code encodes this account's otpauth:// URI
    assert uri.startswith("otpauth://totp/") and f"secret={secret}" in uri and "gina" in uri
    assert fresh(gina.id).totp_secret is None  # nothing stored before it is confirmed


def test_a_wrong_code_shows_the_same_qr_code_again(app, gina, clock):
    client = client_of(app)
    login(client, "gina")
    _page, token, secret = setup_page(client)
    wrong = pyotp.TOTP(secret).at(T0 - 300)
    response = client.post("/account/two-factor/enable", data={"setup": token, "code": wrong})
    assert response.status_code == 400 and "This code is not right." in html(response)
    assert f'value="{token}"' in html(response) and f'value="{wrong}"' in html(response)
    assert not two_factor.enabled(fresh(gina.id))


def test_a_setup_token_of_another_account_is_refused(app, gina, make, clock):
    other = client_of(app)
    make.user("otto", role=Role.AUTHOR)
    login(other, "otto")
    _page, token, secret = setup_page(other)
    client = client_of(app)
    login(client, "gina")
    response = client.post("/account/two-factor/enable",
                           data={"setup": token, "code": pyotp.TOTP(secret).at(T0)})
    assert response.status_code == 400 and "took too long" in html(response)
    assert not two_factor.enabled(fresh(gina.id))


def test_enabling_stores_hashed_recovery_codes_audits_and_ends_other_sign_ins(app, gina, clock):
    elsewhere = client_of(app)
    login(elsewhere, "gina")
    client = client_of(app)
    login(client, "gina")
    secret, codes = enable(client)
    assert len(codes) == 10 and len(set(codes)) == 10
    user = fresh(gina.id)
    assert two_factor.enabled(user) and user.totp_secret == secret
    assert len(user.recovery_codes) == 10 and not set(codes) & set(user.recovery_codes)  # only hashes
    [event] = db.session.scalars(select(AdminEvent).where(AdminEvent.action == "user.2fa_enable")).all()
    assert event.subject == "gina" and event.actor_id == gina.id
    assert signed_in(client) and not signed_in(elsewhere)
    assert html(client.get("/account/two-factor")).count("10 recovery codes left") == 1


# --- signing in --------------------------------------------------------------------------------

def test_sign_in_asks_for_the_code_before_the_sign_in_exists(app, gina, enabled, clock):
    secret, _codes = enabled
    db.session.execute(LoginSession.__table__.delete())
    db.session.commit()
    client = client_of(app)
    response = login(client, "gina", next="/moderation/")
    assert response.status_code == 302 and response.headers["Location"] == "/login/two-factor"
    assert not signed_in(client)
    assert db.session.scalar(select(func.count()).select_from(LoginSession)) == 0
    with client.session_transaction() as s:
        assert set(s[two_factor_pending()]) == {"u", "name", "t", "r", "next"}  # the id, no secret
    clock.now = T0 + 30
    response = second_step(client, pyotp.TOTP(secret).at(clock.now))
    assert response.status_code == 302 and response.headers["Location"] == "/moderation/"
    assert signed_in(client)
    assert db.session.scalar(select(func.count()).select_from(LoginSession)) == 1


def two_factor_pending():
    from app.auth.routes import PENDING

    return PENDING


def test_a_wrong_code_is_explained_and_kept(app, gina, enabled, clock):
    client = client_of(app)
    login(client, "gina")
    response = second_step(client, "123456")
    assert response.status_code == 400 and "wrong or was used already" in html(response)
    assert 'value="123456"' in html(response)
    assert not signed_in(client)


def test_a_code_in_other_digits_is_a_wrong_code_not_an_error(app, gina, enabled, clock):
    """Before: Arabic-Indic or superscript digits passed `isdigit` and made `compare_digest` raise (500)."""
    client = client_of(app)
    login(client, "gina")
    for code in ("١٢٣٤٥٦", "¹²³⁴⁵⁶"):
        response = second_step(client, code)
        assert response.status_code == 400 and "wrong or was used already" in html(response)
    assert not signed_in(client)


def test_a_code_is_accepted_once(app, gina, enabled, clock):
    secret, _codes = enabled
    totp = pyotp.TOTP(secret)
    client = client_of(app)
    login(client, "gina")
    assert second_step(client, totp.at(T0)).status_code == 400  # the code that turned it on: used
    clock.now = T0 + 30
    assert second_step(client, totp.at(T0 + 30)).status_code == 302

    again = client_of(app)
    login(again, "gina")
    assert second_step(again, totp.at(T0 + 30)).status_code == 400  # replayed
    assert not signed_in(again)


def test_one_step_of_clock_drift_either_way(app, gina, enabled, clock):
    secret, _codes = enabled
    totp = pyotp.TOTP(secret)
    clock.now = T0 + 300
    for at, accepted in ((T0 + 240, False), (T0 + 270, True), (T0 + 360, False), (T0 + 330, True)):
        client = client_of(app)
        login(client, "gina")
        response = second_step(client, totp.at(at))
        assert (response.status_code == 302) is accepted, (at - clock.now, accepted)
    # A code older than the last accepted one is refused even within the drift window.
    client = client_of(app)
    login(client, "gina")
    assert second_step(client, totp.at(T0 + 300)).status_code == 400


def test_a_recovery_code_signs_in_once(app, gina, enabled, clock):
    _secret, codes = enabled
    client = client_of(app)
    login(client, "gina")
    response = second_step(client, codes[0])
    assert response.status_code == 302
    assert two_factor.recovery_codes_left(fresh(gina.id)) == 9
    assert "a recovery code; 9 are left" in html(client.get(response.headers["Location"]))

    again = client_of(app)
    login(again, "gina")
    assert second_step(again, codes[0]).status_code == 400
    # Typed without the dash and in capitals, another one works.
    assert second_step(again, codes[1].replace("-", "").upper()).status_code == 302
    assert two_factor.recovery_codes_left(fresh(gina.id)) == 8


def test_the_step_waits_only_a_few_minutes(app, gina, enabled, clock):
    secret, _codes = enabled
    client = client_of(app)
    login(client, "gina")
    with client.session_transaction() as s:
        s[two_factor_pending()] = {**s[two_factor_pending()], "t": s[two_factor_pending()]["t"] - 301}
    page = client.get("/login/two-factor")
    assert page.status_code == 200 and "Please sign in again" in html(page)
    clock.now = T0 + 30
    assert second_step(client, pyotp.TOTP(secret).at(clock.now)).status_code == 400
    assert not signed_in(client)


def test_the_step_without_a_password_first_signs_nobody_in(app, gina, enabled, clock):
    client = client_of(app)
    with client.session_transaction() as s:
        s[two_factor_pending()] = {"u": gina.id}  # no time: not a pending sign-in the login made
    assert second_step(client, pyotp.TOTP(enabled[0]).at(T0 + 30)).status_code == 400
    assert not signed_in(client)


def test_wrong_codes_are_throttled_per_account(app, gina, enabled, clock):
    app.config["TWO_FACTOR_RATE_LIMIT_ACCOUNT"] = "3 per minute"
    secret, _codes = enabled
    for n in range(3):
        client = client_of(app)
        client.environ_base["REMOTE_ADDR"] = f"10.0.0.{n}"
        login(client, "gina")
        assert second_step(client, "000000").status_code == 400
    client = client_of(app)
    login(client, "gina")
    clock.now = T0 + 30
    response = second_step(client, pyotp.TOTP(secret).at(clock.now))
    assert response.status_code == 429 and "Too many wrong codes" in html(response)
    assert not signed_in(client)


def test_a_browser_that_signed_in_before_is_not_locked_out_by_strangers(app, gina, enabled, clock):
    app.config["TWO_FACTOR_RATE_LIMIT_ACCOUNT"] = "3 per minute"
    secret, _codes = enabled
    own = client_of(app)  # gina's browser: it finished a sign-in before, so it has the device cookie
    login(own, "gina")
    clock.now = T0 + 30
    assert second_step(own, pyotp.TOTP(secret).at(clock.now)).status_code == 302
    own.post("/logout")
    for _ in range(4):
        stranger = client_of(app)
        login(stranger, "gina")
        second_step(stranger, "000000")
    login(own, "gina")
    clock.now = T0 + 60
    assert second_step(own, pyotp.TOTP(secret).at(clock.now)).status_code == 302


# --- turning it off ----------------------------------------------------------------------------

def test_turning_it_off_needs_password_and_code(app, gina, enabled, clock):
    secret, _codes = enabled
    client = client_of(app)
    login(client, "gina")
    clock.now = T0 + 30
    code = pyotp.TOTP(secret).at(clock.now)
    assert second_step(client, code).status_code == 302
    clock.now = T0 + 60
    code = pyotp.TOTP(secret).at(clock.now)
    response = client.post("/account/two-factor/disable", data={"password": "falsch", "code": code})
    assert response.status_code == 400 and "The password is wrong." in html(response)
    response = client.post("/account/two-factor/disable", data={"password": PASSWORD, "code": "000000"})
    assert response.status_code == 400 and "wrong or was used already" in html(response)
    assert two_factor.enabled(fresh(gina.id))
    response = client.post("/account/two-factor/disable", data={"password": PASSWORD, "code": code})
    assert response.status_code == 302
    user = fresh(gina.id)
    assert not two_factor.enabled(user) and user.totp_secret is None and user.recovery_codes == []
    assert db.session.scalar(select(AdminEvent).where(AdminEvent.action == "user.2fa_disable")).actor_id == gina.id
    assert login(client_of(app), "gina").headers["Location"] == "/moderation/"  # no second step now


def test_an_admin_resets_a_members_two_factor(app, gina, enabled, make, clock):
    make.user("ada", role=Role.ADMIN)
    admin = client_of(app)
    login(admin, "ada")
    page = html(admin.get(f"/admin/users/{gina.id}"))
    assert f'action="/admin/users/{gina.id}/two-factor/reset"' in page
    response = admin.post(f"/admin/users/{gina.id}/two-factor/reset", data={"note": "Handy verloren"})
    assert response.status_code == 302
    assert not two_factor.enabled(fresh(gina.id))
    event = db.session.scalar(select(AdminEvent).where(AdminEvent.action == "user.2fa_reset"))
    assert event.subject == "gina" and event.note == "Handy verloren" and event.before == {"two_factor": True}
    assert event.actor_id == db.session.scalar(select(User.id).where(User.username == "ada"))
    assert login(client_of(app), "gina").headers["Location"] == "/moderation/"


def test_verify_refuses_codes_when_two_factor_is_off(app, gina):
    assert two_factor.verify(gina, pyotp.TOTP(pyotp.random_base32()).now()) is None


def test_the_two_factor_pages_are_valid_html(app, gina, make, clock):
    from tests.test_html_validity import problems

    client = client_of(app)
    login(client, "gina")
    pages = {"setup": client.get("/account/two-factor"), "password page": client.get("/account/password")}
    _page, token, secret = setup_page(client)
    pages["recovery codes"] = client.post("/account/two-factor/enable",
                                          data={"setup": token, "code": pyotp.TOTP(secret).at(T0)})
    pages["settings"] = client.get("/account/two-factor")
    pages["settings with errors"] = client.post("/account/two-factor/disable", data={"password": "", "code": ""})
    other = client_of(app)
    login(other, "gina")
    pages["step"] = other.get("/login/two-factor")
    pages["step with an error"] = second_step(other, "1")
    pages["step without a password"] = client_of(app).get("/login/two-factor")
    make.user("ada", role=Role.ADMIN)
    admin = client_of(app)
    login(admin, "ada")
    pages["admin account with two-factor"] = admin.get(f"/admin/users/{gina.id}")
    assert 'action="/admin/users/' in html(pages["admin account with two-factor"])
    found = {name: problems(html(r)) for name, r in pages.items() if problems(html(r))}
    assert found == {}


def test_a_code_used_meanwhile_by_another_request_is_refused(app, gina, enabled, clock):
    """verify() checks against the database, not the copy this request loaded (two racing requests)."""
    from sqlalchemy import update

    secret, codes = enabled
    user = fresh(gina.id)
    step = pyotp.TOTP(secret).timecode(T0 + 30)
    user.recovery_codes  # noqa: B018  (loaded now: the other request changes the row behind it)
    db.session.execute(update(User).where(User.id == gina.id)
                       .values(totp_last_step=step, recovery_codes=user.recovery_codes[1:])
                       .execution_options(synchronize_session=False))
    clock.now = T0 + 30
    assert user.totp_last_step < step  # the stale copy would let the code through
    assert two_factor.verify(user, pyotp.TOTP(secret).at(T0 + 30)) is None
    assert two_factor.verify(user, codes[0]) is None  # the list changed since it was read
