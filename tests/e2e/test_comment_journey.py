"""A reader's comment journey in a real browser, against a live app with CSRF protection on.

Without JavaScript a reader writes a comment, sees it waiting for moderation (nobody else does),
the team approves it from the command line, another reader answers it through the reply page.
With JavaScript "Antworten" opens the form right under the comment instead. Bad input comes back
from the server with messages next to the fields and nothing typed lost. Screenshots of the comment
UI (threads, errors, inline reply, dark mode, phone) go to test-screenshots/10-comments-*.png.
"""
import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from app import markup
from app.extensions import db
from app.models import Comment, CommentStatus, Post, utcnow

PHONE = {"width": 390, "height": 844}
PENDING_NOTE = "Wartet auf Freigabe"
THANKS_PENDING = "Danke! Ihr Kommentar erscheint, sobald unser Team ihn gesehen hat."

THREADS_POST = "stoerungen-statusseite-erklaert"  # demo threads, replies three levels deep
JS_POST = "glasfaserausbau-im-dorf"
ERROR_POST = "router-sicherheit-checkliste"
DEEP_POST = "netzneutralitaet-was-sie-bedeutet"  # gets a reply chain deeper than COMMENT_MAX_DEPTH


# --- fixtures and helpers ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def server(comment_server):
    """The CSRF-protected live app, with the hand-written demo discussions under the demo posts."""
    base_url, app = comment_server
    runner = app.test_cli_runner()
    for args in (["demo", "accounts"], ["demo", "comments"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, f"{' '.join(args)} failed:\n{result.output}"
    with app.app_context():
        post_id = db.session.scalar(select(Post.id).where(Post.slug == THREADS_POST))
        assert db.session.scalar(select(Comment.id).where(Comment.post_id == post_id).limit(1)), \
            "the demo threads were not loaded"
    return base_url, app


def shoot_comments(page: Page, directory, name: str) -> None:
    page.locator("#comments").scroll_into_view_if_needed()
    page.locator("#comments").screenshot(path=str(directory / f"{name}.png"))


def comment_id_from(url: str) -> int:
    match = re.fullmatch(r"comment-(\d+)", urlsplit(url).fragment)
    assert match, f"expected to land on #comment-<id>, got {url}"
    return int(match.group(1))


def fill_form(form: Locator, *, name: str, email: str, body: str, consent: bool = True) -> None:
    form.get_by_label("Ihr Kommentar", exact=True).fill(body)
    form.get_by_label("Name", exact=True).fill(name)
    form.get_by_label("E-Mail-Adresse", exact=True).fill(email)
    if consent:
        form.locator("#consent").check()


def reply_li(page: Page, parent_id: int, reply_id: int) -> Locator:
    """The reply's article, found only where it belongs: in the replies list of the parent's <li>."""
    return page.locator(f"li:has(> article#comment-{parent_id}) > ol.replies > li > article#comment-{reply_id}")


def stored(app, comment_id: int) -> Comment:
    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        assert comment is not None, f"comment {comment_id} is not in the database"
        db.session.expunge(comment)
        return comment


def add_reply_chain(app, slug: str, length: int) -> list[int]:
    """Approved replies, each answering the one before, below the post's deepest comment; their ids."""
    names = ["Petra Lindqvist", "Mehmet Aydın", "Sophie Reimann", "Klaus-Dieter Hoffmeister"]
    with app.app_context():
        post_id = db.session.scalar(select(Post.id).where(Post.slug == slug))
        parent = db.session.scalars(
            select(Comment).where(Comment.post_id == post_id, Comment.status == CommentStatus.APPROVED)
            .order_by(Comment.depth.desc(), Comment.id)).first()
        ids = []
        for n in range(length):
            body = f"Antwort Nummer {n + 1} in dieser langen Kette – wie schmal wird die Spalte auf dem Handy?"
            comment = Comment(
                post_id=post_id, parent_id=parent.id, root_id=parent.root_id, depth=parent.depth + 1,
                author_name=names[n % len(names)], author_email=f"kette{n}@example.org", lang="de",
                body_md=body, body_html=markup.render_comment(body), status=CommentStatus.APPROVED,
                status_reason="test", created_at=utcnow(), approved_at=utcnow())
            db.session.add(comment)
            db.session.flush()
            ids.append(comment.id)
            parent = comment
        db.session.commit()
        return ids


@pytest.fixture(scope="module")
def deep_chain(server) -> list[int]:
    """Five approved replies in a row under DEEP_POST's deepest comment: nesting beyond the cap."""
    return add_reply_chain(server[1], DEEP_POST, 5)


def phone_at_deepest_reply(contexts, base_url: str, chain: list[int]) -> Page:
    phone = contexts(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2).new_page()
    phone.goto(f"{base_url}/posts/{DEEP_POST}#comments")
    deepest = phone.locator(f"article#comment-{chain[-1]}")
    expect(deepest).to_be_visible()
    expect(deepest.locator(".comment-reply-to")).to_contain_text("als Antwort auf")  # beyond the nesting cap
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the comment section scrolls sideways on a phone ({width}px)"
    return phone


def approve(app, comment_id: int) -> None:
    result = app.test_cli_runner().invoke(args=["comments", "approve", str(comment_id)])
    assert result.exit_code == 0, result.output
    assert f"comment {comment_id}: approved" in result.output


# --- 1. without JavaScript: write, wait for moderation, get approved, get an answer ------------

def test_comment_and_reply_without_javascript(server, contexts, screenshots_dir):
    base_url, app = server
    post_url = f"{base_url}/posts/{THREADS_POST}"
    author = contexts(java_script_enabled=False).new_page()

    response = author.goto(post_url)
    assert response.status == 200
    form = author.locator("form#comment-form")
    expect(form.locator("h3")).to_have_text("Kommentar schreiben")
    token = form.locator("input[name=csrf_token]")
    expect(token).to_have_count(1)
    assert token.get_attribute("value"), "the form carries no CSRF token"

    body = "Kann man die Statusseite auch als RSS-Feed abonnieren? Das wäre für unser Büro praktisch."
    fill_form(form, name="Greta Sommerfeld", email="greta.sommerfeld@example.org", body=body)
    form.get_by_role("button", name="Kommentar senden").click()

    # Back on the post, at the new comment, with a thank-you and the comment marked as waiting.
    assert urlsplit(author.url).path == f"/posts/{THREADS_POST}"
    comment_id = comment_id_from(author.url)
    expect(author.locator(".flash-success")).to_have_text(THANKS_PENDING)
    own = author.locator(f"article#comment-{comment_id}")
    expect(own).to_be_in_viewport()  # the browser jumped to it
    expect(own).to_have_class(re.compile(r"\bis-pending\b"))
    expect(own.locator(".comment-author")).to_have_text("Greta Sommerfeld")
    expect(own.locator(".comment-body")).to_contain_text("als RSS-Feed abonnieren")
    expect(own.locator(".comment-status")).to_contain_text(PENDING_NOTE)
    expect(own.locator("a.reply-link")).to_have_count(0)  # nobody can answer a comment that is not public
    saved = stored(app, comment_id)
    assert (saved.status, saved.parent_id, saved.author_email) == (
        CommentStatus.PENDING, None, "greta.sommerfeld@example.org")
    shoot_comments(author, screenshots_dir, "10-comments-pending-own")

    # Another reader does not see it …
    reader = contexts(java_script_enabled=False).new_page()
    assert reader.goto(post_url).status == 200
    expect(reader.locator("article.comment").first).to_be_visible()
    expect(reader.locator(f"#comment-{comment_id}")).to_have_count(0)
    expect(reader.get_by_text("als RSS-Feed abonnieren")).to_have_count(0)

    # … until the team approves it; then everyone sees it, no longer marked as waiting.
    approve(app, comment_id)
    assert stored(app, comment_id).status == CommentStatus.APPROVED
    reader.reload()
    published = reader.locator(f"article#comment-{comment_id}")
    expect(published).to_be_visible()
    expect(published).not_to_have_class(re.compile(r"\bis-pending\b"))
    expect(published.locator(".comment-status")).to_have_count(0)
    author.goto(post_url)
    expect(author.locator(f"article#comment-{comment_id} .comment-status")).to_have_count(0)
    expect(author.locator(".flash")).to_have_count(0)  # the flash was shown once

    # The other reader answers it: without JavaScript "Antworten" opens the reply page.
    published.get_by_role("link", name="Antworten").click()
    assert urlsplit(reader.url).path == f"/posts/{THREADS_POST}/comments/{comment_id}/reply"
    reply_form = reader.locator("form#comment-form")
    expect(reply_form.locator("h3")).to_have_text("Antwort an Greta Sommerfeld")
    expect(reply_form.locator("input[name=parent_id]")).to_have_value(str(comment_id))
    expect(reply_form.get_by_role("link", name="Kommentar anzeigen, auf den Sie antworten")).to_have_attribute(
        "href", f"#comment-{comment_id}")
    fill_form(reply_form, name="Jan Brüggemann", email="jan.brueggemann@example.net",
              body="Gute Frage – das würde mich auch interessieren.")
    reply_form.get_by_role("button", name="Antwort senden").click()

    assert urlsplit(reader.url).path == f"/posts/{THREADS_POST}"
    reply_id = comment_id_from(reader.url)
    expect(reader.locator(".flash-success")).to_have_text(THANKS_PENDING)
    reply = reply_li(reader, comment_id, reply_id)
    expect(reply).to_be_visible()
    expect(reply.locator(".comment-author")).to_have_text("Jan Brüggemann")
    expect(reply.locator(".comment-status")).to_contain_text(PENDING_NOTE)
    saved = stored(app, reply_id)
    assert (saved.parent_id, saved.root_id, saved.depth, saved.status) == (
        comment_id, comment_id, 1, CommentStatus.PENDING)
    # After a reply the form is a plain new-comment form again.
    expect(reader.locator("form#comment-form h3")).to_have_text("Kommentar schreiben")
    expect(reader.locator("form#comment-form input[name=parent_id]")).to_have_value("")


# --- 2. with JavaScript: the form moves under the comment ---------------------------------------

def test_inline_reply_with_javascript(server, contexts, screenshots_dir):
    base_url, app = server
    post_url = f"{base_url}/posts/{JS_POST}"
    page = contexts().new_page()
    assert page.goto(post_url).status == 200
    page.evaluate("window.__sameDocument = true")  # gone if anything reloads the page

    parent = page.locator("article.comment:has(a.reply-link)").first
    parent_id = int(parent.get_attribute("id").removeprefix("comment-"))
    parent_name = parent.locator(".comment-author").inner_text().strip()
    form = page.locator("form#comment-form")
    parent_field = form.locator("input[name=parent_id]")
    form_follows = "id => document.getElementById('comment-' + id).nextElementSibling?.id === 'comment-form'"
    form_at_home = "() => document.getElementById('comment-form').parentElement.id === 'comment-form-home'"
    assert page.evaluate(form_at_home)

    # "Antworten" moves the form right under that comment, set up as a reply, without navigating.
    parent.get_by_role("link", name="Antworten").click()
    expect(form).to_have_class(re.compile(r"\bis-inline\b"))
    assert page.evaluate(form_follows, parent_id), "the form is not right after the comment"
    assert not page.evaluate(form_at_home)
    expect(form.locator("h3")).to_have_text(f"Antwort an {parent_name}")
    expect(parent_field).to_have_value(str(parent_id))
    expect(form.get_by_label("Ihr Kommentar", exact=True)).to_be_focused()
    assert page.url == post_url
    assert page.evaluate("window.__sameDocument === true"), "the page was reloaded"
    cancel = form.get_by_role("button", name="Antwort abbrechen")
    expect(cancel).to_be_visible()

    # "Antwort abbrechen" puts it back as a new-comment form.
    cancel.click()
    expect(form).not_to_have_class(re.compile(r"\bis-inline\b"))
    assert page.evaluate(form_at_home)
    expect(parent_field).to_have_value("")
    expect(form.locator("h3")).to_have_text("Kommentar schreiben")
    expect(cancel).to_be_hidden()

    # Open it again and answer for real.
    parent.get_by_role("link", name="Antworten").click()
    assert page.evaluate(form_follows, parent_id)
    expect(parent_field).to_have_value(str(parent_id))
    fill_form(form, name="Hauke Janssen", email="hauke.janssen@example.org",
              body="Bei uns im Nachbardorf lief das genauso. Danke für die offenen Worte!")
    shoot_comments(page, screenshots_dir, "10-comments-reply-inline")
    form.get_by_role("button", name="Antwort senden").click()

    expect(page).to_have_url(re.compile(rf"/posts/{JS_POST}#comment-\d+$"))
    reply_id = comment_id_from(page.url)
    expect(page.locator(".flash-success")).to_have_text(THANKS_PENDING)
    reply = reply_li(page, parent_id, reply_id)
    expect(reply).to_be_visible()
    expect(reply).to_have_class(re.compile(r"\bis-pending\b"))
    expect(reply.locator(".comment-status")).to_contain_text(PENDING_NOTE)
    saved = stored(app, reply_id)
    assert (saved.parent_id, saved.status) == (parent_id, CommentStatus.PENDING)
    assert page.evaluate(form_at_home)  # the new page starts with the form in its usual place


# --- 3. bad input is answered by the server, next to the fields ---------------------------------

def test_invalid_comment_keeps_input_and_marks_fields(server, contexts, screenshots_dir):
    base_url, app = server
    page = contexts().new_page()
    assert page.goto(f"{base_url}/posts/{ERROR_POST}").status == 200
    form = page.locator("form#comment-form")
    expect(form).to_have_attribute("novalidate", "")
    with app.app_context():
        before = db.session.scalar(select(db.func.count()).select_from(Comment))

    fill_form(form, name="Ilse Brandt", email="ilse.brandt@example.org", body="", consent=False)
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        form.get_by_role("button", name="Kommentar senden").click()
    assert answer.value.status == 400
    assert urlsplit(page.url).path == f"/posts/{ERROR_POST}/comments"

    form = page.locator("form#comment-form")
    expect(form.locator(".form-message")).to_have_text(
        "Ihr Kommentar wurde noch nicht gesendet. Bitte prüfen Sie die markierten Felder.")
    expect(form.locator("#body-error")).to_have_text("Bitte schreiben Sie einen Kommentar.")
    expect(form.locator("#consent-error")).to_contain_text("Bitte stimmen Sie dem Datenschutzhinweis zu")
    body = form.get_by_label("Ihr Kommentar", exact=True)
    expect(body).to_have_attribute("aria-invalid", "true")
    expect(body).to_have_attribute("aria-describedby", "body-help body-error")
    expect(form.locator("#consent")).to_have_attribute("aria-invalid", "true")
    expect(form.locator("#consent")).not_to_be_checked()
    expect(form.get_by_label("Name", exact=True)).to_have_value("Ilse Brandt")
    expect(form.get_by_label("Name", exact=True)).to_have_attribute("aria-invalid", "false")
    expect(form.get_by_label("E-Mail-Adresse", exact=True)).to_have_value("ilse.brandt@example.org")
    expect(form.get_by_label("E-Mail-Adresse", exact=True)).to_have_attribute("aria-invalid", "false")
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(Comment)) == before
    shoot_comments(page, screenshots_dir, "10-comments-form-errors")

    # Corrected and sent again from the error page, it goes through (with a fresh CSRF token).
    body.fill("Danke für die Checkliste – das Standardpasswort hatte ich tatsächlich nie geändert.")
    form.locator("#consent").check()
    form.get_by_role("button", name="Kommentar senden").click()
    expect(page).to_have_url(re.compile(rf"/posts/{ERROR_POST}#comment-\d+$"))
    expect(page.locator(".flash-success")).to_have_text(THANKS_PENDING)


def test_post_without_csrf_token_is_refused_but_keeps_the_text(server, contexts):
    """CSRF protection is really on here: a form without a token is refused, the text shown again."""
    base_url, app = server
    page = contexts().new_page()
    with app.app_context():
        before = db.session.scalar(select(db.func.count()).select_from(Comment))
    response = page.request.post(f"{base_url}/posts/{ERROR_POST}/comments", form={
        "name": "Bot Bertram", "email": "bertram@example.org", "body": "Ohne Token geschickt.", "consent": "y"})
    assert response.status == 400
    page.set_content(response.text())
    expect(page.locator(".form-message")).to_have_text(
        "Das Formular war abgelaufen. Ihr Text ist noch da – bitte senden Sie ihn noch einmal.")
    expect(page.locator("#body")).to_have_value("Ohne Token geschickt.")
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(Comment)) == before


