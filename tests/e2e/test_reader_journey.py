"""The reader's main journey through the blog, in a real browser.

A German reader lands on the home page, opens a post, jumps through its table of contents,
switches to English (which sticks), browses a category, hits a dead link and uses the keyboard.
Screenshots go to test-screenshots/ for people to look at; no assertion depends on them.
"""
import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

SITE_NAME = "Sternwelle Blog"
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def german_page(new_context) -> Page:
    """A fresh browser whose Accept-Language is German and which has no language cookie yet."""
    return new_context(locale="de-DE").new_page()


def shoot(page: Page, directory, name: str) -> None:
    page.screenshot(path=str(directory / f"{name}.png"), full_page=True)


def path_of(page: Page) -> str:
    return urlsplit(page.url).path


def test_reader_journey(german_page: Page, screenshots_dir):
    page = german_page

    # 1. Home in German: the browser asked for German and nothing else was chosen.
    response = page.goto("/")
    assert response.status == 200
    expect(page.locator("html")).to_have_attribute("lang", "de")
    category_nav = page.locator("nav.category-nav")
    expect(category_nav.get_by_role("link", name="Alle Beiträge", exact=True)).to_be_visible()
    expect(category_nav.get_by_role("link", name="Alle Beiträge", exact=True)).to_have_attribute(
        "aria-current", "page")
    cards = page.locator("article.card")
    expect(cards.first).to_be_visible()
    shoot(page, screenshots_dir, "01-home-de")

    # 2. The first post: its own URL, its title as the page heading, a publication date.
    first_title = cards.first.locator(".card-title a")
    title = first_title.inner_text().strip()
    slug = first_title.get_attribute("href").rstrip("/").rsplit("/", 1)[-1]
    first_title.click()
    expect(page).to_have_url(re.compile(rf"/posts/{re.escape(slug)}$"))
    expect(page.locator("h1")).to_have_text(title)
    expect(page.locator("article.post time").first).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "de")
    post_path = path_of(page)
    shoot(page, screenshots_dir, "02-post-de")

    # 3. Table of contents (only long posts have one): its first entry leads to its heading.
    toc_links = page.locator("nav.toc a")
    if toc_links.count():
        anchor = toc_links.first.get_attribute("href")
        assert anchor.startswith("#") and len(anchor) > 1, anchor
        toc_links.first.click()
        expect(page).to_have_url(re.compile(re.escape(anchor) + "$"))
        expect(page.locator(f'[id="{anchor[1:]}"]')).to_be_in_viewport()
        assert path_of(page) == post_path

    # 4. The language switch reloads the same page in English …
    switch = page.locator("nav.lang-switch").get_by_role("link", name="English", exact=True)
    expect(switch).to_be_visible()
    switch.click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert path_of(page) == post_path
    expect(page.locator("h1")).to_have_text(title)
    expect(category_nav.get_by_role("link", name="All posts", exact=True)).to_be_visible()
    expect(page.locator("nav.lang-switch").get_by_role("link", name="Deutsch", exact=True)).to_be_visible()
    shoot(page, screenshots_dir, "03-post-en")

    # … and the choice sticks (cookie), although the browser still asks for German.
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    assert cookies.get("lang") == "en", cookies
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(category_nav.get_by_role("link", name="All posts", exact=True)).to_be_visible()
    expect(page.get_by_text("Alle Beiträge")).to_have_count(0)

    # 5. A category from the header navigation: its URL, its heading, marked as the current page.
    category_link = category_nav.locator("a[href^='/category/']").first
    expect(category_link).to_be_visible()
    name = category_link.inner_text().strip()
    category_slug = category_link.get_attribute("href").rstrip("/").rsplit("/", 1)[-1]
    category_link.click()
    expect(page).to_have_url(re.compile(rf"/category/{re.escape(category_slug)}$"))
    expect(page.locator("h1")).to_have_text(name)
    current = category_nav.locator("a[aria-current='page']")
    expect(current).to_have_count(1)
    expect(current).to_have_text(name)
    expect(current).to_have_attribute("href", f"/category/{category_slug}")
    expect(page.locator("article.card").first).to_be_visible()
    shoot(page, screenshots_dir, "04-category-en")


def test_unknown_url_shows_404_in_site_layout(german_page: Page, screenshots_dir):
    page = german_page
    response = page.goto("/diese-seite-gibt-es-nicht")
    assert response.status == 404
    expect(page.locator("header.site-header .brand")).to_contain_text(SITE_NAME)
    expect(page.locator("header.site-header .brand")).to_be_visible()
    expect(page.locator("footer.site-footer")).to_be_visible()
    expect(page.locator(".error-code")).to_have_text("404")
    expect(page.locator("h1")).to_have_text("Seite nicht gefunden")
    expect(page).to_have_title(re.compile(r"^Seite nicht gefunden"))
    shoot(page, screenshots_dir, "05-404-de")

    page.get_by_role("link", name="Zur Startseite").click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator("article.card").first).to_be_visible()


def test_first_tab_focuses_visible_skip_link(german_page: Page):
    page = german_page
    page.goto("/")
    skip = page.locator("a.skip-link")
    expect(skip).to_have_text("Zum Inhalt springen")
    expect(skip).not_to_be_in_viewport()  # hidden until a keyboard user needs it

    page.keyboard.press("Tab")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    box = skip.bounding_box()
    assert box and box["y"] >= 0 and box["width"] > 0 and box["height"] > 0, box

    page.keyboard.press("Enter")  # and it does what it says
    expect(page).to_have_url(re.compile(r"#main$"))
    expect(page.locator("main#main")).to_be_focused()


def _luminance(rgb: str) -> float:
    r, g, b = (int(v) for v in re.findall(r"\d+", rgb)[:3])
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255


def test_home_in_dark_colour_scheme(new_context, screenshots_dir):
    page = new_context(locale="de-DE", color_scheme="dark").new_page()
    page.goto("/")
    expect(page.locator("article.card").first).to_be_visible()
    body = page.locator("body")
    background = body.evaluate("el => getComputedStyle(el).backgroundColor")
    text = body.evaluate("el => getComputedStyle(el).color")
    assert _luminance(background) < 0.2, background
    assert _luminance(text) > 0.7, text
    shoot(page, screenshots_dir, "06-home-dark")


def test_home_on_a_phone(new_context, screenshots_dir):
    page = new_context(locale="de-DE", viewport=PHONE, is_mobile=True, has_touch=True,
                       device_scale_factor=2).new_page()
    page.goto("/")
    expect(page.locator("article.card").first).to_be_visible()
    expect(page.locator("header.site-header .brand")).to_be_in_viewport()
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than the phone's screen"
    shoot(page, screenshots_dir, "07-home-phone")
