"""Trust that cannot be borrowed: the review's findings 3 and 8, each tried the way a stranger would."""
import re

import pytest
from sqlalchemy import select

from app import markup
from app.extensions import db
from app.models import CannedResponse, Comment, CommentRevision, CommentStatus, ModerationEvent, Subscription
from app.moderation import service
from tests.comment_helpers import FORM, add_comment, post_comment
from tests.moderation_helpers import login, moderator

A, P = CommentStatus.APPROVED, CommentStatus.PENDING

pytestmark = pytest.mark.post("Offen antworten", slug="offen-antworten")


def html(response):
    return response.get_data(as_text=True)


def newest() -> Comment:
    db.session.expire_all()
    return db.session.scalars(select(Comment).order_by(Comment.id.desc())).first()


def events(comment) -> list[str]:
    return list(db.session.scalars(select(ModerationEvent.action).where(ModerationEvent.comment_id == comment.id)
                                   .order_by(ModerationEvent.id)))


def approve(comment) -> None:
    db.session.get(Comment, comment.id).status = A
    db.session.commit()


# --- 3b: an address is not a proof ---------------------------------------------------------------

def test_typing_a_known_address_publishes_nothing(app, post):
    add_comment(post, email="petra@example.org", status=A)  # Petra's, approved long ago
    stranger = app.test_client()
    post_comment(stranger, "offen-antworten", name="Sternwelle Kundenservice", email="petra@example.org",
                 body="Bitte bestätigen Sie Ihr Konto: https://sternwelle-login.com/")
    comment = newest()
    assert (comment.status, comment.status_reason) == (P, "looks_like_team")
    post_comment(stranger, "offen-antworten", name="Petra", email="petra@example.org", body="Ganz harmlos")
    assert (newest().status, newest().status_reason) == (P, "new_author")


def test_the_browser_that_wrote_the_approved_comment_is_trusted(app, post):
    petra = app.test_client()
    post_comment(petra, "offen-antworten", body="Meine erste Frage")
    approve(newest())
    post_comment(petra, "offen-antworten", body="Und noch eine")
    assert (newest().status, newest().status_reason) == (A, "trusted")


def test_a_pending_comment_written_here_proves_nothing(app, post):
    """The cookie lists what this browser wrote; only an approved one of those counts."""
    add_comment(post, email="petra@example.org", status=A)
    stranger = app.test_client()
    post_comment(stranger, "offen-antworten", body="Erster Versuch")  # pending, but now in the cookie
    post_comment(stranger, "offen-antworten", body="Zweiter Versuch")
    assert newest().status == P


def test_confirming_notifications_proves_the_address_in_that_browser(app, post):
    from app.comments.notifications import token_for

    earlier = add_comment(post, email="petra@example.org", status=A)
    subscription = Subscription(email="petra@example.org", comment_id=earlier.id)
    db.session.add(subscription)
    db.session.commit()
    mailbox = app.test_client()
    mailbox.post(f"/subscriptions/confirm/{token_for(subscription, 'confirm')}")
    post_comment(mailbox, "offen-antworten", body="Aus dem Link in der Mail")
    assert (newest().status, newest().status_reason) == (A, "trusted")


def test_a_forged_reader_cookie_proves_nothing(app, post):
    earlier = add_comment(post, email="petra@example.org", status=A)
    forger = app.test_client()
    forger.set_cookie("dialog_reader", '{"c": [%d], "a": []}' % earlier.id)
    post_comment(forger, "offen-antworten", body="Gefälscht")
    assert newest().status == P


@pytest.mark.parametrize("name", ["Sternwelle-Team", "sternwelle team", "Sternwe11e-Team", "Anna Seidel"])
def test_names_like_the_teams_wait_with_the_rule_shown_in_the_queue(app, make, post, name):
    anna = moderator(make, display_name="Anna Seidel")
    petra = app.test_client()
    post_comment(petra, "offen-antworten", body="Erste Frage")
    approve(newest())
    post_comment(petra, "offen-antworten", name=name, body="Jetzt als Team")
    held = newest()
    assert (held.status, held.status_reason) == (P, "looks_like_team")
    team = app.test_client()
    login(team, anna)
    team.set_cookie("lang", "en")
    assert "rule: name looks like the team" in html(team.get("/moderation/"))