# --- 4. how it looks: threads, dark mode, phone ------------------------------------------------

def test_comment_section_screenshots(server, contexts, deep_chain, screenshots_dir):
    base_url, _ = server
    url = f"{base_url}/posts/{THREADS_POST}#comments"

    page = contexts().new_page()
    page.goto(url)
    expect(page.locator("ol.thread-list ol.replies ol.replies").first).to_be_visible()  # nested threads
    shoot_comments(page, screenshots_dir, "10-comments-threads")

    dark = contexts(color_scheme="dark").new_page()
    dark.goto(url)
    background = dark.locator(".comment").first.evaluate("el => getComputedStyle(el).backgroundColor")
    assert re.findall(r"\d+", background)[:3] == ["27", "35", "41"], background  # --surface in dark mode
    shoot_comments(dark, screenshots_dir, "10-comments-dark")
    dark.locator("form#comment-form").get_by_role("button", name="Kommentar senden").click()  # all empty
    expect(dark.locator("form#comment-form .field-errors").first).to_be_visible()
    dark.locator("form#comment-form").scroll_into_view_if_needed()
    dark.locator("form#comment-form").screenshot(path=str(screenshots_dir / "10-comments-dark-form-errors.png"))

    # On a phone, with a thread nested deeper than the page indents (COMMENT_MAX_DEPTH).
    phone = phone_at_deepest_reply(contexts, base_url, deep_chain)
    shoot_comments(phone, screenshots_dir, "10-comments-phone")
    phone.locator(f"article#comment-{deep_chain[-1]}").get_by_role("link", name="Antworten").click()
    expect(phone.locator("form#comment-form")).to_have_class(re.compile(r"\bis-inline\b"))
    shoot_comments(phone, screenshots_dir, "10-comments-phone-reply-inline")


