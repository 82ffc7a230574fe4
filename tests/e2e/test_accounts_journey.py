"""Staff accounts in a real browser, CSRF on: an admin invites an editor, who opens the mailed link,
chooses a password, turns on two-factor sign-in, signs out and back in with a code; and the
"forgot password" pages. Mail goes to .eml files in the data dir (no mail server), read from there.
Each new page is screenshotted light, dark and on a 390 px phone."""
import email
import email.policy
import re
import time
from pathlib import Path
from urllib.parse import urlsplit

import pyotp
import pytest
from playwright.sync_api import Browser, Page, expect

from app import outbox
from tests.e2e.conftest import serving

ADMIN_PASSWORD = "ein langes Admin-Passwort"
EDITOR_PASSWORD = "Ines ihr eigenes Passwort"


@pytest.fixture(scope="module")
def accounts_server(tmp_path_factory):
    with serving(tmp_path_factory.mktemp("e2e-accounts-data"), WTF_CSRF_ENABLED=True) as (base_url, app):
        app.config["SITE_URL"] = base_url  # the mailed links point at this server
        result = app.test_cli_runner().invoke(
            args=["users", "create", "ada", "--role", "admin", "--email", "ada@sternwelle.example",
                  "--display-name", "Ada Admin", "--password-stdin"], input=ADMIN_PASSWORD + "\n")
        assert result.exit_code == 0, result.output
        yield base_url, app


def mailed_link(app, to: str, prefix: str) -> str:
    """Send what waits in the outbox (.eml files, no mail server) and return the newest link to `to`."""
    with app.app_context():
        outbox.drain()
    links = []
    for path in sorted((Path(app.config["DATA_DIR"]) / "outbox").glob("*.eml"), key=lambda p: p.stat().st_mtime):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if to in str(message["To"]):
            links += [u for u in re.findall(r"https?://\S+", message.get_content()) if prefix in u]
    assert links, f"no mail to {to} with a {prefix} link"
    return links[-1]


def new_page(browser: Browser, base_url: str) -> Page:
    return browser.new_context(locale="de-DE", viewport={"width": 1280, "height": 900}, base_url=base_url).new_page()


