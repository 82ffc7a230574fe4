"""Kept threads: a reader the page cache cannot serve (a comment of their own waiting) gets the
other threads of the page as rendered for everyone, their own thread rendered for them, and a
change readers could see at once."""
import re

import pytest
from sqlalchemy import event

from app.extensions import db
from app.models import CommentStatus, Role
from tests.comment_helpers import add_comment
from tests.moderation_helpers import login

SLUG = "lange-diskussion"


@pytest.fixture
def thread_post(make):
    post = make.post("Lange Diskussion")
    roots = [add_comment(post, name=f"Leser {n}", body=f"Frage Nummer {n}", commit=False) for n in range(6)]
    db.session.flush()
    for root in roots:
        root.root_id = root.id
    for n, root in enumerate(roots):
        add_comment(post, parent=root, name=f"Antwort {n}", body=f"Antwort auf {n}", commit=False)
    db.session.commit()
    return post, roots


def thread_list(html: str) -> str:
    return re.search(r'<ol class="thread-list">.*?</ol>\s*(?=<nav|<div id="comment-form-home"|<p class)', html,
                     re.S).group(0)


def own_pending(client, app, post, parent, body):
    comment = add_comment(post, parent=parent, status=CommentStatus.PENDING, body=body)
    with client.session_transaction() as session:
        session["own_comments"] = [comment.id]
    return comment


def comment_selects(app):
    seen = []

    def before(conn, cursor, statement, *args):
        if statement.lstrip().startswith("SELECT comments.id"):
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", before)
    return seen, lambda: event.remove(db.engine, "before_cursor_execute", before)


def test_a_reader_with_a_comment_waiting_gets_the_other_threads_kept_and_theirs_fresh(app, client, thread_post):
    post, roots = thread_post
    anonymous = app.test_client().get(f"/posts/{SLUG}").text  # renders and keeps every thread
    own_pending(client, app, post, roots[2], "Meine Nachfrage wartet")
    seen, stop = comment_selects(app)
    try:
        page = client.get(f"/posts/{SLUG}")
    finally:
        stop()
    assert page.headers.get("X-Cache") is None  # past the page cache
    assert "Meine Nachfrage wartet" in page.text and "Meine Nachfrage wartet" not in anonymous
    # Only the reader's own thread was loaded: the comments query names its root alone.
    [loaded] = [s for s in seen if "root_id IN" in s]
    assert loaded.count("?") + loaded.count("%(") <= 2, loaded
    # Every other thread is the one everyone sees, byte for byte.
    mine, everyone = thread_list(page.text), thread_list(anonymous)
    for n in (0, 1, 3, 4, 5):
        start = rf'<li class="depth-0">\s*<article[^>]*id="comment-{roots[n].id}"'
        block = re.search(start + r'.*?(?=<li class="depth-0">|</ol>\s*$)', everyone, re.S).group(0)
        assert block in mine


def test_kept_threads_match_threads_rendered_without_the_cache(app, client, thread_post):
    post, roots = thread_post
    app.test_client().get(f"/posts/{SLUG}")
    own_pending(client, app, post, roots[0], "Noch eine Frage")
    kept = thread_list(client.get(f"/posts/{SLUG}").text)
    app.config["PAGE_CACHE"] = False
    try:
        fresh = thread_list(client.get(f"/posts/{SLUG}").text)
    finally:
        app.config["PAGE_CACHE"] = True
    assert kept == fresh


def test_an_approved_reply_reaches_the_reader_past_the_cache_at_once(app, client, make, thread_post):
    post, roots = thread_post
    own_pending(client, app, post, roots[0], "Meine Frage")
    client.get(f"/posts/{SLUG}")  # keeps the other threads
    reply = add_comment(post, parent=roots[4], status=CommentStatus.PENDING, body="Neu freigegeben")
    assert "Neu freigegeben" not in client.get(f"/posts/{SLUG}").text
    from app.moderation import service

    service.transition(reply, "approve", actor=make.user("mod", role=Role.MODERATOR))
    assert "Neu freigegeben" in client.get(f"/posts/{SLUG}").text


