"""The moderator's journey in a real browser: sign in, find the reader's question, approve and
answer it in one step, and see the official answer on the post page. CSRF protection is on."""
import re

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from app.extensions import db
from app.models import Comment

POST = "router-sicherheit-checkliste"
PASSWORD = "ein langes Test-Passwort"


@pytest.fixture(scope="module")
def staff_server(comment_server):
    base_url, app = comment_server
    runner = app.test_cli_runner()
    runner.invoke(args=["demo", "accounts"])
    runner.invoke(args=["demo", "comments"])
    result = runner.invoke(args=["users", "create", "greta", "--role", "moderator", "--email",
                                 "greta@sternwelle.example", "--display-name", "Greta Moderatorin",
                                 "--password-stdin"], input=PASSWORD + "\n")
    assert result.exit_code == 0 or "already taken" in result.output, result.output
    return base_url, app


def new_page(browser: Browser, **options):
    context = browser.new_context(locale="de-DE", viewport={"width": 1280, "height": 900}, **options)
    return context.new_page()


def sign_in(page, base_url):
    page.goto(f"{base_url}/moderation/")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_label("Benutzername").fill("greta")
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    expect(page).to_have_url(f"{base_url}/moderation/")
    page.wait_for_load_state("load")  # queue.js (deferred) listens for the shortcuts from here on


def test_moderator_approves_and_answers_in_one_step(staff_server, browser, screenshots_dir):
    base_url, app = staff_server
    reader = new_page(browser)
    reader.goto(f"{base_url}/posts/{POST}")
    form = reader.locator("form#comment-form")
    form.locator("#body").fill("Muss ich nach einem Firmware-Update das WLAN-Passwort neu setzen?")
    form.locator("#name").fill("Tamara Ellerbrock")
    form.locator("#email").fill("tamara@example.org")
    form.locator("#consent").check()
    form.get_by_role("button", name="Kommentar senden").click()
    comment_id = int(re.search(r"#comment-(\d+)", reader.url).group(1))

    staff = new_page(browser)
    sign_in(staff, base_url)
    item = staff.locator(f"#q-{comment_id}")
    expect(item).to_be_visible()
    expect(item).to_contain_text("tamara@example.org")  # staff see the address
    expect(item).to_contain_text("Erster Kommentar von dieser Adresse")
    staff.screenshot(path=str(screenshots_dir / "20-queue.png"), full_page=False)

    # Opening the answer box claims the comment (so colleagues see who is on it).
    with staff.expect_response(lambda r: r.url.endswith(f"/moderation/comments/{comment_id}/claim")) as claim:
        item.locator("details.reply-box summary").click()
    assert claim.value.json()["ok"] is True
    item.locator("textarea").fill("Nein, das Passwort bleibt erhalten. Nur bei einem Werksreset müssen Sie es neu "
                                  "eintragen. – Ihr Sternwelle-Team")
    item.get_by_role("button", name="Freigeben und Antwort veröffentlichen").click()
    expect(staff.locator(".toast")).to_contain_text("Tamara Ellerbrock")  # answered in place, no reload
    expect(staff.locator(f"#q-{comment_id}")).to_have_count(0)  # no longer pending

    reader.reload()
    question = reader.locator(f"#comment-{comment_id}")
    expect(question).to_contain_text("Muss ich nach einem Firmware-Update")
    expect(question).to_contain_text("Beantwortet von Sternwelle-Team")
    answer = reader.locator("li:has(> article#comment-%d) > ol.replies article.is-official" % comment_id)
    expect(answer).to_contain_text("das Passwort bleibt erhalten")
    expect(answer.locator(".badge-official")).to_have_text("Offizielle Antwort")

    with app.app_context():
        stored = db.session.get(Comment, comment_id)
        assert stored.status == "approved" and stored.response_status == "answered" and stored.answered_at

    staff.goto(f"{base_url}/moderation/comments/{comment_id}")
    expect(staff.locator(".audit")).to_contain_text("Greta Moderatorin")
    expect(staff.locator(".audit")).to_contain_text("offiziell beantwortet")
    staff.screenshot(path=str(screenshots_dir / "21-comment-detail.png"), full_page=True)
    staff.goto(f"{base_url}/moderation/stats")
    expect(staff.locator("h1")).to_be_visible()
    staff.screenshot(path=str(screenshots_dir / "22-stats.png"), full_page=True)


def test_keyboard_shortcuts(staff_server, browser, screenshots_dir):
    base_url, app = staff_server
    page = new_page(browser)
    sign_in(page, base_url)
    first = page.locator(".queue-item").first
    expect(first).to_be_visible()
    first_id = int(first.get_attribute("data-comment-id"))
    page.keyboard.press("?")
    expect(page.locator("#shortcuts-help")).to_be_visible()
    page.screenshot(path=str(screenshots_dir / "23-queue-shortcuts.png"))
    page.keyboard.press("Escape")
    expect(page.locator("#shortcuts-help")).to_be_hidden()
    expect(first).to_have_class(re.compile(r"\bis-current\b"))  # the first is current from the start
    page.keyboard.press("j")
    expect(page.locator(".queue-item").nth(1)).to_have_class(re.compile(r"\bis-current\b"))
    page.keyboard.press("k")
    expect(first).to_have_class(re.compile(r"\bis-current\b"))
    page.keyboard.press("a")  # approve the focused comment
    expect(page.locator(".toast")).to_be_visible()
    with app.app_context():
        assert db.session.scalar(select(Comment.status).where(Comment.id == first_id)) == "approved"


def test_queue_in_dark_mode_and_on_a_phone(staff_server, browser, screenshots_dir):
    base_url, _ = staff_server
    dark = new_page(browser, color_scheme="dark")
    sign_in(dark, base_url)
    dark.screenshot(path=str(screenshots_dir / "24-queue-dark.png"))
    phone = browser.new_context(locale="de-DE", viewport={"width": 390, "height": 844}).new_page()
    sign_in(phone, base_url)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.screenshot(path=str(screenshots_dir / "25-queue-phone.png"))
