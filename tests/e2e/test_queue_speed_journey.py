"""The queue at full speed in a real browser: five approvals in a row with `a` and no page load,
an undo with `u`, an answer with a canned response from the queue's own answer box, a colleague's
decision disappearing without a reload, and the next item after a decision on a comment's page."""
import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import Comment, ModerationEvent, Post, PostStatus, User, utcnow
from app.moderation import service
from tests.comment_helpers import add_comment

PASSWORD = "ein langes Test-Passwort"
SLUG = "schnelle-warteschlange"


@pytest.fixture(scope="module")
def queue_server(comment_server):
    base_url, app = comment_server
    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo", "canned"]).exit_code == 0
    for name, display in (("kai", "Kai Brandt"), ("lina", "Lina Vogel")):
        result = runner.invoke(args=["users", "create", name, "--role", "moderator", "--email",
                                     f"{name}@sternwelle.example", "--display-name", display, "--password-stdin"],
                               input=PASSWORD + "\n")
        assert result.exit_code == 0 or "already taken" in result.output, result.output

    def queue_of(slug: str, n: int) -> list[int]:
        """A post of its own with `n` pending questions (each test its own: xdist may run them apart)."""
        with app.app_context():
            author = db.session.scalar(select(User).where(User.username == "kai"))
            post = Post(slug=slug, title="Die schnelle Warteschlange", body_md="Text", body_html="<p>Text</p>",
                        status=PostStatus.PUBLISHED, published_at=utcnow() - timedelta(days=1), author_id=author.id)
            db.session.add(post)
            db.session.commit()
            return [add_comment(post, status="pending", name=f"Leserin {i}", email=f"leserin{i}@example.org",
                                body=f"Frage Nummer {i}: Wie lange dauert die Umstellung?", minutes_ago=90 - i,
                                response_status="needs_answer").id for i in range(n)]

    app.config["QUEUE_POLL_SECONDS"] = 1  # a colleague's decision shows within a second here
    yield base_url, app, queue_of
    app.config["QUEUE_POLL_SECONDS"] = 5


def sign_in(page, base_url, username, path):
    page.goto(f"{base_url}/login?next={path}")
    page.get_by_label("Benutzername").fill(username)
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    expect(page).to_have_url(f"{base_url}{path}")
    page.wait_for_load_state("load")


def status_of(app, comment_id):
    with app.app_context():
        return db.session.scalar(select(Comment.status).where(Comment.id == comment_id))


def test_five_approvals_an_undo_and_a_canned_answer_without_a_page_load(queue_server, contexts, screenshots_dir):
    base_url, app, queue_of = queue_server
    ids = queue_of(SLUG, 6)
    path = f"/moderation/?post={SLUG}"
    page = contexts(viewport={"width": 1280, "height": 900}).new_page()
    sign_in(page, base_url, "kai", path)
    page.evaluate("window.__sameDocument = true")  # gone after any page load
    loads = []
    page.on("load", lambda: loads.append(page.url))

    for index in range(5):
        item = page.locator(f"#q-{ids[index]}")
        expect(item).to_have_class(re.compile(r"\bis-current\b"))
        page.keyboard.press("a")
        expect(item).to_have_count(0)  # left the view; the cursor moves on to the next
    expect(page.locator(f"#q-{ids[5]}")).to_have_class(re.compile(r"\bis-current\b"))
    expect(page.locator(".toast").first).to_contain_text("Leserin 4")
    assert [status_of(app, i) for i in ids[:5]] == ["approved"] * 5
    page.screenshot(path=str(screenshots_dir / "26-queue-undo-toast.png"))

    page.keyboard.press("u")  # undo the last one: back in its place, pending again, audited
    expect(page.locator(f"#q-{ids[4]}")).to_be_visible()
    expect(page.locator(f"#q-{ids[4]}")).to_have_class(re.compile(r"\bis-current\b"))
    assert status_of(app, ids[4]) == "pending"
    with app.app_context():
        actions = db.session.scalars(select(ModerationEvent.action).where(ModerationEvent.comment_id == ids[4])
                                     .order_by(ModerationEvent.id)).all()
    assert actions[-2:] == ["approve", "undo"]

    # An answer with a canned response from the queue's own answer box.
    item = page.locator(f"#q-{ids[4]}")
    page.keyboard.press("r")
    box = item.locator("details.reply-box")
    expect(box).to_have_attribute("open", "")
    box.locator("[data-canned-select]").select_option(label="Danke für den Hinweis")
    box.locator(".canned-choice button").click()  # with JavaScript it inserts instead of opening the page
    textarea = box.locator("textarea")
    expect(textarea).to_have_value(re.compile(r"^Hallo \{name\},"))  # as written; filled in once, by the server
    expect(box.locator("[data-preview]")).to_contain_text("Hallo Leserin 4")
    expect(box.locator("[data-preview]")).to_contain_text("Kai Brandt vom Sternwelle-Team")
    page.screenshot(path=str(screenshots_dir / "27-queue-canned-answer.png"))
    box.get_by_role("button", name="Freigeben und Antwort veröffentlichen").click()
    expect(item).to_have_count(0)
    with app.app_context():
        answer = db.session.scalar(select(Comment).where(Comment.parent_id == ids[4], Comment.is_official))
        assert answer is not None and answer.body_md.startswith("Hallo Leserin 4,")
        assert "{" not in answer.body_md
    assert page.evaluate("window.__sameDocument === true") and not loads  # no page load in all of it


def test_a_colleagues_decision_disappears_and_the_detail_page_leads_on(queue_server, contexts, screenshots_dir):
    base_url, app, queue_of = queue_server
    ids = queue_of(SLUG + "-zwei", 3)
    path = f"/moderation/?post={SLUG}-zwei"
    page = contexts(viewport={"width": 1280, "height": 900}).new_page()
    sign_in(page, base_url, "kai", path)
    waiting = page.locator(f"#q-{ids[0]}")
    expect(waiting).to_be_visible()

    with app.app_context():  # Lina approves it in her own browser meanwhile
        lina = db.session.scalar(select(User).where(User.username == "lina"))
        service.transition(db.session.get(Comment, ids[0]), "approve", actor=lina, expected="pending")
    expect(waiting).to_have_count(0, timeout=5000)  # gone without a reload
    expect(page.locator(".toast").first).to_contain_text("Lina Vogel")

    # Deciding on a comment's page leads to the next comment of the view the moderator came from.
    page.locator(f"#q-{ids[1]} a[data-details]").click()
    expect(page).to_have_url(re.compile(rf"/moderation/comments/{ids[1]}\?from="))
    page.locator("form[action$='/reject'] button").click()
    expect(page).to_have_url(re.compile(rf"/moderation/comments/{ids[2]}\?from="))
    expect(page.locator(".toast")).to_contain_text("Leserin 1")  # with its undo, also without fetch
    page.screenshot(path=str(screenshots_dir / "28-detail-next-item.png"), full_page=False)
    page.locator(".toast button").click()
    assert status_of(app, ids[1]) == "pending"
