"""A reader comes back without an account (issue 14, first part): "remember my name and e-mail
address on this device" keeps them in this browser's storage, never in a cookie, and fills the
form on the next visit; unticked, they are forgotten. Without JavaScript the offer is not shown."""
import json
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import Post, PostStatus, User, utcnow

POST = "wiederkommen-ohne-konto"  # a post of its own: the demo threads go only under posts without comments
KEY = "dialog.commenter"


@pytest.fixture(scope="module")
def comment_server_with_post(comment_server):
    base_url, app = comment_server
    with app.app_context():
        if db.session.scalar(select(Post.id).where(Post.slug == POST)) is None:
            author = db.session.scalar(select(User).order_by(User.id))
            if author is None:
                assert app.test_cli_runner().invoke(args=["demo", "accounts"]).exit_code == 0
                author = db.session.scalar(select(User).order_by(User.id))
            db.session.add(Post(slug=POST, title="Wiederkommen ohne Konto", body_md="Text", body_html="<p>Text</p>",
                                status=PostStatus.PUBLISHED, published_at=utcnow() - timedelta(days=1),
                                author_id=author.id))
            db.session.commit()
    return base_url, app


def write(page, body, *, name=None, email=None, remember=None):
    form = page.locator("form#comment-form")
    form.get_by_label("Ihr Kommentar", exact=True).fill(body)
    if name is not None:
        form.get_by_label("Name", exact=True).fill(name)
    if email is not None:
        form.get_by_label("E-Mail-Adresse", exact=True).fill(email)
    form.locator("#consent").check()
    if remember is not None:
        form.locator("#remember-me").set_checked(remember)
    form.get_by_role("button", name="Kommentar senden").click()
    page.wait_for_load_state("load")


def test_name_and_address_are_remembered_on_this_device_only(comment_server_with_post, contexts, screenshots_dir):
    base_url, _app = comment_server_with_post
    context = contexts()
    page = context.new_page()
    page.goto(f"{base_url}/posts/{POST}")
    expect(page.locator("[data-remember]")).to_be_visible()
    expect(page.locator("#remember-me")).not_to_be_checked()  # opt-in
    write(page, "Gilt der Ausbau auch für die Häuser am Mühlenweg?", name="Jule Harms",
          email="jule.harms@example.org", remember=True)

    page.goto(f"{base_url}/posts/{POST}")  # the next visit: filled in, still ticked
    form = page.locator("form#comment-form")
    expect(form.get_by_label("Name", exact=True)).to_have_value("Jule Harms")
    expect(form.get_by_label("E-Mail-Adresse", exact=True)).to_have_value("jule.harms@example.org")
    expect(page.locator("#remember-me")).to_be_checked()
    stored = json.loads(page.evaluate(f"localStorage.getItem('{KEY}')"))
    assert stored["name"] == "Jule Harms" and stored["email"] == "jule.harms@example.org"
    assert not any("jule" in cookie["value"].lower() for cookie in context.cookies())  # never a cookie
    form.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots_dir / "29-remember-me.png"), full_page=False)

    write(page, "Und wann ungefähr?", remember=False)  # unticked: forgotten on this device
    assert page.evaluate(f"localStorage.getItem('{KEY}')") is None
    page.goto(f"{base_url}/posts/{POST}")
    expect(page.locator("form#comment-form").get_by_label("Name", exact=True)).to_have_value("")

    other = contexts().new_page()  # another browser knows nothing
    other.goto(f"{base_url}/posts/{POST}")
    expect(other.locator("form#comment-form").get_by_label("Name", exact=True)).to_have_value("")


def test_without_javascript_the_offer_is_not_shown(comment_server_with_post, contexts):
    base_url, _app = comment_server_with_post
    page = contexts(java_script_enabled=False).new_page()
    page.goto(f"{base_url}/posts/{POST}")
    expect(page.locator("[data-remember]")).to_be_hidden()
