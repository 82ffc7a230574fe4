"""A reader of the old WordPress blog follows an old link after the move, in a real browser.

The blog was imported from tests/data/imports/wordpress-small.xml. An old permalink with a
comment anchor (`#comment-103`, WordPress's number) lands on the post at the team's answer, now
under our own comment id; `/?p=15` lands on its post; the imported post's table, figure and nested
list look right in light, dark and on a phone (screenshots in test-screenshots/).
"""
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import Comment
from tests.e2e.conftest import serving

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "imports" / "wordpress-small.xml"


@pytest.fixture(scope="module")
def moved_blog(tmp_path_factory):
    with serving(tmp_path_factory.mktemp("e2e-moved")) as (base_url, app):
        result = app.test_cli_runner().invoke(args=["import", "wordpress", str(FIXTURE)])
        assert result.exit_code == 0, result.output
        yield base_url, app


def test_an_old_link_with_a_comment_anchor_finds_the_answer(moved_blog, contexts, screenshots_dir):
    base_url, app = moved_blog
    with app.app_context():
        answer = db.session.scalar(select(Comment).where(Comment.is_official.is_(True)))
    page = contexts(base_url=base_url).new_page()

    page.goto("/2023/05/03/der-neue-router-ist-da/#comment-103")
    page.wait_for_url(f"**/posts/der-neue-router-ist-da#comment-{answer.id}")
    assert urlsplit(page.url).path == "/posts/der-neue-router-ist-da"
    target = page.locator(f"#comment-{answer.id}")
    expect(target).to_be_visible()
    expect(target).to_contain_text("kostenlos")
    expect(target).to_be_in_viewport()

    page.goto("/?p=15")
    page.wait_for_url("**/posts/stoerung-in-koeln-behoben?from=wordpress")
    expect(page.locator("h1")).to_have_text("Störung in Köln behoben")

    page.goto("/posts/der-neue-router-ist-da")
    expect(page.locator(".prose table")).to_be_visible()
    expect(page.locator(".prose figcaption")).to_have_text("So sieht er aus")
    expect(page.locator(".prose li li").first).to_have_text("analog")
    page.screenshot(path=str(screenshots_dir / "imported-post.png"), full_page=True)

    dark = contexts(base_url=base_url, color_scheme="dark").new_page()
    dark.goto("/posts/der-neue-router-ist-da")
    dark.screenshot(path=str(screenshots_dir / "imported-post-dark.png"), full_page=True)
    phone = contexts(base_url=base_url, viewport={"width": 390, "height": 844}).new_page()
    phone.goto("/category/router")
    expect(phone.locator(".kicker")).to_contain_text("Technik")  # the hierarchy came along
    phone.goto("/posts/der-neue-router-ist-da")
    phone.screenshot(path=str(screenshots_dir / "imported-post-phone.png"), full_page=True)
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390  # the table does not push the page sideways


def test_an_anchor_of_an_unknown_comment_stays_on_the_post(moved_blog, contexts):
    base_url, _app = moved_blog
    page = contexts(base_url=base_url).new_page()
    page.goto("/?p=12#comment-999999")
    page.wait_for_url("**/posts/der-neue-router-ist-da")
    expect(page.locator("h1")).to_have_text("Der neue Router ist da")
