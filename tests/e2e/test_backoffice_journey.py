"""The back office in a real browser (CSRF on): an admin changes a category's first-answer target and
a blocked word, and the queue follows; a moderator approves a pending comment from the post page.
Also the pages' look in light, dark and on a 390 px phone (screenshots in test-screenshots/)."""
import re
from urllib.parse import quote

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from app.extensions import db
from app.models import Category, Comment, CommentStatus, Post, ResponseStatus, Role, utcnow
from app.users.service import create_user
from tests.comment_helpers import add_comment
from tests.e2e.conftest import serving

PASSWORD = "ein langes Test-Passwort"
WAITING = "Ruth Wartezeit"


@pytest.fixture(scope="module")
def office(tmp_path_factory):
    with serving(tmp_path_factory.mktemp("e2e-backoffice-data"), WTF_CSRF_ENABLED=True) as (base_url, app):
        with app.app_context():
            create_user("ada", email="ada@sternwelle.example", role=Role.ADMIN, password=PASSWORD,
                        display_name="Ada Admin")
            create_user("greta", email="greta@sternwelle.example", role=Role.MODERATOR, password=PASSWORD,
                        display_name="Greta Moderatorin")
            service = db.session.scalar(select(Category).where(Category.slug == "kundenservice"))
            post = db.session.scalar(select(Post).where(Post.category_id == service.id, Post.comments_open.is_(True),
                                                        Post.visible(utcnow())).order_by(Post.id).limit(1))
            # A reader's question from 30 minutes ago, in a category that promises an answer in 2 hours.
            add_comment(post, name=WAITING, body="Wann meldet sich die Hotline?", status=CommentStatus.PENDING,
                        minutes_ago=30, response_status=ResponseStatus.NEEDS_ANSWER, email="ruth@example.org")
            db.session.commit()
            slug = post.slug
        yield base_url, app, slug


def new_page(browser: Browser, width=1280, scheme="light"):
    context = browser.new_context(locale="de-DE", viewport={"width": width, "height": 900}, color_scheme=scheme)
    return context.new_page()


def sign_in(page, base_url, username, target):
    page.goto(f"{base_url}/login?next={quote(target)}")
    page.get_by_label("Benutzername").fill(username)
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    expect(page).to_have_url(f"{base_url}{target}")


def write_comment(browser, base_url, slug, body, name, email) -> None:
    reader = new_page(browser)
    reader.goto(f"{base_url}/posts/{slug}")
    form = reader.locator("form#comment-form")
    form.locator("#body").fill(body)
    form.locator("#name").fill(name)
    form.locator("#email").fill(email)
    form.locator("#consent").check()
    form.get_by_role("button", name="Kommentar senden").click()
    reader.wait_for_load_state("load")
    reader.context.close()


def newest(app) -> Comment:
    with app.app_context():
        comment = db.session.scalar(select(Comment).order_by(Comment.id.desc()))
        db.session.expunge(comment)
        return comment


def test_an_admin_changes_a_target_and_a_blocked_word_and_the_queue_follows(office, browser, screenshots_dir):
    base_url, app, slug = office
    mod = new_page(browser)
    sign_in(mod, base_url, "greta", "/moderation/?view=needs_answer&breaching=1")
    expect(mod.locator(".queue-item", has_text=WAITING)).to_have_count(0)  # 30 min of 2 h: not overdue

    admin = new_page(browser)
    sign_in(admin, base_url, "ada", "/admin/categories")
    admin.screenshot(path=str(screenshots_dir / "60-backoffice-categories.png"), full_page=True)
    admin.locator("table.category-table a[href^=\"/admin/categories/\"]", has_text="Kundenservice").click()
    admin.locator("#target").fill("15")
    admin.locator("#unit").select_option("minutes")
    admin.locator("form.category-form button[type=submit]").click()
    expect(admin).to_have_url(f"{base_url}/admin/categories")
    expect(admin.locator("table.category-table tr", has_text="Kundenservice")).to_contain_text("15")

    mod.reload()
    expect(mod.locator(".queue-item", has_text=WAITING)).to_have_count(1)  # 30 min of 15: overdue now

    admin.goto(f"{base_url}/admin/rules")
    blocked = admin.locator("#blocklist")
    blocked.fill(blocked.input_value() + "\nWundermittel")
    admin.locator("form.rules-form button[type=submit]").click()
    expect(admin).to_have_url(f"{base_url}/admin/rules")
    expect(admin.locator("table.audit-table")).to_contain_text("wundermittel")
    admin.screenshot(path=str(screenshots_dir / "61-backoffice-rules.png"), full_page=True)

    write_comment(browser, base_url, slug, "Das beste Wundermittel gegen Funklöcher, jetzt kaufen!", "Spammer",
                  "spam@example.org")
    assert newest(app).status == CommentStatus.SPAM and newest(app).status_reason == "blocklist"
    mod.goto(f"{base_url}/moderation/?view=spam")
    expect(mod.locator(".queue-item", has_text="Das beste Wundermittel")).to_have_count(1)


