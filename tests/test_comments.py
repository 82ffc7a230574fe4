"""Readers writing comments: the form, the rules, bad input, own comments, threads on the page."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Comment, CommentStatus, ModerationEvent, PostStatus, utcnow
from tests.comment_helpers import FORM, add_comment, post_comment, wrote


@pytest.fixture
def post(make):
    return make.post("Offen antworten", days_ago=3, category=make.category("Netzkultur"))


def comments_in_db():
    db.session.expire_all()
    return db.session.scalars(select(Comment).order_by(Comment.id)).all()


def html(response):
    return response.get_data(as_text=True)


def test_post_page_has_the_comment_form_with_privacy_link(client, post):
    page = html(client.get("/posts/offen-antworten"))
    assert 'id="comment-form"' in page and 'action="/posts/offen-antworten/comments#comment-form"' in page
    assert 'href="/datenschutz"' in page and 'name="consent"' in page and 'name="notify"' in page
    assert "Kommentar schreiben" in page


def test_comment_is_stored_pending_and_only_its_author_sees_it(client, app, post):
    response = post_comment(client, "offen-antworten")
    (comment,) = comments_in_db()
    assert response.status_code == 302
    assert response.headers["Location"] == f"/posts/offen-antworten/comments/{comment.id}"  # the permalink …
    assert client.get(response.headers["Location"]).headers["Location"] == \
        f"/posts/offen-antworten#comment-{comment.id}"  # … finds its thread page
    assert (comment.status, comment.status_reason, comment.author_email) == (
        "pending", "new_author", "petra@example.org")
    assert comment.root_id == comment.id and comment.depth == 0 and len(comment.ip_hash) == 64
    own = html(client.get("/posts/offen-antworten"))
    assert "Wann kommt Glasfaser" in own and "Wartet auf Freigabe" in own
    assert "Danke! Ihr Kommentar erscheint, sobald unser Team ihn gesehen hat." in own
    stranger = html(app.test_client().get("/posts/offen-antworten"))
    assert "Wann kommt Glasfaser" not in stranger


def test_approved_comment_is_seen_by_everyone(runner, app, client, post):
    post_comment(client, "offen-antworten")
    (comment,) = comments_in_db()
    result = runner.invoke(args=["comments", "approve", str(comment.id)])
    assert result.exit_code == 0 and f"comment {comment.id}: approved" in result.output
    page = html(app.test_client().get("/posts/offen-antworten"))
    assert "Wann kommt Glasfaser" in page and "1 Kommentar" in page
    assert "petra@example.org" not in page
    events = db.session.scalars(select(ModerationEvent.action).where(ModerationEvent.comment_id == comment.id)).all()
    assert events == ["submit", "approve"]


def test_approve_cli_errors(runner, post):
    assert runner.invoke(args=["comments", "approve", "999"]).exit_code == 1
    comment = add_comment(post)
    result = runner.invoke(args=["comments", "approve", str(comment.id)])
    assert result.exit_code == 1 and "it is approved" in result.output


def test_reply_is_nested_under_its_parent(client, app, post):
    parent = add_comment(post, name="Erste Leserin", body="Erste Frage")
    response = post_comment(client, "offen-antworten", parent_id=str(parent.id), body="Eine Antwort")
    assert response.status_code == 302
    reply = comments_in_db()[-1]
    assert (reply.parent_id, reply.root_id, reply.depth) == (parent.id, parent.id, 1)
    page = html(client.get("/posts/offen-antworten"))
    first, answer = page.index('id="comment-%d"' % parent.id), page.index('id="comment-%d"' % reply.id)
    assert first < answer and '<ol class="replies">' in page[first:answer]


def test_deep_replies_stay_at_the_last_level_with_in_reply_to(client, app, post):
    app.config["COMMENT_MAX_DEPTH"] = 2
    chain = [add_comment(post, name="Ebene 0")]
    for level in range(1, 5):
        chain.append(add_comment(post, parent=chain[-1], name=f"Ebene {level}"))
    page = html(client.get("/posts/offen-antworten"))
    assert page.count('<ol class="replies">') == 2
    assert f'als Antwort auf <a href="#comment-{chain[2].id}">Ebene 2</a>' in page
    assert f'als Antwort auf <a href="#comment-{chain[3].id}">Ebene 3</a>' in page
    section = page[page.index('<section class="comments"'):page.index("</section>")]
    assert len(re.findall(r"<li[\s>]", section)) == section.count("</li>") == 5  # nested lists are balanced
    assert section.count("<ol") == section.count("</ol>") == 3


def test_no_js_reply_page_sets_the_parent(client, post):
    parent = add_comment(post, name="Karl")
    page = html(client.get(f"/posts/offen-antworten/comments/{parent.id}/reply"))
    assert "Antwort an Karl" in page and f'name="parent_id" type="hidden" value="{parent.id}"' in page
    pending = add_comment(post, status=CommentStatus.PENDING)
    assert client.get(f"/posts/offen-antworten/comments/{pending.id}/reply").status_code == 404


def test_trusted_commenter_is_published_at_once(client, post):
    """Trusted: this browser wrote an earlier comment with the address, and the team approved it."""
    post_comment(client, "offen-antworten", body="Meine erste Frage")
    first = comments_in_db()[-1]
    first.status = CommentStatus.APPROVED
    db.session.commit()
    post_comment(client, "offen-antworten", email="Petra@Example.org", body="Noch eine Frage")
    latest = comments_in_db()[-1]
    assert (latest.status, latest.status_reason) == ("approved", "trusted") and latest.approved_at
    assert "Danke! Ihr Kommentar ist veröffentlicht." in html(client.get("/posts/offen-antworten"))


BAD = [
    ({"body": "   "}, "Bitte schreiben Sie einen Kommentar."),
    ({"body": "x" * 10_001}, "Bitte fassen Sie sich kürzer"),
    ({"name": ""}, "Bitte geben Sie Ihren Namen an."),
    ({"email": "keine-adresse"}, "Bitte geben Sie eine gültige E-Mail-Adresse an"),
    ({"email": ""}, "Bitte geben Sie Ihre E-Mail-Adresse an."),
    ({"consent": None}, "Bitte stimmen Sie dem Datenschutzhinweis zu"),
    ({"website": "javascript:alert(1)"}, "Bitte geben Sie eine Webadresse an, die mit http:// oder https:// beginnt."),
    ({"parent_id": "9999"}, "Den Kommentar, auf den Sie antworten möchten, gibt es nicht."),
    ({"parent_id": "abc"}, "Den Kommentar, auf den Sie antworten möchten, gibt es nicht."),
]


@pytest.mark.parametrize("fields, message", BAD)
def test_bad_input_is_shown_again_with_a_message_and_the_text_kept(client, post, fields, message):
    typed = {"name": "Jörg <i>Müller</i>", "body": "Mein Text & meine Frage", **fields}
    response = post_comment(client, "offen-antworten", **typed)
    assert response.status_code == 400
    page = html(response)
    assert message in page
    # The form's checks sum up above it; an unknown parent id passes the form and is refused by the
    # service, whose message takes the summary's place.
    summary = "Ihr Kommentar wurde noch nicht gesendet. Bitte prüfen Sie die markierten Felder."
    assert (summary in page) == (fields != {"parent_id": "9999"})
    if typed["body"].strip() and len(typed["body"]) < 100:
        assert "Mein Text &amp; meine Frage" in page
    if typed["name"]:
        assert 'value="Jörg &lt;i&gt;Müller&lt;/i&gt;"' in page
    assert comments_in_db() == []


def test_parent_from_another_post_is_refused(client, make, post):
    other = make.post("Anderer Beitrag")
    foreign = add_comment(other)
    response = post_comment(client, "offen-antworten", parent_id=str(foreign.id))
    assert response.status_code == 400 and "gibt es nicht" in html(response)
    assert len(comments_in_db()) == 1


def test_reply_to_a_pending_comment_is_refused(client, post):
    pending = add_comment(post, status=CommentStatus.PENDING)
    response = post_comment(client, "offen-antworten", parent_id=str(pending.id))
    assert response.status_code == 400 and "nicht verfügbar" in html(response)


@pytest.mark.parametrize("status, future", [(PostStatus.DRAFT, False), (PostStatus.SCHEDULED, True)])
def test_no_comments_on_invisible_posts(client, make, status, future):
    hidden = make.post("Versteckt", status=status, days_ago=-2 if future else 1)
    assert post_comment(client, hidden.slug).status_code == 404
    assert comments_in_db() == []


def test_closed_post_keeps_the_text_and_says_why(client, post):
    post.comments_open = False
    db.session.commit()
    page = html(client.get("/posts/offen-antworten"))
    assert "Die Kommentare zu diesem Beitrag sind geschlossen." in page and 'id="comment-form"' not in page
    response = post_comment(client, "offen-antworten")
    assert response.status_code == 400
    assert "Die Kommentare zu diesem Beitrag sind geschlossen." in html(response)
    assert comments_in_db() == []


def test_comments_close_by_themselves_after_n_days(client, app, make):
    app.config["COMMENTS_CLOSE_AFTER_DAYS"] = 30
    make.post("Alt", days_ago=31)
    make.post("Neu", days_ago=29)
    assert post_comment(client, "alt").status_code == 400
    assert post_comment(client, "neu").status_code == 302


def test_missing_or_forged_csrf_token_keeps_the_text(client, app, post):
    app.config["WTF_CSRF_ENABLED"] = True
    for token in (None, "forged"):
        response = post_comment(client, "offen-antworten", csrf_token=token, body="Mein wichtiger Text")
        assert response.status_code == 400
        page = html(response)
        assert "Das Formular war abgelaufen" in page and "Mein wichtiger Text" in page
        assert 'name="csrf_token"' in page
    assert comments_in_db() == []


def test_valid_csrf_token_is_accepted(client, app, post):
    app.config["WTF_CSRF_ENABLED"] = True
    page = html(client.get("/posts/offen-antworten"))
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert post_comment(client, "offen-antworten", csrf_token=token).status_code == 302


def test_double_submit_is_stored_once(client, post):
    first = post_comment(client, "offen-antworten")
    assert first.status_code == 302
    again = post_comment(client, "offen-antworten")  # the same browser: back to its comment
    assert again.status_code == 302 and again.headers["Location"] == first.headers["Location"]
    page = client.get(again.headers["Location"], follow_redirects=True)
    assert "Sie haben diesen Kommentar gerade schon abgeschickt" in html(page)
    assert len(comments_in_db()) == 1


def test_rate_limit_answers_429_and_keeps_the_text(client, app, post):
    app.config["COMMENT_RATE_LIMIT"] = "2 per minute"
    for n in range(2):
        assert post_comment(client, "offen-antworten", body=f"Kommentar {n}").status_code == 302
    response = post_comment(client, "offen-antworten", body="Der dritte Text")
    assert response.status_code == 429
    page = html(response)
    assert "Bitte warten Sie eine Minute" in page and "Der dritte Text" in page
    assert len(comments_in_db()) == 2


def test_honeypot_is_spam_but_answered_like_success(client, app, post):
    response = post_comment(client, "offen-antworten", homepage="http://spam.example")
    assert response.status_code == 302
    (comment,) = comments_in_db()
    assert (comment.status, comment.status_reason) == ("spam", "honeypot")
    assert "Wartet auf Freigabe" in html(client.get("/posts/offen-antworten"))  # the bot learns nothing
    assert "Wann kommt Glasfaser" not in html(app.test_client().get("/posts/offen-antworten"))


def test_too_fast_form_is_spam(client, app, post):
    app.config["COMMENT_MIN_SECONDS"] = 3
    page = html(client.get("/posts/offen-antworten"))
    ts = re.search(r'name="ts" type="hidden" value="([^"]+)"', page).group(1)
    assert post_comment(client, "offen-antworten", ts=ts).status_code == 302
    assert comments_in_db()[0].status_reason == "too_fast"
    post_comment(client, "offen-antworten", ts="forged", body="Zweiter Versuch")
    assert comments_in_db()[1].status_reason == "too_fast"


def test_name_and_website_are_plain_text_and_only_http_links(client, post):
    add_comment(post, name="<script>alert(1)</script>", author_url="https://petra.example.net")
    add_comment(post, name="Ohne Link", author_url="ftp://nicht.example")
    page = html(client.get("/posts/offen-antworten"))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    assert '<a href="https://petra.example.net" rel="nofollow ugc noopener">' in page
    assert "ftp://nicht.example" not in page


def test_comment_body_is_sanitised_and_stored_as_html(client, post):
    post_comment(client, "offen-antworten", body="**fett** <script>alert(1)</script> [x](javascript:alert(2))")
    comment = comments_in_db()[0]
    assert "<strong>fett</strong>" in comment.body_html and "<script" not in comment.body_html
    assert "javascript:" not in comment.body_html


def test_author_can_edit_own_comment_within_the_window(client, app, post):
    post_comment(client, "offen-antworten")
    comment = comments_in_db()[0]
    page = html(client.get("/posts/offen-antworten"))
    assert f"/comments/{comment.id}/edit" in page
    assert client.get(f"/posts/offen-antworten/comments/{comment.id}/edit").status_code == 200
    response = client.post(f"/posts/offen-antworten/comments/{comment.id}/edit", data={"body": "Korrigierter Text"})
    assert response.status_code == 302
    comment = comments_in_db()[0]
    assert comment.body_md == "Korrigierter Text" and comment.edited_at is not None
    empty = client.post(f"/posts/offen-antworten/comments/{comment.id}/edit", data={"body": " "})
    assert empty.status_code == 400 and "Bitte schreiben Sie einen Kommentar." in html(empty)
    # Somebody else (another browser) cannot edit it.
    other = app.test_client()
    assert other.get(f"/posts/offen-antworten/comments/{comment.id}/edit").status_code == 404
    assert other.post(f"/posts/offen-antworten/comments/{comment.id}/delete").status_code == 404


def test_no_edit_after_the_window_or_once_answered(client, post):
    post_comment(client, "offen-antworten")
    comment = comments_in_db()[0]
    comment.created_at = utcnow() - timedelta(minutes=16)
    db.session.commit()
    response = client.post(f"/posts/offen-antworten/comments/{comment.id}/edit", data={"body": "Neu"})
    assert response.status_code == 302 and comments_in_db()[0].body_md == FORM["body"]
    comment = comments_in_db()[0]
    comment.created_at, comment.status = utcnow(), CommentStatus.APPROVED
    db.session.commit()
    add_comment(post, parent=comment)
    assert f"/comments/{comment.id}/edit" not in html(client.get("/posts/offen-antworten"))
    client.post(f"/posts/offen-antworten/comments/{comment.id}/delete")
    assert comments_in_db()[0].status == "approved"


def test_edit_adding_links_goes_to_the_queue_and_the_approved_text_stays(client, app, post):
    earlier = add_comment(post, email="petra@example.org")
    wrote(client, app, earlier)  # a trusted reader …
    post_comment(client, "offen-antworten", body="Erster Stand")
    mine = comments_in_db()[-1]
    assert mine.status == "approved"
    client.post(f"/posts/offen-antworten/comments/{mine.id}/edit",
                data={"body": "Neu: https://a-shop.de https://b-shop.com https://c-shop.org"})
    db.session.expire_all()
    edited = comments_in_db()[-1]  # … whose edit adds links waits for the team
    assert edited.status == "approved" and edited.body_md == "Erster Stand"
    assert edited.pending_body_md.startswith("Neu:") and edited.pending_since
    page = html(app.test_client().get("/posts/offen-antworten"))
    assert "Erster Stand" in page and "a-shop.de" not in page


def test_author_can_delete_own_comment(client, post):
    post_comment(client, "offen-antworten")
    comment = comments_in_db()[0]
    response = client.post(f"/posts/offen-antworten/comments/{comment.id}/delete")
    assert response.status_code == 302
    assert comments_in_db()[0].status == "deleted"  # soft: kept for the audit trail
    assert FORM["body"] not in html(client.get("/posts/offen-antworten"))


def test_deleted_comment_with_approved_replies_leaves_a_placeholder(client, post):
    parent = add_comment(post, status=CommentStatus.DELETED, body="Gelöschter Text")
    add_comment(post, parent=parent, body="Antwort bleibt")
    lonely = add_comment(post, status=CommentStatus.DELETED, body="Ganz weg")
    page = html(client.get("/posts/offen-antworten"))
    assert "Dieser Kommentar wurde entfernt." in page and "Antwort bleibt" in page
    assert "Gelöschter Text" not in page and "Ganz weg" not in page and f"comment-{lonely.id}" not in page
    assert "1 Kommentar" in page


def test_spam_and_rejected_are_never_shown(client, post):
    add_comment(post, status=CommentStatus.SPAM, body="Billige Uhren")
    add_comment(post, status=CommentStatus.REJECTED, body="Beleidigung")
    page = html(client.get("/posts/offen-antworten"))
    assert "Billige Uhren" not in page and "Beleidigung" not in page


def test_threads_are_paginated_and_ordered(client, app, post):
    app.config["COMMENT_THREADS_PER_PAGE"] = 3
    roots = [add_comment(post, name=f"Person {i}", body=f"Thread {i}") for i in range(7)]
    add_comment(post, parent=roots[0], body="Antwort auf Thread 0")
    first = html(client.get("/posts/offen-antworten"))
    assert "Thread 0" in first and "Antwort auf Thread 0" in first and "Thread 3" not in first
    assert "Kommentarseite 1 von 3" in first and "8 Kommentare" in first
    third = html(client.get("/posts/offen-antworten?cpage=3"))
    assert "Thread 6" in third and "Thread 5" not in third
    newest = html(client.get("/posts/offen-antworten?order=newest"))
    assert newest.index("Thread 6") < newest.index("Thread 5") and "Thread 3" not in newest
    for bad in ("0", "-1", "abc", "999"):
        assert client.get(f"/posts/offen-antworten?cpage={bad}").status_code == 200
    past_the_end = html(client.get("/posts/offen-antworten?cpage=999"))  # the last page, with its counts
    assert "Thread 6" in past_the_end and "Kommentarseite 3 von 3" in past_the_end and "8 Kommentare" in past_the_end
    assert "Kommentarseite 1 von 3" in html(client.get("/posts/offen-antworten?cpage=0"))
    assert client.get("/posts/offen-antworten?order=sideways").status_code == 200


def test_permalink_leads_to_the_right_page(client, app, post):
    app.config["COMMENT_THREADS_PER_PAGE"] = 2
    roots = [add_comment(post, body=f"Thread {i}") for i in range(5)]
    reply = add_comment(post, parent=roots[4])
    response = client.get(f"/posts/offen-antworten/comments/{reply.id}")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/posts/offen-antworten?cpage=3#comment-{reply.id}"
    assert client.get("/posts/offen-antworten/comments/99999").status_code == 404


def test_comment_counts_on_lists(client, post):
    add_comment(post)
    add_comment(post)
    add_comment(post, status=CommentStatus.PENDING)
    assert "2 Kommentare" in html(client.get("/"))


def test_post_page_query_count_does_not_grow_with_comments(client, make, count_queries):
    small, large = make.post("Klein"), make.post("Gross")
    staff = make.user("anna")
    for target, n in ((small, 10), (large, 1000)):
        roots = []
        for i in range(n):
            parent = roots[i % len(roots)] if roots and i % 2 else None
            c = add_comment(target, parent=parent, commit=False, name=f"P{i}",
                            user_id=staff.id if i % 7 == 0 else None,
                            status=CommentStatus.DELETED if i % 50 == 3 else CommentStatus.APPROVED)
            if parent is None:
                roots.append(c)
        db.session.commit()
    with count_queries() as few:
        assert client.get("/posts/klein").status_code == 200
    with count_queries() as many:
        assert client.get("/posts/gross").status_code == 200
    assert few.n == many.n, "\n".join(many.statements)


def test_anonymize_clears_old_ip_hashes(runner, post):
    old = add_comment(post, ip_hash="a" * 64, minutes_ago=31 * 24 * 60)
    new = add_comment(post, ip_hash="b" * 64, minutes_ago=60)
    result = runner.invoke(args=["comments", "anonymize"])
    assert "Cleared the IP hash of 1 comment(s) older than 30 days." in result.output
    db.session.expire_all()
    assert db.session.get(Comment, old.id).ip_hash is None and db.session.get(Comment, new.id).ip_hash == "b" * 64


def test_english_form_messages(client, post):
    response = client.post("/posts/offen-antworten/comments", data={"name": "", "email": "x", "body": ""},
                           headers={"Accept-Language": "en"})
    page = html(response)
    assert response.status_code == 400
    assert "Please enter your name." in page and "Please write a comment." in page


def test_nothing_is_stored_twice_across_the_database(client, post):
    for _ in range(3):
        post_comment(client, "offen-antworten")
    assert db.session.scalar(select(func.count()).select_from(Comment)) == 1


def test_remember_me_is_offered_without_a_name_so_it_is_never_sent(client, post):
    """The offer to remember name and address lives in the browser (static/js/comments.js): the
    box has no name, so nothing about it reaches the server, and it is hidden until the script runs."""
    import re

    page = client.get(f"/posts/{post.slug}").get_data(as_text=True)
    block = re.search(r"<div [^>]*data-remember[^>]*>(.*?)</div>", page, re.S)
    assert block and " hidden" in block.group(0).split(">", 1)[0]
    assert 'id="remember-me"' in block.group(1) and "name=" not in block.group(1)