def test_moderators_never_get_kept_threads(app, client, make, thread_post):
    post, roots = thread_post
    app.test_client().get(f"/posts/{SLUG}")
    add_comment(post, parent=roots[3], status=CommentStatus.PENDING, body="Wartet auf Freigabe")
    login(client, make.user("anna", role=Role.MODERATOR))
    page = client.get(f"/posts/{SLUG}").text
    assert "Wartet auf Freigabe" in page and "staff-actions" in page


def rendered_templates(app):
    from flask import template_rendered

    names = []

    def record(sender, template, context, **extra):
        names.append(template.name)

    template_rendered.connect(record, app)
    return names, lambda: template_rendered.disconnect(record, app)


def strip_form(html: str) -> str:
    """The page without the per-reader form fields (CSRF token, timer)."""
    html = re.sub(r'name="csrf_token" type="hidden" value="[^"]+"', "", html)
    return re.sub(r'id="ts" name="ts" type="hidden" value="[^"]+"', "", html)


def test_a_reader_whose_comment_waits_in_a_shared_thread_gets_the_cached_page_with_it(app, client, thread_post):
    post, roots = thread_post
    anonymous = app.test_client()
    anonymous.get(f"/posts/{SLUG}")
    everyone = anonymous.get(f"/posts/{SLUG}")
    assert everyone.headers.get("X-Cache") == "HIT"
    mine = own_pending(client, app, post, roots[1], "Meine Rückfrage wartet")
    names, stop = rendered_templates(app)
    try:
        page = client.get(f"/posts/{SLUG}")
    finally:
        stop()
    assert page.status_code == 200 and "Meine Rückfrage wartet" in page.text
    # their thread (and the page count, always); the page itself came from the cache
    assert names == ["comments/_pagination.html", "comments/_thread.html"]
    assert re.search(rf'class="comment is-pending" id="comment-{mine.id}"', page.text)
    # Apart from their thread and their form, it is the page everyone gets.
    start = rf'<li class="depth-0">\s*<article[^>]*id="comment-{roots[1].id}"'
    theirs = re.search(start + r'.*?(?=<li class="depth-0">)', page.text, re.S).group(0)
    others = re.search(start + r'.*?(?=<li class="depth-0">)', everyone.text, re.S).group(0)
    assert strip_form(page.text.replace(theirs, "")) == strip_form(everyone.text.replace(others, ""))
    # and their form has a timer of its own (the CSRF token: tests/test_page_cache.py, with CSRF on)
    stamp = r'id="ts" name="ts" type="hidden" value="([^"]+)"'
    assert re.search(stamp, page.text).group(1) != re.search(stamp, everyone.text).group(1)


def test_a_reader_whose_new_thread_is_on_a_later_page_gets_page_one_from_the_cache(app, client, thread_post):
    post, _roots = thread_post
    app.config["COMMENT_THREADS_PER_PAGE"] = 3  # six threads: two pages for everyone
    everyone = app.test_client().get(f"/posts/{SLUG}").text
    assert "Kommentarseite 1 von 2" in everyone
    own_pending(client, app, post, None, "Meine neue Frage")  # a seventh thread: a third page for them
    names, stop = rendered_templates(app)
    try:
        page = client.get(f"/posts/{SLUG}").text
    finally:
        stop()
    assert "blog/post.html" not in names and "Kommentarseite 1 von 3" in page
    assert strip_form(page.replace("1 von 3", "1 von 2")) == strip_form(everyone)
    assert "Meine neue Frage" in client.get(f"/posts/{SLUG}?cpage=3").text


def test_a_reader_with_a_thread_of_their_own_on_the_page_gets_it_rendered(app, client, thread_post):
    post, _roots = thread_post
    app.test_client().get(f"/posts/{SLUG}")
    own_pending(client, app, post, None, "Eine ganz neue Frage von mir")  # a new thread only they see
    names, stop = rendered_templates(app)
    try:
        page = client.get(f"/posts/{SLUG}")
    finally:
        stop()
    assert "Eine ganz neue Frage von mir" in page.text and "blog/post.html" in names  # the counts differ
