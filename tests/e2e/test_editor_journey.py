"""The blogger's journey in a real browser (CSRF on): an author signs in, finds the editor, writes a post
with the toolbar and the live preview, schedules it two minutes ahead, finds a revision and restores
it; a closed tab loses nothing (autosave). Screenshots of the editor: light, dark, phone."""
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from app.extensions import db
from app.models import Post, PostRevision, PostStatus
from tests.e2e.conftest import serving

PASSWORD = "ein langes Autoren-Passwort"


@pytest.fixture(scope="module")
def writer_server(tmp_path_factory):
    with serving(tmp_path_factory.mktemp("e2e-editor-data"), WTF_CSRF_ENABLED=True,
                 AUTHORS_MAY_PUBLISH=True) as (base_url, app):
        result = app.test_cli_runner().invoke(
            args=["users", "create", "paula", "--role", "author", "--email", "paula@sternwelle.example",
                  "--display-name", "Paula Autorin", "--password-stdin"], input=PASSWORD + "\n")
        assert result.exit_code == 0, result.output
        yield base_url, app


def new_page(browser: Browser, **options):
    options.setdefault("viewport", {"width": 1280, "height": 900})
    context = browser.new_context(locale="en-GB", **options)
    return context.new_page()


def sign_in(page, base_url):
    page.goto(f"{base_url}/editor/")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.locator("#username").fill("paula")
    page.locator("#password").fill(PASSWORD)
    page.locator("form button[type=submit].button").first.click()
    expect(page).to_have_url(f"{base_url}/editor/")


def test_an_author_writes_schedules_and_restores(writer_server, browser, screenshots_dir):
    base_url, app = writer_server
    page = new_page(browser)
    sign_in(page, base_url)
    expect(page.locator(".staff-bar a[href='/editor/']")).to_be_visible()  # the staff bar leads here
    page.get_by_role("link", name="New post").click()
    expect(page).to_have_url(f"{base_url}/editor/new")
    page.wait_for_load_state("load")

    page.locator("#title").fill("Über Störungen im Januar")
    expect(page.locator("#slug")).to_have_attribute("placeholder", "ueber-stoerungen-im-januar")
    body = page.locator("#body")
    body.fill("Was bei einer Störung hilft: ")
    body.press("End")
    page.locator(".toolbar button[data-md=bold]").click()  # inserts **fett** with the word selected
    page.keyboard.type("Ruhe")
    body.press("End")
    body.press("Enter")
    body.press("Enter")
    page.keyboard.type("Router neu starten")
    page.locator(".toolbar button[data-md=list]").click()
    # The live preview: rendered by the server, sanitised, without a reload.
    expect(page.locator("#preview strong")).to_have_text("Ruhe")
    expect(page.locator("#preview li")).to_have_text("Router neu starten")

    due = datetime.now(UTC) + timedelta(minutes=2)
    local = due.astimezone(ZoneInfo("Europe/Berlin"))
    page.locator("#status").select_option("scheduled")
    page.locator("#published_at").fill(local.strftime("%Y-%m-%dT%H:%M"))
    page.locator("#tags").fill("Störung, Hilfe")
    page.screenshot(path=str(screenshots_dir / "editor-light.png"), full_page=True)
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash-success")).to_contain_text("goes live")
    expect(page.locator(".editor-state .pill")).to_have_text("Scheduled")
    edit_url = page.url

    with app.app_context():
        post = db.session.scalar(select(Post).where(Post.slug == "ueber-stoerungen-im-januar"))
        assert post.status == PostStatus.SCHEDULED
        assert abs((post.published_at - due.replace(second=0, microsecond=0)).total_seconds()) < 1
        post_id = post.id

    # Readers do not see it yet; the author does, with the banner.
    reader = new_page(browser)
    assert reader.goto(f"{base_url}/posts/ueber-stoerungen-im-januar").status == 404
    page.goto(f"{base_url}/posts/ueber-stoerungen-im-januar")
    expect(page.locator(".unpublished-banner")).to_contain_text("Not published")

    # A second save, then the first revision comes back.
    page.goto(edit_url)
    page.locator("#body").fill("Ganz anderer Text.")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash-success")).to_be_visible()
    page.get_by_role("link", name="Revisions").click()
    expect(page.locator(".revision-list tbody tr")).to_have_count(2)
    page.get_by_role("link", name="Changes").click()
    # The body and the summary made from it changed; nothing else (tags stay as they were, in any order).
    expect(page.locator(".diff-add")).to_have_count(2)
    expect(page.locator(".diff-add", has_text="tags:")).to_have_count(0)
    expect(page.locator(".diff-add", has_text="summary: Ganz anderer Text.")).to_have_count(1)
    page.go_back()
    page.locator(".revision-list tbody tr").nth(1).get_by_role("button", name="Restore").click()
    expect(page.locator(".flash-success")).to_contain_text("restored")
    expect(page.locator("#body")).to_have_value(re.compile(r"\*\*Ruhe\*\*"))
    with app.app_context():
        sources = db.session.scalars(select(PostRevision.source).where(PostRevision.post_id == post_id)
                                     .order_by(PostRevision.id)).all()
        assert sources == ["editor", "editor", "restore"]

    # Its time comes (moved forward here instead of waiting): home page and feed show it, no job ran.
    with app.app_context():
        post = db.session.get(Post, post_id)
        post.published_at = datetime.now(UTC) - timedelta(seconds=5)
        db.session.commit()
    reader.goto(f"{base_url}/")
    expect(reader.locator("a[href='/posts/ueber-stoerungen-im-januar']").first).to_be_visible()
    assert "ueber-stoerungen-im-januar" in reader.request.get(f"{base_url}/feed.atom").text() or \
        "ueber-stoerungen-im-januar" in reader.request.get(f"{base_url}/feed").text()