# --- 3a: an approved comment's edit waits, and nothing is lost ------------------------------------

@pytest.fixture
def published(app, post):
    """Petra's comment, published; her browser is trusted (an earlier comment of hers was approved)."""
    petra = app.test_client()
    post_comment(petra, "offen-antworten", body="Erste Frage")
    approve(newest())
    post_comment(petra, "offen-antworten", body="Der veröffentlichte Text")
    comment = newest()
    assert comment.status == A
    return petra, comment


def edit(client, comment, body):
    return client.post(f"/posts/offen-antworten/comments/{comment.id}/edit", data={"body": body})


def test_an_edit_from_another_browser_of_the_author_waits_for_review(app, post, published):
    _petra, comment = published
    stranger = app.test_client()  # the session knows the comment as its own, the reader cookie nothing
    with stranger.session_transaction() as session:
        session["own_comments"] = [comment.id]
    edit(stranger, comment, "Jetzt mit ganz anderem Inhalt")
    edited = newest()
    assert edited.body_md == "Der veröffentlichte Text" and edited.status == A
    assert edited.pending_body_md == "Jetzt mit ganz anderem Inhalt"
    assert "Der veröffentlichte Text" in html(app.test_client().get("/posts/offen-antworten"))
    assert "ganz anderem Inhalt" not in html(app.test_client().get("/posts/offen-antworten"))
    assert events(edited)[-1] == "edit_submitted"
    assert "waiting for our team" in html(stranger.get("/posts/offen-antworten", headers={"Accept-Language": "en"}))


def test_a_trusted_authors_edit_without_new_links_applies_at_once_and_keeps_the_old_text(published):
    petra, comment = published
    edit(petra, comment, "Der verbesserte Text")
    edited = newest()
    assert edited.body_md == "Der verbesserte Text" and edited.pending_since is None
    (revision,) = db.session.scalars(select(CommentRevision).where(CommentRevision.comment_id == comment.id))
    assert (revision.body_md, revision.kind, revision.actor_id) == ("Der veröffentlichte Text", "replaced", None)
    assert events(edited)[-1] == "edit"


def test_swapping_an_approved_link_for_another_waits_for_review(app, post):
    """Same number of links, new destination: a phishing swap (review of the fix, finding 3)."""
    petra = app.test_client()
    post_comment(petra, "offen-antworten", body="Erste Frage")
    approve(newest())
    post_comment(petra, "offen-antworten", body="Anleitung: https://example.org/faq")
    comment = newest()
    assert comment.status == A
    edit(petra, comment, "Anleitung: https://sternwelle-login.de/faq")
    edited = newest()
    assert edited.body_md == "Anleitung: https://example.org/faq" and edited.pending_since
    edit(petra, comment, "Die Anleitung: https://example.org/faq")  # the same link, other words: at once
    assert newest().body_md == "Die Anleitung: https://example.org/faq"


def test_an_edit_that_adds_a_link_waits_even_for_a_trusted_author(published):
    petra, comment = published
    edit(petra, comment, "Mehr dazu auf https://phishing-seite.com/login")
    edited = newest()
    assert edited.body_md == "Der veröffentlichte Text" and "phishing-seite.com" in edited.pending_body_html
    assert events(edited)[-1] == "edit_submitted"