def shoot(page: Page, screenshots_dir: Path, name: str) -> None:
    """Light, dark and a 390 px phone; the phone page must not scroll sideways."""
    page.screenshot(path=str(screenshots_dir / f"accounts-{name}-light.png"), full_page=True)
    page.emulate_media(color_scheme="dark")
    page.screenshot(path=str(screenshots_dir / f"accounts-{name}-dark.png"), full_page=True)
    page.emulate_media(color_scheme="light")
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(screenshots_dir / f"accounts-{name}-phone.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, name
    page.set_viewport_size({"width": 1280, "height": 900})


def sign_in(page: Page, username: str, password: str) -> None:
    page.goto("/login")
    page.locator("#username").fill(username)
    page.locator("#password").fill(password)
    page.locator("form[action='/login'] button[type=submit]").click()


def test_an_invited_editor_signs_in_with_two_factor(accounts_server, browser, screenshots_dir):
    base_url, app = accounts_server
    admin = new_page(browser, base_url)
    admin.goto(base_url + "/")
    sign_in(admin, "ada", ADMIN_PASSWORD)
    admin.goto(base_url + "/admin/users")
    admin.locator("a[href='/admin/users/invite']").click()
    admin.locator("#username").fill("ines")
    admin.locator("#display_name").fill("Ines Redakteurin")
    admin.locator("#email").fill("ines@sternwelle.example")
    admin.locator("#role").select_option("editor")
    shoot(admin, screenshots_dir, "admin-invite")
    admin.locator("form[action='/admin/users/invite'] button[type=submit]").click()
    expect(admin).to_have_url(base_url + "/admin/users")
    expect(admin.locator(".flash-success")).to_contain_text("ines@sternwelle.example")

    link = mailed_link(app, "ines@sternwelle.example", "/account/invite/")
    assert link.startswith(base_url + "/account/invite/")
    ines = new_page(browser, base_url)
    ines.goto(link)
    expect(ines.locator("h1")).to_be_visible()
    expect(ines.locator(".lead")).to_contain_text("ines")
    shoot(ines, screenshots_dir, "invite-accept")
    ines.locator("#new").fill(EDITOR_PASSWORD)
    ines.locator("#repeat").fill(EDITOR_PASSWORD)
    ines.locator("form.comment-form button[type=submit]").click()
    expect(ines.locator(".staff-bar .who")).to_contain_text("Ines Redakteurin")

    ines.goto(base_url + "/account/two-factor")
    qr = ines.locator(".qr-code img")
    expect(qr).to_be_visible()
    assert qr.evaluate("img => img.complete && img.naturalWidth") > 100  # the data: SVG really drew
    shoot(ines, screenshots_dir, "two-factor-setup")
    secret = ines.locator(".totp-secret").inner_text().replace(" ", "")
    totp = pyotp.TOTP(secret)
    ines.locator("#code").fill(totp.now())
    ines.locator("form[action='/account/two-factor/enable'] button[type=submit]").click()
    expect(ines.locator(".recovery-codes li")).to_have_count(10)
    shoot(ines, screenshots_dir, "recovery-codes")

    ines.locator(".staff-bar form[action='/logout'] button").click()
    expect(ines.locator(".staff-bar")).to_have_count(0)
    sign_in(ines, "ines", EDITOR_PASSWORD)
    expect(ines).to_have_url(base_url + "/login/two-factor")
    expect(ines.locator(".staff-bar")).to_have_count(0)  # not signed in before the code
    shoot(ines, screenshots_dir, "two-factor-step")
    ines.locator("#code").fill("000000")
    ines.locator("form[action='/login/two-factor'] button[type=submit]").click()
    expect(ines.locator("#code + .field-errors, .field-errors")).to_be_visible()
    expect(ines.locator("#code")).to_have_value("000000")
    # The code of the next step (one step of drift is allowed): the one that turned it on is used.
    ines.locator("#code").fill(totp.at(time.time() + 30))
    ines.locator("form[action='/login/two-factor'] button[type=submit]").click()
    expect(ines).to_have_url(base_url + "/")
    expect(ines.locator(".staff-bar .who")).to_contain_text("Ines Redakteurin")

    admin.goto(base_url + "/admin/users")
    admin.locator(".data-table a", has_text="ines").click()
    expect(admin.locator("form[action$='/two-factor/reset']")).to_be_visible()
    shoot(admin, screenshots_dir, "admin-user-two-factor")


def test_forgot_password_pages(accounts_server, browser, screenshots_dir):
    base_url, app = accounts_server
    page = new_page(browser, base_url)
    page.goto(base_url + "/login")
    page.locator("a[href='/login/forgot']").click()
    expect(page).to_have_url(base_url + "/login/forgot")
    shoot(page, screenshots_dir, "forgot")
    page.locator("#login").fill("ada@sternwelle.example")
    page.locator("form[action='/login/forgot'] button[type=submit]").click()
    expect(page).to_have_url(base_url + "/login")
    expect(page.locator(".flash-info")).to_be_visible()

    link = mailed_link(app, "ada@sternwelle.example", "/login/reset/")
    page.goto(link)
    shoot(page, screenshots_dir, "reset")
    page.locator("#new").fill("kurz")
    page.locator("#repeat").fill("kurz")
    page.locator("form.comment-form button[type=submit]").click()
    expect(page.locator(".field-errors")).to_be_visible()
    page.locator("#new").fill("das neue Admin-Passwort")
    page.locator("#repeat").fill("das neue Admin-Passwort")
    page.locator("form.comment-form button[type=submit]").click()
    expect(page).to_have_url(base_url + "/login")

    page.goto(link)  # used: a clear page saying what to do
    expect(page.locator("a[href='/login/forgot']").first).to_be_visible()
    shoot(page, screenshots_dir, "dead-link")
    assert urlsplit(link).path.startswith("/login/reset/")