def test_a_closed_tab_loses_nothing(writer_server, browser):
    base_url, _app = writer_server
    page = new_page(browser)
    sign_in(page, base_url)
    page.goto(f"{base_url}/editor/new")
    page.wait_for_load_state("load")
    page.locator("#title").fill("Nicht verlieren")
    page.locator("#body").fill("Ein Text, den der Browser behält.")
    page.wait_for_timeout(1000)  # the autosave waits for a pause in typing
    context = page.context
    page.close()
    again = context.new_page()
    again.goto(f"{base_url}/editor/new")
    offer = again.locator("#autosave-offer")
    expect(offer).to_be_visible()
    offer.get_by_role("button", name="Restore it").click()
    expect(again.locator("#body")).to_have_value("Ein Text, den der Browser behält.")
    expect(again.locator("#title")).to_have_value("Nicht verlieren")
    again.get_by_role("button", name="Save").click()
    expect(again.locator(".flash-success")).to_be_visible()
    again.goto(f"{base_url}/editor/new")
    again.wait_for_load_state("load")
    expect(again.locator("#autosave-offer")).to_be_hidden()  # cleared after the save


def test_editor_screenshots_dark_and_phone(writer_server, browser, screenshots_dir):
    base_url, _app = writer_server
    dark = new_page(browser, color_scheme="dark")
    sign_in(dark, base_url)
    dark.goto(f"{base_url}/editor/new")
    dark.locator("#title").fill("Dunkel")
    dark.locator("#body").fill("## Abschnitt\n\nText mit `code` und *Betonung*.\n\n> Zitat")
    expect(dark.locator("#preview h2")).to_contain_text("Abschnitt")
    dark.screenshot(path=str(screenshots_dir / "editor-dark.png"), full_page=True)
    dark.goto(f"{base_url}/editor/")
    dark.screenshot(path=str(screenshots_dir / "editor-list-dark.png"), full_page=True)

    phone = new_page(browser, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    sign_in(phone, base_url)
    phone.goto(f"{base_url}/editor/new")
    phone.locator("#body").fill("Auf dem Telefon geschrieben.")
    expect(phone.locator("#preview p")).to_have_text("Auf dem Telefon geschrieben.")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the editor is {width}px wide on a 390px phone"
    phone.screenshot(path=str(screenshots_dir / "editor-phone.png"), full_page=True)
    phone.goto(f"{base_url}/editor/")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.screenshot(path=str(screenshots_dir / "editor-list-phone.png"), full_page=True)


def test_the_image_button_goes_to_the_library_and_the_picked_image_lands_in_the_text(writer_server, browser):
    base_url, _app = writer_server
    page = new_page(browser)
    sign_in(page, base_url)
    page.goto(f"{base_url}/editor/new")
    page.wait_for_load_state("load")
    page.locator("#title").fill("Mit Bild")
    page.locator("#body").fill("Vor dem Bild.")
    page.locator(".toolbar button[data-md=image]").click()
    expect(page).to_have_url(re.compile(r"/editor/images\?pick=1$"))
    # What the library's "Insert" leaves for the editor (static/js/images.js), then back.
    page.evaluate("sessionStorage.setItem('dialog:image-snippet', '![Ein Router](/uploads/router.jpg)')")
    page.go_back()
    expect(page.locator("#body")).to_have_value("Vor dem Bild.\n\n![Ein Router](/uploads/router.jpg)\n")
    expect(page.locator("#title")).to_have_value("Mit Bild")
    expect(page.locator("#preview img")).to_have_attribute("alt", "Ein Router")
    assert page.evaluate("sessionStorage.getItem('dialog:image-snippet')") is None  # taken once


def test_a_stale_edit_is_shown_with_the_other_change(writer_server, browser, screenshots_dir):
    base_url, _app = writer_server
    first = new_page(browser)
    sign_in(first, base_url)
    first.goto(f"{base_url}/editor/new")
    first.locator("#title").fill("Zwei Fenster")
    first.locator("#body").fill("Der erste Satz.")
    first.get_by_role("button", name="Save").click()
    expect(first.locator(".flash-success")).to_be_visible()
    edit_url = first.url

    second = first.context.new_page()  # the same author in a second tab
    second.goto(edit_url)
    second.locator("#body").fill("Der erste Satz, im zweiten Fenster geändert.")
    second.get_by_role("button", name="Save").click()
    expect(second.locator(".flash-success")).to_be_visible()

    first.locator("#body").fill("Der erste Satz, im ersten Fenster geändert.")
    first.get_by_role("button", name="Save").click()
    stale = first.locator(".stale-edit")
    expect(stale).to_contain_text("Paula Autorin saved it on")
    expect(stale.locator(".diff-del", has_text="−Der erste Satz, im zweiten Fenster")).to_have_count(1)
    expect(stale.locator(".diff-add", has_text="+Der erste Satz, im ersten Fenster")).to_have_count(1)
    expect(first.locator("#body")).to_have_value("Der erste Satz, im ersten Fenster geändert.")
    first.screenshot(path=str(screenshots_dir / "editor-stale.png"), full_page=True)
    first.get_by_role("link", name="Revisions").click()
    first.screenshot(path=str(screenshots_dir / "editor-revisions.png"), full_page=True)