@pytest.mark.parametrize("accept", [True, False])
def test_the_team_publishes_or_discards_the_edit_and_both_texts_are_kept(app, make, published, accept):
    petra, comment = published
    edit(petra, comment, "Mehr dazu auf https://neue-seite.com/")
    anna = moderator(make)
    team = app.test_client()
    login(team, anna)
    queue = html(team.get("/moderation/"))
    assert f'id="q-{comment.id}"' in queue and "neue-seite.com" in queue  # in the pending view
    seen = re.search(rf'/moderation/comments/{comment.id}/edit/accept".*?name="expected" value="([^"]+)"',
                     queue, re.S).group(1)
    response = team.post(f"/moderation/comments/{comment.id}/edit/{'accept' if accept else 'reject'}",
                         data={"expected": seen})
    assert response.status_code == 302
    decided = newest()
    assert decided.pending_since is None and decided.status == A
    page = html(app.test_client().get("/posts/offen-antworten"))
    if accept:
        assert decided.body_md.startswith("Mehr dazu") and "neue-seite.com" in page
        kept = ("Der veröffentlichte Text", "replaced")
    else:
        assert decided.body_md == "Der veröffentlichte Text" and "neue-seite.com" not in page
        kept = ("Mehr dazu auf https://neue-seite.com/", "rejected")
    (revision,) = db.session.scalars(select(CommentRevision).where(CommentRevision.comment_id == comment.id))
    assert (revision.body_md, revision.kind) == kept
    assert events(decided)[-1] == ("edit_accepted" if accept else "edit_rejected")
    assert f'id="q-{comment.id}"' not in html(team.get("/moderation/"))


def test_an_edit_changed_again_meanwhile_is_not_decided_blind(make, published):
    petra, comment = published
    edit(petra, comment, "Erste Fassung mit https://eins.com/")
    seen = newest().pending_since.isoformat()
    edit(petra, comment, "Zweite Fassung mit https://zwei.com/")
    anna = moderator(make)
    with pytest.raises(service.AlreadyHandled):
        service.decide_edit(newest(), anna, accept=True, seen=seen)
    assert newest().body_md == "Der veröffentlichte Text"


def test_editing_a_pending_comment_keeps_the_previous_text(app, post):
    petra = app.test_client()
    post_comment(petra, "offen-antworten", body="Tippfehlr")
    comment = newest()
    edit(petra, comment, "Tippfehler")
    assert newest().body_md == "Tippfehler" and newest().status == P
    assert db.session.scalar(select(CommentRevision.body_md).where(CommentRevision.comment_id == comment.id)) \
        == "Tippfehlr"
    assert events(comment)[-1] == "edit"


def test_a_staff_edit_keeps_the_previous_text_too(make, post):
    anna = moderator(make)
    comment = add_comment(post, body="Meine Kundennummer ist 12345")
    service.edit(comment, anna, "Meine Kundennummer ist [entfernt]")
    revision = db.session.scalar(select(CommentRevision).where(CommentRevision.comment_id == comment.id))
    assert (revision.body_md, revision.actor_id) == ("Meine Kundennummer ist 12345", anna.id)


# --- 3c: a duplicate never hands over a comment --------------------------------------------------

def test_resending_someone_elses_text_from_the_same_address_grants_nothing(app, post):
    writer = app.test_client()
    post_comment(writer, "offen-antworten")
    original = newest()
    stranger = app.test_client()  # same IP (the test client's), same address, same words
    response = post_comment(stranger, "offen-antworten")
    assert response.status_code == 400 and "gerade schon abgeschickt" in html(response)
    with stranger.session_transaction() as session:
        assert original.id not in session.get("own_comments", [])
    page = html(stranger.get("/posts/offen-antworten"))
    assert f"/comments/{original.id}/edit" not in page and FORM["body"] not in page  # still pending, not theirs
    assert stranger.get(f"/posts/offen-antworten/comments/{original.id}/edit").status_code == 404


# --- 8: canned names, links of every spelling ---------------------------------------------------

def test_a_name_in_a_canned_response_stays_a_name(app, make, post):
    anna = moderator(make)
    team = app.test_client()
    login(team, anna)
    team.post("/moderation/canned", data={"title": "Dank", "lang": "de", "body_md": "Hallo {name}, danke!"})
    canned = db.session.scalar(select(CannedResponse))
    question = add_comment(post, name="[Support](https://evil-support.com) **Team**", status=P)
    page = html(team.get(f"/moderation/comments/{question.id}?canned={canned.id}"))
    body = re.search(r'<textarea[^>]*name="body"[^>]*>(.*?)</textarea>', page, re.S).group(1)
    import html as html_lib

    # The box holds the response as written; sending it fills the placeholders in, once.
    assert "{name}" in html_lib.unescape(body)
    team.post(f"/moderation/comments/{question.id}/reply",
              data={"body": html_lib.unescape(body).strip(), "expect_unanswered": "1", "version": ""})
    answer = db.session.scalar(select(Comment).where(Comment.parent_id == question.id))
    assert "<a " not in answer.body_html and "<strong>" not in answer.body_html
    assert "[Support](https://evil-support" in markup.plain_text(answer.body_html).replace("\u2060", "")