def test_a_moderator_approves_a_pending_comment_from_the_post_page(office, browser, screenshots_dir):
    base_url, app, slug = office
    write_comment(browser, base_url, slug, "Gibt es die Hotline auch am Wochenende?", "Mara Ostermann",
                  "mara@example.org")
    comment = newest(app)
    assert comment.status == CommentStatus.PENDING

    anonymous = new_page(browser)
    anonymous.goto(f"{base_url}/posts/{slug}")
    expect(anonymous.locator(f"#comment-{comment.id}")).to_have_count(0)

    mod = new_page(browser)
    sign_in(mod, base_url, "greta", f"/posts/{slug}")
    item = mod.locator(f"#comment-{comment.id}")
    expect(item).to_have_class(re.compile(r"is-staff-pending"))
    item.scroll_into_view_if_needed()
    mod.screenshot(path=str(screenshots_dir / "62-post-staff-actions.png"), full_page=False)
    item.locator(".staff-actions form[data-action=approve] button").click()
    expect(mod).to_have_url(re.compile(rf"/posts/{slug}#comment-{comment.id}$"))
    expect(mod.locator(".toast")).to_contain_text("Mara Ostermann")  # with its undo button
    expect(mod.locator(f"#comment-{comment.id}")).not_to_have_class(re.compile(r"is-staff-pending"))
    anonymous.reload()
    expect(anonymous.locator(f"#comment-{comment.id}")).to_contain_text("Hotline auch am Wochenende")
    with app.app_context():
        assert db.session.get(Comment, comment.id).status == CommentStatus.APPROVED


def test_a_moderator_answers_a_question_from_the_post_page(office, browser):
    base_url, app, slug = office
    write_comment(browser, base_url, slug, "Muss ich für den Tarifwechsel neu unterschreiben?", "Ole Brandt",
                  "ole@example.org")
    question = newest(app)
    mod = new_page(browser)
    sign_in(mod, base_url, "greta", f"/posts/{slug}")
    item = mod.locator(f"#comment-{question.id}")
    item.locator("details.staff-reply summary").click()
    item.get_by_label("Offizielle Antwort an Ole Brandt").fill("Nein, der Wechsel gilt mit einem Klick im Kundenkonto.")
    item.get_by_role("button", name="Freigeben und Antwort veröffentlichen").click()
    expect(mod).to_have_url(re.compile(rf"/posts/{slug}#comment-{question.id}$"))
    answer = newest(app)
    assert answer.parent_id == question.id and answer.is_official
    reader = new_page(browser)
    reader.goto(f"{base_url}/posts/{slug}")
    expect(reader.locator(f"#comment-{answer.id}")).to_contain_text("mit einem Klick im Kundenkonto")
    expect(reader.locator(f"#comment-{answer.id}")).to_contain_text("Offizielle Antwort")


@pytest.mark.parametrize(("scheme", "width"), [("light", 1280), ("dark", 1280), ("light", 390), ("dark", 390)])
def test_the_staff_pages_fit_in_light_dark_and_on_a_phone(office, browser, screenshots_dir, scheme, width):
    base_url, app, slug = office
    with app.app_context():
        post = db.session.scalar(select(Post).where(Post.slug == slug))
        add_comment(post, name="Noch wartend", body="Eine Frage, die noch wartet?", status=CommentStatus.PENDING,
                    minutes_ago=5, email="wartend@example.org")
        category_id = db.session.scalar(select(Category.id).where(Category.slug == "kundenservice"))
    admin = new_page(browser, width=width, scheme=scheme)
    sign_in(admin, base_url, "ada", f"/posts/{slug}")
    for name, path in (("post", f"/posts/{slug}#comments"), ("categories", "/admin/categories"),
                       ("rules", "/admin/rules"), ("category", f"/admin/categories/{category_id}")):
        admin.goto(f"{base_url}{path}")
        overflow = admin.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"{path} is {overflow}px wider than the {width}px viewport"
        if name == "post":
            expect(admin.locator(".staff-tools")).to_be_visible()  # the admin may edit every post
            admin.locator(".staff-tools").scroll_into_view_if_needed()
            admin.screenshot(path=str(screenshots_dir / f"63-backoffice-post-top-{scheme}-{width}.png"))
            admin.locator(".staff-actions").first.scroll_into_view_if_needed()
        admin.screenshot(path=str(screenshots_dir / f"63-backoffice-{name}-{scheme}-{width}.png"),
                         full_page=name != "post")
