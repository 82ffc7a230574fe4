"""An author's journey through the image library in a real browser (CSRF on): sign in, upload an image
with its alternative text, see it with its Markdown snippet, copy the snippet, load the /uploads/ URL;
the page fits a phone in light and dark."""
import re

import pytest
from PIL import Image
from playwright.sync_api import Browser, expect

PASSWORD = "ein langes Test-Passwort"


@pytest.fixture(scope="module")
def author_server(comment_server):
    base_url, app = comment_server
    result = app.test_cli_runner().invoke(args=[
        "users", "create", "ida", "--role", "author", "--email", "ida@sternwelle.example",
        "--display-name", "Ida Autorin", "--password-stdin"], input=PASSWORD + "\n")
    assert result.exit_code == 0 or "already taken" in result.output, result.output
    return base_url


def picture(tmp_path, name="garten.jpg"):
    image = Image.new("RGB", (1400, 900), (40, 130, 70))
    for x in range(0, 1400, 100):  # stripes, so the thumbnail shows something
        image.paste((230, 200, 60), (x, 0, x + 40, 900))
    path = tmp_path / name
    image.save(path, "JPEG")
    return path


def signed_in(browser: Browser, base_url, **options):
    context = browser.new_context(locale="de-DE", **options)
    page = context.new_page()
    page.goto(f"{base_url}/editor/images")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Feditor%2Fimages|/login\?next=/editor/images"))
    page.get_by_label("Benutzername").fill("ida")
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    expect(page).to_have_url(f"{base_url}/editor/images")
    return page


def test_an_author_uploads_an_image_and_gets_its_markdown(author_server, browser, tmp_path, screenshots_dir):
    page = signed_in(browser, author_server, viewport={"width": 1280, "height": 900})
    context = page.context
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=author_server)

    page.locator("#image-file").set_input_files(str(picture(tmp_path)))
    page.locator("#image-alt").fill("Der Garten hinter dem Büro im Sommer")
    page.locator(".upload-form button[type=submit]").click()

    card = page.locator(".image-card").filter(has_text="Der Garten hinter dem Büro im Sommer")
    expect(card).to_have_count(1)
    expect(card).to_be_in_viewport()  # the redirect's #image-<id> scrolled to it
    snippet = card.locator("input.snippet")
    markdown = r"^!\[Der Garten hinter dem Büro im Sommer\]\(/uploads/[0-9a-f]{32}\.jpg\)$"
    expect(snippet).to_have_value(re.compile(markdown))
    expect(card.locator("img")).to_have_attribute("alt", "Der Garten hinter dem Büro im Sommer")
    assert card.locator("img").evaluate("img => img.complete && img.naturalWidth") == 480  # the 480 px size

    card.locator("button[data-copy]").click()
    expect(card.locator(".copy-status")).not_to_be_empty()
    assert page.evaluate("navigator.clipboard.readText()") == snippet.input_value()

    url = re.search(r"\((/uploads/[^)]+)\)", snippet.input_value())[1]
    response = page.request.get(f"{author_server}{url}")
    assert response.status == 200 and response.headers["content-type"] == "image/jpeg"
    assert "immutable" in response.headers["cache-control"]
    image_page = context.new_page()
    image_page.goto(f"{author_server}{url}")
    assert image_page.evaluate("document.images[0].naturalWidth") == 1400
    page.screenshot(path=str(screenshots_dir / "40-images-library-1280-light.png"), full_page=True)


def test_a_bad_file_keeps_the_alt_text(author_server, browser, tmp_path):
    page = signed_in(browser, author_server, viewport={"width": 1280, "height": 900})
    fake = tmp_path / "skript.jpg"
    fake.write_bytes(b"#!/bin/sh\necho hallo\n")
    page.locator("#image-file").set_input_files(str(fake))
    page.locator("#image-alt").fill("Das bleibt stehen")
    page.locator(".upload-form button[type=submit]").click()
    expect(page.locator("#upload-message")).to_be_visible()
    expect(page.locator("#image-alt")).to_have_value("Das bleibt stehen")


def test_a_file_too_large_is_caught_before_sending(author_server, browser, tmp_path):
    page = signed_in(browser, author_server, viewport={"width": 1280, "height": 900})
    big = tmp_path / "gross.jpg"
    big.write_bytes(b"\xff" * (5 * 1024 * 1024 + 10))
    page.locator("#image-file").set_input_files(str(big))
    page.locator("#image-alt").fill("Zu groß")
    page.locator(".upload-form button[type=submit]").click()
    expect(page.locator("#upload-message")).to_be_visible()
    expect(page).to_have_url(f"{author_server}/editor/images")
    expect(page.locator("#image-alt")).to_have_value("Zu groß")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_library_fits_a_phone(author_server, browser, tmp_path, screenshots_dir, scheme):
    page = signed_in(browser, author_server, viewport={"width": 390, "height": 844}, color_scheme=scheme)
    if not page.locator(".image-card").count():
        page.locator("#image-file").set_input_files(str(picture(tmp_path, "handy.jpg")))
        page.locator("#image-alt").fill("Ein Bild vom Handy")
        page.locator(".upload-form button[type=submit]").click()
        expect(page.locator(".image-card").first).to_be_visible()
    page.goto(f"{author_server}/editor/images?pick=1")
    expect(page.locator(".image-card button[data-copy]").first).to_be_visible()
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], widths  # nothing sideways
    page.screenshot(path=str(screenshots_dir / f"40-images-library-390-{scheme}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(screenshots_dir / f"40-images-library-1280-{scheme}-pick.png"), full_page=True)