# As typed in Markdown: "\\\\" is an escaped backslash, so the link's address starts with "\\" (or "/\").
@pytest.mark.parametrize("href", ["//evil.example/x", r"\\\\evil.example\\x", r"/\\evil.example/x",
                                  "https://evil.example", "&#47;&#47;evil.example/login", "/&#92;evil.example/login",
                                  "///evil.example/login", "http:evil.example/login", "http:///evil.example",
                                  "https://blog.example@evil.example/"])
def test_links_to_another_host_are_external_however_written(href):
    html_out = markup.render_comment(f"[hier]({href})", ("blog.example",))
    assert 'rel="nofollow ugc noopener"' in html_out, html_out
    assert len(markup.external_links(html_out)) == 1


def test_own_links_stay_internal():
    html_out = markup.render_comment("[a](/posts/x) [b](https://blog.example/y) [c](#kommentare)", ("blog.example",))
    assert "nofollow" not in html_out and markup.external_links(html_out) == []


def test_protocol_relative_links_count_against_the_link_limit(app, post):
    petra = app.test_client()
    post_comment(petra, "offen-antworten", body="Erste Frage")
    approve(newest())
    post_comment(petra, "offen-antworten", body=r"[a](//a.example) [b](//b.example) [c](\\\\c.example)")
    assert (newest().status, newest().status_reason) == (P, "too_many_links")


# --- a text that cannot be formatted is refused, and kept ---------------------------------------

def test_unrenderable_comment_is_refused_with_a_message_and_the_text_kept(client, post):
    text = "1. " * 3333
    response = post_comment(client, "offen-antworten", body=text)
    page = html(response)
    assert response.status_code == 400
    assert "zu tief ineinander" in page and text.strip()[:60] in page
    assert newest() is None
    assert post_comment(client, "offen-antworten", body="**Danach** geht es").status_code == 302
    assert "<strong>Danach</strong>" in newest().body_html


# --- what the moderator read is what gets approved -------------------------------------------------

def test_an_approval_does_not_publish_a_text_changed_after_the_moderator_read_it(app, make, post):
    """Review of the fix, finding 4: the reader edits a pending comment between read and approve."""
    reader = app.test_client()
    post_comment(reader, "offen-antworten", body="Danke für den Artikel!")
    comment = newest()
    anna = moderator(make)
    team = app.test_client()
    login(team, anna)
    queue = html(team.get("/moderation/"))
    seen = re.search(rf'/moderation/comments/{comment.id}/approve".*?name="version" value="([^"]*)"', queue,
                     re.S).group(1)
    edit(reader, comment, "[hier einloggen](https://sternwelle-login.de/)")
    team.post(f"/moderation/comments/{comment.id}/approve", data={"expected": "pending", "version": seen})
    assert newest().status == P  # not published: the moderator must read the new text first
    again = re.search(rf'/moderation/comments/{comment.id}/approve".*?name="version" value="([^"]*)"',
                      html(team.get("/moderation/")), re.S).group(1)
    team.post(f"/moderation/comments/{comment.id}/approve", data={"expected": "pending", "version": again})
    assert newest().status == A


def test_bulk_and_answers_check_the_text_version_too(app, make, post):
    reader = app.test_client()
    post_comment(reader, "offen-antworten", body="Frage eins")
    comment = newest()
    anna = moderator(make)
    seen = service.text_version(comment)
    edit(reader, comment, "Frage eins, geändert")
    result = service.bulk([(newest(), "pending", seen)], "approve", actor=anna)
    assert result.done == [] and result.skipped and newest().status == P
    with pytest.raises(service.AlreadyHandled):
        service.reply(newest(), anna, "Antwort", team_name="Team", seen_version=seen)
    assert service.reply(newest(), anna, "Antwort", team_name="Team", seen_version=service.text_version(newest()))
