"""End to end through the test client and a real SMTP server: a reader asks, the team answers in public."""
import re
from urllib.parse import urlsplit

from sqlalchemy import select

from app.extensions import db
from app.models import Comment, ModerationEvent, Role


def test_reader_question_to_official_answer(app, make, smtp, runner):
    post = make.post("Wenn es hakt: Störungen melden", days_ago=2, category=make.category("Netz & Technik"))
    anna = make.user("anna", role=Role.MODERATOR, display_name="Anna Seidel", password="ein gutes Passwort")

    # A reader asks and wants to hear back.
    reader = app.test_client()
    response = reader.post(f"/posts/{post.slug}/comments", data={
        "name": "Petra Lindqvist", "email": "petra@example.org", "consent": "y", "notify": "y",
        "body": "Bei mir in 24xxx ist seit heute früh das Internet weg. Ist das bekannt?"})
    assert response.status_code == 302
    question = db.session.scalar(select(Comment))
    assert question.status == "pending" and question.response_status == "needs_answer"
    assert smtp.received == []  # nothing is mailed about a comment before it is approved

    # The moderator signs in through the real form and finds it in the queue.
    staff = app.test_client()
    login = staff.post("/login", data={"username": "anna", "password": "ein gutes Passwort", "next": "/moderation/"})
    assert login.status_code == 302 and login.headers["Location"] == "/moderation/"
    queue = staff.get("/moderation/").get_data(as_text=True)
    assert "Bei mir in 24xxx" in queue and "petra@example.org" in queue

    # Approve and answer in one step, as the team.
    answer = staff.post(f"/moderation/comments/{question.id}/reply", data={
        "body": "Hallo Frau Lindqvist, ja: ein Glasfaserkabel wurde bei Bauarbeiten beschädigt. "
                "Unsere Technik ist vor Ort, wir rechnen mit 14 Uhr. – AS",
        "as_team": "team", "expect_unanswered": "1"})
    assert answer.status_code == 302

    # Readers see the question and the highlighted official answer.
    page = app.test_client().get(f"/posts/{post.slug}").get_data(as_text=True)
    assert "Bei mir in 24xxx" in page and "Offizielle Antwort" in page and "is-official" in page
    assert "petra@example.org" not in page

    # The reader's mail: her comment is published (with the opt-in link) …
    assert len(smtp.received) == 1
    first = smtp.received[0]
    assert first.to == "petra@example.org" and "veröffentlicht" in first.subject
    confirm = re.search(r"https?://\S+/subscriptions/confirm/\S+", first.body).group(0)
    assert confirm.startswith("http://127.0.0.1:5000/")  # mails use BLOG_SITE_URL, never the request's Host
    path = urlsplit(confirm).path
    assert reader.post(path).status_code == 200  # she confirms

    # … and after a follow-up answer the mail says the team answered.
    staff.post(f"/moderation/comments/{question.id}/reply", data={
        "body": "Nachtrag: Die Leitung läuft wieder. – AS", "expect_unanswered": ""})
    team_mail = smtp.received[-1]
    assert team_mail.to == "petra@example.org"
    assert "Sternwelle-Team hat auf Ihren Kommentar" in team_mail.subject
    assert "Die Leitung läuft wieder" in team_mail.body and "/subscriptions/unsubscribe/" in team_mail.body

    # The audit log shows both steps, by Anna.
    actions = db.session.execute(select(ModerationEvent.action, ModerationEvent.actor_id)
                                 .where(ModerationEvent.comment_id == question.id)
                                 .order_by(ModerationEvent.id)).all()
    assert [a for a, _ in actions] == ["submit", "approve", "reply", "reply"]
    assert {actor for a, actor in actions if a != "submit"} == {anna.id}
    detail = staff.get(f"/moderation/comments/{question.id}").get_data(as_text=True)
    assert "freigegeben (wartet → freigegeben)" in detail and "offiziell beantwortet" in detail
    assert "Anna Seidel" in detail

    # Response time is on record for the stats.
    db.session.expire_all()
    question = db.session.get(Comment, question.id)
    assert question.answered_at is not None and question.moderated_at is not None
    assert question.answered_at >= question.created_at


def test_mail_links_never_use_the_requests_host(app, make, smtp):
    from app.models import Subscription, utcnow
    from tests.comment_helpers import add_comment, wrote

    post = make.post("Host-Test")
    parent = add_comment(post, email="petra@example.org")
    earlier = add_comment(post, email="ben@example.org")  # Ben is trusted: his reply is published at once
    db.session.add(Subscription(email="petra@example.org", comment_id=parent.id, confirmed_at=utcnow()))
    db.session.commit()
    app.config["TRUSTED_HOSTS"] = []  # answer any Host, to show mails ignore it even then
    ben = app.test_client()
    wrote(ben, app, earlier)
    ben.set_cookie("dialog_reader", ben.get_cookie("dialog_reader").value, domain="evil.example")
    response = ben.post(f"/posts/{post.slug}/comments", base_url="http://evil.example", data={
        "name": "Ben", "email": "ben@example.org", "body": "Antwort", "consent": "y", "parent_id": str(parent.id)})
    assert response.status_code == 302
    (mail,) = smtp.received
    assert "evil.example" not in mail.body and "evil.example" not in str(mail.message["List-Unsubscribe"])
    assert "http://127.0.0.1:5000/" in mail.body


def test_staff_addresses_are_not_for_readers(app, make):
    make.user("anna", role=Role.MODERATOR, display_name="Anna Seidel")
    post = make.post("Vertrauen")
    response = app.test_client().post(f"/posts/{post.slug}/comments", data={
        "name": "Anna vom Team", "email": "ANNA@example.org", "body": "Alles gut!", "consent": "y"})
    assert response.status_code == 400
    assert "Diese Adresse gehört zu unserem Team" in response.get_data(as_text=True)
    assert db.session.scalar(select(Comment)) is None