# --- known bugs (strict: when one is fixed, its test passes, fails as XPASS, and the mark goes) ---

def test_inline_reply_form_fits_a_phone_at_the_deepest_level(server, contexts, deep_chain):
    base_url, _ = server
    phone = phone_at_deepest_reply(contexts, base_url, deep_chain)
    phone.locator(f"article#comment-{deep_chain[-1]}").get_by_role("link", name="Antworten").click()
    expect(phone.locator("form#comment-form")).to_have_class(re.compile(r"\bis-inline\b"))
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page scrolls sideways with the reply form open ({width}px)"


def test_thank_you_message_is_in_view_after_sending(server, contexts):
    base_url, _ = server
    page = contexts().new_page()
    page.goto(f"{base_url}/posts/{JS_POST}")
    fill_form(page.locator("form#comment-form"), name="Rieke Ahrens", email="rieke.ahrens@example.org",
              body="Wann kommt der Ausbau eigentlich nach Süderwisch?")
    page.locator("form#comment-form").get_by_role("button", name="Kommentar senden").click()
    comment_id = comment_id_from(page.url)
    expect(page.locator(f"article#comment-{comment_id}")).to_be_in_viewport()
    expect(page.get_by_text(THANKS_PENDING)).to_be_in_viewport(timeout=2_000)
