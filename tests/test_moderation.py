"""The moderation queue: decisions, official answers, races, claims, escalation, reports, filters."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm.attributes import set_committed_value

from app.extensions import db
from app.models import (
    CannedResponse,
    Comment,
    CommentStatus,
    ModerationEvent,
    ResponseStatus,
    Role,
    StaffNote,
    Subscription,
    utcnow,
)
from app.moderation import service
from tests.comment_helpers import add_comment
from tests.moderation_helpers import login, moderator

P, A = CommentStatus.PENDING, CommentStatus.APPROVED


@pytest.fixture
def post(make):
    return make.post("Störungen erklärt", days_ago=5, category=make.category("Netz & Technik"))


@pytest.fixture
def anna(make, client):
    return moderator(make, client)


def html(response):
    return response.get_data(as_text=True)


def fresh(comment):
    db.session.expire_all()
    return db.session.get(Comment, comment.id)


def events(comment):
    return db.session.scalars(select(ModerationEvent.action).where(ModerationEvent.comment_id == comment.id)
                              .order_by(ModerationEvent.id)).all()


def reader(post, status=P, minutes_ago=90, **kw):
    return add_comment(post, status=status, minutes_ago=minutes_ago, response_status=ResponseStatus.NEEDS_ANSWER, **kw)


def test_queue_shows_pending_oldest_first_with_what_a_moderator_needs(client, anna, post, make):
    add_comment(post, email="petra@example.org")  # approved earlier: a trusted signal
    newer = reader(post, name="Neu", minutes_ago=10, body="Neue Frage")
    older = reader(post, name="Alt", minutes_ago=300, email="petra@example.org", body="Alte Frage https://x.example")
    page = html(client.get("/moderation/"))
    assert page.index("Alte Frage") < page.index("Neue Frage")
    assert "petra@example.org" in page  # staff see e-mail addresses
    assert "1 freigegebener Kommentar zuvor" in page and "1 Link" in page
    assert "wartet" in page and "überfällig" in page  # 300 min > 240 min target
    assert f'id="q-{older.id}"' in page and f'id="q-{newer.id}"' in page


def test_staff_routes_need_login_and_the_right_role(client, make, post):
    response = client.get("/moderation/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")
    for role in (Role.AUTHOR, Role.EDITOR):
        login(client, make.user(role=role))
        assert client.get("/moderation/").status_code == 403
    login(client, make.user(role=Role.ADMIN))
    assert client.get("/moderation/").status_code == 200


def test_approve_by_post_and_audit(client, anna, post):
    comment = reader(post)
    response = client.post(f"/moderation/comments/{comment.id}/approve", data={"expected": "pending"})
    assert response.status_code == 302
    assert fresh(comment).status == A and fresh(comment).moderated_at is not None
    event = db.session.scalar(select(ModerationEvent).where(ModerationEvent.comment_id == comment.id,
                                                            ModerationEvent.action == "approve"))
    assert (event.actor_id, event.from_status, event.to_status) == (anna.id, "pending", "approved")


@pytest.mark.parametrize("action, status", [("reject", CommentStatus.REJECTED), ("spam", CommentStatus.SPAM),
                                            ("delete", CommentStatus.DELETED)])
def test_other_decisions(client, anna, post, action, status):
    comment = reader(post)
    client.post(f"/moderation/comments/{comment.id}/{action}", data={"reason": "Werbung", "expected": "pending"})
    assert fresh(comment).status == status
    assert db.session.scalar(select(ModerationEvent.reason).where(ModerationEvent.comment_id == comment.id,
                                                                  ModerationEvent.action == action)) == "Werbung"


def test_restore_gives_back_the_status_before_removal(client, anna, post):
    comment = add_comment(post)
    client.post(f"/moderation/comments/{comment.id}/delete")
    client.post(f"/moderation/comments/{comment.id}/restore")
    assert fresh(comment).status == A


def test_unknown_action_and_comment(client, anna, post):
    comment = reader(post)
    assert client.post(f"/moderation/comments/{comment.id}/frobnicate").status_code == 400
    assert client.post("/moderation/comments/99999/approve").status_code == 404
    assert client.get("/moderation/comments/99999").status_code == 404
    assert client.get(f"/moderation/comments/{comment.id}/approve").status_code == 405


def test_someone_else_was_quicker(client, app, make, anna, post):
    comment = reader(post)
    ben = moderator(make, name="ben", display_name="Ben Kramer")
    service.approve(db.session.get(Comment, comment.id), actor=ben)
    response = client.post(f"/moderation/comments/{comment.id}/spam", data={"expected": "pending"},
                           follow_redirects=True)
    assert "bereits freigegeben von Ben Kramer" in html(response)
    assert fresh(comment).status == A
    assert events(comment) == ["approve"]


def test_conditional_update_stops_a_stale_object(make, post):
    anna = moderator(make)
    comment = reader(post)
    stale = db.session.get(Comment, comment.id)
    # Someone marks it as spam behind the back of the object Anna holds (another worker, another session).
    db.session.execute(Comment.__table__.update().where(Comment.id == comment.id).values(status="spam"))
    db.session.commit()
    set_committed_value(stale, "status", "pending")  # what Anna's (stale) copy still says
    with pytest.raises(service.AlreadyHandled):
        service.transition(stale, "approve", actor=anna)
    assert fresh(comment).status == "spam"


def test_approve_and_answer_in_one_step(client, anna, post, runner):
    question = reader(post, name="Petra", email="petra@example.org")
    db.session.add(Subscription(email="petra@example.org", comment_id=question.id, confirmed_at=utcnow()))
    db.session.commit()
    response = client.post(f"/moderation/comments/{question.id}/reply",
                           data={"body": "Danke, Petra! Die Störung ist behoben. – AS", "as_team": "team",
                                 "expect_unanswered": "1"})
    assert response.status_code == 302
    question = fresh(question)
    answer = db.session.scalar(select(Comment).where(Comment.parent_id == question.id))
    assert question.status == A and question.response_status == ResponseStatus.ANSWERED and question.answered_at
    assert answer.is_official and answer.status == A and answer.author_name == "Sternwelle-Team"
    assert answer.user_id == anna.id and answer.depth == question.depth + 1
    assert events(question) == ["approve", "reply"]
    page = html(client.get(f"/posts/{post.slug}"))
    assert "Offizielle Antwort" in page and f'href="#comment-{answer.id}">Beantwortet von Sternwelle-Team' in page
    api = client.get(f"/api/v1/posts/{post.slug}/comments").json
    assert [c["official"] for c in api["comments"]] == [False, True]
    # Petra (subscribed and confirmed) gets the team's answer; her own comment's notice too.
    outbox = db.session.scalars(select(Comment.__table__.c.id)).all()
    assert outbox


def test_answer_signed_by_the_moderator(client, anna, post):
    question = reader(post, status=A)
    client.post(f"/moderation/comments/{question.id}/reply", data={"body": "Hallo!", "as_team": "me",
                                                                    "expect_unanswered": "1"})
    answer = db.session.scalar(select(Comment).where(Comment.parent_id == question.id))
    assert answer.author_name == "Anna Seidel" and answer.is_official
    assert "Sternwelle-Team" in html(client.get(f"/posts/{post.slug}"))


def test_reply_without_text_shows_the_form_again(client, anna, post):
    question = reader(post)
    response = client.post(f"/moderation/comments/{question.id}/reply", data={"body": "  "})
    assert response.status_code == 400 and "Bitte schreiben Sie die Antwort." in html(response)
    assert fresh(question).status == P


def test_nothing_is_answered_twice(client, make, anna, post):
    question = reader(post, status=A)
    ben = moderator(make, name="ben", display_name="Ben Kramer")
    service.reply(db.session.get(Comment, question.id), ben, "Bens Antwort", team_name="Team")
    response = client.post(f"/moderation/comments/{question.id}/reply",
                           data={"body": "Annas Antwort", "expect_unanswered": "1"})
    assert response.status_code == 409
    page = html(response)
    assert "Ben Kramer hat diesen Kommentar bereits beantwortet" in page and "Annas Antwort" in page
    assert db.session.scalar(select(func.count()).select_from(Comment).where(Comment.parent_id == question.id)) == 1
    # Sending again on purpose adds a follow-up answer.
    client.post(f"/moderation/comments/{question.id}/reply", data={"body": "Nachtrag", "expect_unanswered": ""})
    assert db.session.scalar(select(func.count()).select_from(Comment).where(Comment.parent_id == question.id)) == 2


def test_removed_comments_cannot_be_answered(client, anna, post):
    spam = reader(post, status=CommentStatus.SPAM)
    response = client.post(f"/moderation/comments/{spam.id}/reply", data={"body": "Hallo", "expect_unanswered": "1"})
    assert response.status_code == 409


def test_bulk_actions_skip_what_changed(client, make, anna, post):
    a, b, c = reader(post), reader(post), reader(post)
    service.approve(db.session.get(Comment, c.id), actor=moderator(make, name="ben", display_name="Ben"))
    # The page showed all three as pending; Ben approved c meanwhile.
    response = client.post("/moderation/bulk", data={"action": "spam",
                                                     "ids": [f"{a.id}:pending", f"{b.id}:pending", f"{c.id}:pending"]},
                           follow_redirects=True)
    assert (fresh(a).status, fresh(b).status, fresh(c).status) == ("spam", "spam", "approved")
    page = html(response)
    assert "2 Kommentare: als Spam markiert." in page and f"#{c.id}: " in page and "bereits freigegeben von Ben" in page
    assert client.post("/moderation/bulk", data={"action": "nuke", "ids": [str(a.id)]}).status_code == 400
    empty = client.post("/moderation/bulk", data={"action": "approve"}, follow_redirects=True)
    assert "Bitte wählen Sie mindestens einen Kommentar aus." in html(empty)


def test_staff_edit_keeps_the_original(client, anna, post):
    comment = reader(post, body="Meine Kundennummer ist 123456")
    client.post(f"/moderation/comments/{comment.id}/edit", data={"body": "Meine Kundennummer ist [entfernt]",
                                                                  "reason": "Kundennummer"})
    comment = fresh(comment)
    assert comment.body_md.endswith("[entfernt]") and comment.original_body_md.endswith("123456")
    assert "123456" in html(client.get(f"/moderation/comments/{comment.id}"))
    assert "edit" in events(comment)


def test_claims_are_soft_locks_that_lapse(client, app, make, anna, post):
    question = reader(post)
    ben = moderator(make, name="ben", display_name="Ben Kramer")
    assert service.claim(db.session.get(Comment, question.id), ben, minutes=5).ok
    result = client.post(f"/moderation/comments/{question.id}/claim", headers={"Accept": "application/json"}).json
    assert result == {"ok": False, "holder": "Ben Kramer"}
    assert "Ben Kramer antwortet" in html(client.get("/moderation/"))
    c = fresh(question)
    c.claimed_at = utcnow() - timedelta(minutes=6)
    db.session.commit()
    assert client.post(f"/moderation/comments/{question.id}/claim",
                       headers={"Accept": "application/json"}).json == {"ok": True, "holder": "Anna Seidel"}


def test_assign_escalate_and_notes(client, make, anna, post):
    question = reader(post, body="Router verliert nachts die Verbindung")
    ben = moderator(make, name="ben", display_name="Ben Kramer")
    client.post(f"/moderation/comments/{question.id}/assign", data={"assignee": str(ben.id)})
    assert fresh(question).assigned_to_id == ben.id
    assert client.post(f"/moderation/comments/{question.id}/assign", data={"assignee": "9999"}).status_code == 400
    client.post(f"/moderation/comments/{question.id}/escalate", data={"to": "Technik", "note": "Bitte Logs prüfen"})
    question = fresh(question)
    assert question.response_status == ResponseStatus.ESCALATED and question.escalated_to == "Technik"
    client.post(f"/moderation/comments/{question.id}/note", data={"body": "Kunde ruft morgen an"})
    notes = db.session.scalars(select(StaffNote.body).where(StaffNote.comment_id == question.id)).all()
    assert notes == ["Bitte Logs prüfen", "Kunde ruft morgen an"]
    assert "Router verliert" in html(client.get("/moderation/?view=escalated"))
    assert "Kunde ruft morgen an" not in html(client.get(f"/posts/{post.slug}"))
    assert client.post(f"/moderation/comments/{question.id}/escalate", data={"to": "", "note": ""}).status_code == 400


def test_response_status_and_topic(client, anna, post):
    comment = reader(post, status=A)
    client.post(f"/moderation/comments/{comment.id}/response-status", data={"response_status": "no_answer_needed"})
    client.post(f"/moderation/comments/{comment.id}/topic", data={"topic": "bug"})
    comment = fresh(comment)
    assert (comment.response_status, comment.topic) == ("no_answer_needed", "bug")
    assert client.post(f"/moderation/comments/{comment.id}/topic", data={"topic": "gossip"}).status_code == 400
    assert client.post(f"/moderation/comments/{comment.id}/response-status",
                       data={"response_status": "done"}).status_code == 400


def test_reader_reports_flag_and_hide_after_threshold(client, app, anna, post):
    comment = add_comment(post, body="Fragwürdig")
    reader_client = app.test_client()
    page = html(reader_client.get(f"/posts/{post.slug}/comments/{comment.id}/report"))
    assert "Kommentar melden" in page
    assert reader_client.post(f"/posts/{post.slug}/comments/{comment.id}/report", data={}).status_code == 400
    for _ in range(3):  # one reader reporting again and again counts once
        reader_client.post(f"/posts/{post.slug}/comments/{comment.id}/report", data={"reason": "offensive"})
    assert fresh(comment).flag_count == 1 and fresh(comment).status == A
    reader_client.post(f"/posts/{post.slug}/comments/{comment.id}/report", data={"reason": "offensive"},
                       environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert fresh(comment).flag_count == 2 and fresh(comment).status == A
    assert "Fragwürdig" in html(client.get("/moderation/?view=flagged"))
    reader_client.post(f"/posts/{post.slug}/comments/{comment.id}/report", data={"reason": "spam"},
                       environ_base={"REMOTE_ADDR": "10.0.0.3"})
    assert fresh(comment).status == P  # three different readers: hidden until someone looks
    assert "Fragwürdig" not in html(reader_client.get(f"/posts/{post.slug}"))
    client.post(f"/moderation/comments/{comment.id}/dismiss-reports")
    assert (fresh(comment).status, fresh(comment).flag_count) == (A, 0)
    assert "Fragwürdig" in html(reader_client.get(f"/posts/{post.slug}"))


def test_reports_never_hide_the_teams_answer(client, app, anna, post):
    answer = add_comment(post, body="Offizielle Auskunft", is_official=True, user_id=anna.id)
    for n in range(4):
        app.test_client().post(f"/posts/{post.slug}/comments/{answer.id}/report", data={"reason": "other"},
                               environ_base={"REMOTE_ADDR": f"10.0.1.{n}"})
    assert fresh(answer).status == A and fresh(answer).flag_count == 4


def hidden_by_reports(app, post, body="Grenzwertig"):
    comment = add_comment(post, body=body)
    for n in range(3):
        app.test_client().post(f"/posts/{post.slug}/comments/{comment.id}/report", data={"reason": "other"},
                               environ_base={"REMOTE_ADDR": f"10.0.2.{n}"})
    assert fresh(comment).status == P and events(comment)[-1] == "hide"
    return comment


def test_dismissing_reports_shows_what_they_hid_again(client, app, anna, post):
    comment = hidden_by_reports(app, post)
    client.post(f"/moderation/comments/{comment.id}/topic", data={"topic": "complaint"})
    client.post(f"/moderation/comments/{comment.id}/dismiss-reports")
    assert fresh(comment).status == A  # the topic in between is no decision: the "hide" is undone


@pytest.mark.parametrize("later, status", [
    (["reject"], CommentStatus.REJECTED),
    (["reject", "restore"], P),  # back in the queue by a moderator's choice: it waits for the team, not the reports
])
def test_dismissing_reports_does_not_undo_a_later_decision(client, app, anna, post, later, status):
    comment = hidden_by_reports(app, post)
    for action in later:
        client.post(f"/moderation/comments/{comment.id}/{action}", data={"expected": fresh(comment).status})
    assert fresh(comment).status == status
    client.post(f"/moderation/comments/{comment.id}/dismiss-reports")
    assert (fresh(comment).status, fresh(comment).flag_count) == (status, 0)
    assert events(comment)[-1] == "dismiss_reports" and "unhide" not in events(comment)


def test_no_answer_under_a_question_rejected_meanwhile(client, make, anna, post):
    question = reader(post, status=A)
    stale = db.session.get(Comment, question.id)
    db.session.execute(Comment.__table__.update().where(Comment.id == question.id).values(status="rejected"))
    db.session.commit()
    set_committed_value(stale, "status", "approved")
    with pytest.raises(service.AlreadyHandled):
        service.reply(stale, anna, "Zu spät", team_name="Team")
    assert db.session.scalar(select(func.count()).select_from(Comment).where(Comment.parent_id == question.id)) == 0


def test_filters_search_category_post_breaching_and_grouping(client, make, anna, post):
    other = make.post("Tarife 2027", category=make.category("Unternehmen"))
    reader(post, name="Ludwig", body="Glasfaser bitte", minutes_ago=500)
    reader(post, name="Mia", body="Nur kurz", minutes_ago=5)
    reader(other, name="Nora", body="Preise?", minutes_ago=30)
    assert "Nora" not in html(client.get("/moderation/?category=netz-und-technik"))
    assert "Nora" in html(client.get("/moderation/?post=tarife-2027"))
    found = html(client.get("/moderation/?q=glasfaser"))
    assert "Ludwig" in found and "Mia" not in found
    breaching = html(client.get("/moderation/?view=needs_answer&breaching=1"))
    assert "Ludwig" in breaching and "Mia" not in breaching and "Nora" not in breaching
    grouped = html(client.get("/moderation/?view=needs_answer&group=1"))
    # One group per post, each with its own count (the page header's total says "Leser·innen warten" too).
    assert '<span class="count">2 Leser·innen warten auf eine Antwort</span>' in grouped
    assert '<span class="count">1 Leser·in wartet auf eine Antwort</span>' in grouped
    for bad in ("?page=0", "?page=abc", "?page=9999", "?view=nonsense", "?q=%25_%5C", "?assigned=whoever"):
        assert client.get("/moderation/" + bad).status_code == 200


def test_business_hours_target(client, make, anna):
    cat = make.category("Recht & Politik")
    cat.business_hours_only, cat.response_target_minutes = True, 60
    db.session.commit()
    post = make.post("Recht", category=cat)
    reader(post, name="Wochenende", minutes_ago=70)
    page = html(client.get("/moderation/?view=needs_answer"))
    assert "Wochenende" in page


def test_queue_query_count_is_bounded(client, make, anna, post, count_queries):
    for _ in range(5):
        reader(post)
    with count_queries() as few:
        client.get("/moderation/")
    for i in range(120):
        reader(post, commit=False, email=f"p{i}@example.org")
    db.session.commit()
    with count_queries() as many:
        client.get("/moderation/")
    assert few.n == many.n, many.statements


def test_canned_responses_with_placeholders(client, anna, post):
    body = "Hallo {name}, danke für Ihren Kommentar zu „{post_title}“. – {team}"
    response = client.post("/moderation/canned", data={"title": "Störung", "lang": "de", "body_md": body})
    assert response.status_code == 302
    canned = db.session.scalar(select(CannedResponse))
    question = reader(post, name="Petra")
    page = html(client.get(f"/moderation/comments/{question.id}?canned={canned.id}"))
    assert "Hallo Petra, danke für Ihren Kommentar zu „Störungen erklärt“. – Sternwelle-Team" in page
    assert client.post("/moderation/canned", data={"title": "", "body_md": ""}).status_code == 400
    client.post(f"/moderation/canned/{canned.id}", data={"title": "Neu", "lang": "en", "body_md": "Hi {name}"})
    assert db.session.scalar(select(CannedResponse.title)) == "Neu"
    client.post(f"/moderation/canned/{canned.id}/delete")
    assert db.session.scalar(select(func.count()).select_from(CannedResponse)) == 0


def test_preview_uses_the_comment_pipeline(client, anna):
    result = client.post("/moderation/preview", data={"body": "**fett** <script>x</script>"}).json
    assert "<strong>fett</strong>" in result["html"] and "<script" not in result["html"]


def test_post_page_filters_answered_and_open_threads(client, anna, post):
    answered = reader(post, status=A, body="Beantwortete Frage")
    service.reply(db.session.get(Comment, answered.id), anna, "Antwort", team_name="Team")
    reader(post, status=A, body="Offene Frage")
    page = html(client.get(f"/posts/{post.slug}?show=answered"))
    assert "Beantwortete Frage" in page and "Offene Frage" not in page
    page = html(client.get(f"/posts/{post.slug}?show=open"))
    assert "Offene Frage" in page and "Beantwortete Frage" not in page
    assert client.get(f"/posts/{post.slug}?show=weird").status_code == 200


def test_detail_page_shows_audit_log(client, anna, post):
    comment = reader(post)
    client.post(f"/moderation/comments/{comment.id}/reject", data={"reason": "Beleidigung"})
    page = html(client.get(f"/moderation/comments/{comment.id}"))
    assert "Anna Seidel" in page and "abgelehnt (wartet → abgelehnt)" in page and "Beleidigung" in page


def test_needs_answer_view_says_the_rule(client, anna, post):
    """Which comments need an answer was nowhere to be read in the queue."""
    page = html(client.get("/moderation/?view=needs_answer"))
    assert "wenn er eine Frage stellt" in page and "funktioniert nicht" in page
    assert "wenn er eine Frage stellt" not in html(client.get("/moderation/"))


def test_detail_page_says_when_the_audit_log_is_empty(client, anna, post):
    """Imported or generated comments have no events yet: an empty box looked broken."""
    comment = reader(post)
    assert "Noch keine Einträge" in html(client.get(f"/moderation/comments/{comment.id}"))
    client.post(f"/moderation/comments/{comment.id}/reject", data={"reason": "Beleidigung"})
    assert "Noch keine Einträge" not in html(client.get(f"/moderation/comments/{comment.id}"))


def test_queue_search_uses_the_full_text_index_across_statuses(client, anna, post):
    from app.search import index

    pending = reader(post, body="Seit gestern gibt es Störungen im Festnetz")
    spam = reader(post, status=CommentStatus.SPAM, body="Störung? Billige Router hier")
    index.rebuild()
    page = html(client.get("/moderation/?q=St%C3%B6rung"))
    assert "Alle Kommentare zu „Störung“" in page
    panel = page[page.index('class="panel staff-search"'):]
    assert f"/moderation/comments/{pending.id}" in panel and f"/moderation/comments/{spam.id}" in panel


def test_similar_answers_fragment_for_the_queue(client, anna, post, make):
    from app.search import index

    earlier = reader(post, status=A, body="Mein Router verliert jede Nacht die WLAN Verbindung")
    service.reply(db.session.get(Comment, earlier.id), anna, "Bitte die Firmware aktualisieren.", team_name="Team")
    new = reader(post, body="Router verliert nachts WLAN Verbindung, was tun?")
    index.rebuild()
    fragment = html(client.get(f"/moderation/comments/{new.id}/similar"))
    assert "Ähnliche Fragen, die schon beantwortet sind" in fragment and "Firmware" in fragment
    assert 'data-similar-url="/moderation/comments/%d/similar"' % new.id in html(client.get("/moderation/"))
    assert client.get("/moderation/comments/99999/similar").status_code == 404
