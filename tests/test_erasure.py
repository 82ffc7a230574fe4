"""Erasure that leaves nothing on disk (database and WAL, outbox files, mails to others, search segments),
and IP hashes cleared after the retention period wherever they are stored."""
import email
import email.policy
import re
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from app import mail, markup
from app.comments import service as comments
from app.extensions import _tune_sqlite, db
from app.models import Comment, CommentRevision, CommentStatus, OutboxMail, Report, Role, Subscription, utcnow
from app.moderation import digest, service as moderation
from app.privacy import service as privacy
from app.search import index
from tests.comment_helpers import add_comment, post_comment
from tests.moderation_helpers import login

NAME = "Ximena Quarzfeld"
EMAIL = "ximena.quarzfeld@example.org"
WORD = "Quarzuhrzeiger"  # in none of the other texts, stemmed or not
# What must not be left anywhere: lower case, as Whoosh stores terms (stemmed: "quarzuhrzeig").
TRACES = ("ximena", "quarzfeld", EMAIL, "quarzuhrzeig")
OTTO = "otto@example.org"
EN = {"Accept-Language": "en"}
CONFIRM = re.compile(r"/subscriptions/confirm/[^\s]+")


def traces_on_disk(root: Path) -> dict[str, list[str]]:
    """Every file under `root` (bytes, recursively) that holds one of TRACES, with what it holds.

    Mail files are also read decoded: a body may be quoted-printable or base64 on disk.
    """
    found = {}
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        data = path.read_bytes()
        texts = [data.decode("utf-8", "replace").lower()]
        if path.suffix == ".eml":
            message = email.message_from_bytes(data, policy=email.policy.default)
            texts += [str(value).lower() for value in message.values()] + [message.get_content().lower()]
        hits = [t for t in TRACES if any(t in each for each in texts)]
        if hits:
            found[str(path.relative_to(root))] = hits
    return found


@pytest.fixture
def search_app(app):
    # These tests look into the index files for the erased words (tests/test_search_postgresql.py
    # checks the PostgreSQL backend's erasure), so they search with Whoosh on either database.
    app.config["SEARCH_BACKEND"] = "whoosh"
    app.config["SEARCH_REBUILD_PROCESSES"] = 1  # tiny indexes: forking writer processes costs more than it saves
    yield app
    index.close()


@pytest.fixture
def mod(make):
    user = make.user("mod", role=Role.MODERATOR, display_name="Mona Moderator")
    user.digest = "hourly"
    db.session.commit()
    return user


@pytest.fixture
def story(search_app, client, make, mod, dead_port):
    """Ximena's comments and what they caused, each step as the app does it, with the index built.

    - She answers Otto (who subscribed): approved, Otto is told in a mail quoting her (a file in
      the outbox), she gets her own confirmation mail and confirms.
    - Bea answers her: Ximena is told.
    - She asks a question that is still pending: it is in the staff index and in the moderator's
      digest (next to Carla's, which must stay).
    - She answers Otto again while the mail server is down: the mail to Otto is still unsent.
    """
    post = make.post("Uhren und Zeit")
    otto = add_comment(post, name="Otto Ohnesorg", email=OTTO, body="Meine Wanduhr geht jeden Tag nach.")
    db.session.add(Subscription(email=OTTO, comment_id=otto.id, lang="en", confirmed_at=utcnow(),
                                confirmation_sent_at=utcnow()))
    db.session.commit()
    index.rebuild()

    body = f"Bei mir half ein neuer {WORD} aus dem Fachhandel."
    sent = post_comment(client, post.slug, name=NAME, email=EMAIL, body=body, parent_id=str(otto.id), notify="y")
    assert sent.status_code == 302
    answer = db.session.scalar(select(Comment).where(Comment.body_md == body))
    assert answer.status == CommentStatus.PENDING
    moderation.approve(answer, actor=mod)
    [own] = db.session.scalars(select(OutboxMail).where(OutboxMail.to == EMAIL)).all()
    assert client.post(CONFIRM.search(own.body).group(0)).status_code == 200

    bea = add_comment(post, parent=answer, status=CommentStatus.PENDING, name="Bea Brandt", email="bea@example.org",
                      body="Danke, das probiere ich.")
    moderation.approve(bea, actor=mod)

    question = add_comment(post, status=CommentStatus.PENDING, name=NAME, email=EMAIL, minutes_ago=5,
                           body=f"Wo bekommt man einen {WORD} für eine alte Kienzle?")
    carla = add_comment(post, status=CommentStatus.PENDING, name="Carla Conradi", email="carla@example.org",
                        minutes_ago=4, body="Gibt es das Modell noch?")
    index.refresh(comments=[question.id, carla.id])  # as submitting through the form does
    assert [o.status for o in digest.run()] == ["sent"]

    late = add_comment(post, parent=otto, status=CommentStatus.PENDING, name=NAME, email=EMAIL, minutes_ago=1,
                       body=f"Noch ein Tipp: den {WORD} nie ölen.")
    search_app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=dead_port)
    moderation.approve(late, actor=mod)
    search_app.config["MAIL_SERVER"] = None
    # Her published answer was edited: an earlier version is kept, and a later edit awaits review.
    db.session.add(CommentRevision(comment_id=answer.id, body_md=f"Erste Fassung mit {WORD}"))
    answer.pending_body_md = f"Nachtrag zum {WORD}"
    answer.pending_body_html = markup.render_comment(answer.pending_body_md)
    answer.pending_since = utcnow()
    db.session.commit()
    return {"post": post, "otto": otto, "answer": answer, "bea": bea, "question": question, "carla": carla,
            "late": late}


def mails() -> list[OutboxMail]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMail).order_by(OutboxMail.id)))


def erase(client, mod):
    login(client, mod)
    response = client.post("/moderation/privacy/erase", data={"email": EMAIL, "confirm": EMAIL}, headers=EN)
    assert response.status_code == 302, response.get_data(as_text=True)


# --- nothing left on disk -------------------------------------------------------------------------

@pytest.mark.embedded  # the files of the embedded default (PostgreSQL keeps old row versions until VACUUM)
def test_erasure_leaves_no_trace_in_any_file_under_the_data_dir(search_app, client, mod, story):
    data_dir = Path(search_app.config["DATA_DIR"])
    slug = story["post"].slug
    otto_id, bea_id, carla_id = (story[key].id for key in ("otto", "bea", "carla"))
    before = traces_on_disk(data_dir)
    assert index.staff_search(WORD).total == 3  # answered, pending and the late one
    assert any(p.startswith("outbox/") for p in before) and any(p.startswith("search/") for p in before)
    assert any(p.startswith("dialog.db") for p in before)
    erase(client, mod)
    index.close()
    db.session.remove()
    left = traces_on_disk(data_dir)
    assert left == {}, "\n".join(f"{path}: {hits}" for path, hits in left.items())
    # What is not hers is still there: the thread, Otto's and Carla's words, the index works.
    page = search_app.test_client().get(f"/posts/{slug}", headers=EN).get_data(as_text=True)
    assert "Meine Wanduhr geht jeden Tag nach." in page and "Danke, das probiere ich." in page
    assert {h.id for h in index.search("Wanduhr").hits} == {otto_id}
    assert {h.id for h in index.staff_search("probiere").hits} == {bea_id}
    assert {h.id for h in index.staff_search("Modell").hits} == {carla_id}  # pending, like hers
    assert index.search(WORD).total == 0 and index.staff_search(WORD).total == 0


def test_notification_mails_record_the_comment_they_are_about(story):
    about = {(m.to, m.comment_id) for m in mails() if m.comment_id}
    assert (OTTO, story["answer"].id) in about and (OTTO, story["late"].id) in about
    assert (EMAIL, story["answer"].id) in about and (EMAIL, story["bea"].id) in about


def test_mails_to_others_about_her_comments_lose_her_words(search_app, client, mod, story):
    outbox = mail.outbox_dir()
    to_otto = {m.comment_id: m for m in mails() if m.to == OTTO}
    sent, unsent = to_otto[story["answer"].id], to_otto[story["late"].id]
    assert sent.sent_at is not None and unsent.sent_at is None and NAME in sent.body and WORD in unsent.body
    sent_id, unsent_id, subject = sent.id, unsent.id, sent.subject
    assert list(outbox.glob(f"*.outbox-{sent_id}@*.eml"))
    erase(client, mod)

    after = {m.id: m for m in mails()}
    assert unsent_id not in after  # a notice about a comment that is gone is not sent any more
    kept = after[sent_id]
    assert (kept.to, kept.subject, kept.body) == (OTTO, subject, "[erased]") and kept.sent_at is not None
    assert not list(outbox.glob(f"*.outbox-{sent_id}@*.eml"))
    assert [m.to for m in after.values() if m.to == EMAIL] == []
    [moderator_digest] = [m for m in after.values() if m.to == mod.email]
    assert NAME not in moderator_digest.body and WORD not in moderator_digest.body
    assert "Carla Conradi" in moderator_digest.body and "Gibt es das Modell noch?" in moderator_digest.body
    assert f"/comments/{story['question'].id}" not in moderator_digest.body


def test_digest_items_about_erased_comments_are_cut_out_and_nothing_else():
    body = ("Hello Mona,\n\n2 new comments await moderation:\n\n"
            "- Ximena on “Uhren”, 1/1/27\n  Ein Text\n  https://b.example/moderation/comments/7\n\n"
            "- Carla on “Uhren”, 1/1/27\n  Anderer Text\n  https://b.example/moderation/comments/71\n\n--\nfooter\n")
    from app.privacy import mails as erasure_mail

    cut = erasure_mail.without_items(body, [7])
    assert "Ximena" not in cut and "Ein Text" not in cut and "/comments/7\n" not in cut
    assert "Carla on “Uhren”" in cut and "/comments/71" in cut and cut.endswith("--\nfooter\n")
    assert erasure_mail.without_items("Text with https://b.example/posts/x/comments/7 only", [7]) is None


def test_the_search_index_files_are_rewritten_only_where_she_was(search_app, make):
    post = make.post("Segmente")
    hers = add_comment(post, name=NAME, email=EMAIL, body=f"Ein {WORD} im Segment.")
    index.rebuild()
    other = add_comment(post, name="Otto", email=OTTO, body="Ein Pendel im eigenen Segment.")
    index.refresh(comments=[other.id])
    root = index.location()
    segments = {p.name: p.stat().st_mtime_ns for p in root.rglob("*.seg")}
    hers.body_md = hers.body_html = ""
    hers.author_name = "Gelöscht"
    db.session.commit()
    index.refresh(comments=[hers.id])
    assert traces_on_disk(root) != {}  # Whoosh only marked the old document deleted
    assert index.purge([hers.id]) is True
    index.refresh(comments=[hers.id])
    assert traces_on_disk(root) == {}
    assert {h.id for h in index.search("Pendel").hits} == {other.id}
    after = {p.name: p.stat().st_mtime_ns for p in root.rglob("*.seg")}
    assert set(segments) & set(after), "segments without her documents are left as they were"


@pytest.mark.embedded
def test_sqlite_overwrites_deleted_content(app):
    assert db.session.execute(text("PRAGMA secure_delete")).scalar() == 1
    # Some builds (Debian's) have it on by default, others (python.org, macOS) not: it must not depend on that.
    raw = sqlite3.connect(":memory:")
    raw.execute("PRAGMA secure_delete=OFF")
    _tune_sqlite(raw, None)
    assert raw.execute("PRAGMA secure_delete").fetchone() == (1,)
    raw.close()


def test_erasure_checkpoints_the_wal(search_app, client, mod, story):
    client.drain = False  # later writes (other mail going out) may fill the log again; this is about the erasure
    erase(client, mod)
    wal = Path(search_app.config["DATA_DIR"]) / "dialog.db-wal"
    assert not wal.exists() or wal.stat().st_size == 0


def test_erasure_reports_the_mails_to_others(search_app, mod, story):
    result = privacy.erase(EMAIL, mod)
    assert result.mails == 2  # to her: the confirmation, Bea's reply
    assert result.notifications == 3  # Otto's two, the digest


# --- IP hashes after the retention period ---------------------------------------------------------

def test_anonymize_clears_the_ip_hashes_of_comments_and_reports(runner, make):
    post = make.post("Alt und neu")
    month = 31 * 24 * 60
    old = add_comment(post, ip_hash="a" * 64, minutes_ago=month)
    new = add_comment(post, ip_hash="b" * 64, minutes_ago=60)
    db.session.add_all([Report(comment_id=new.id, reason="spam", ip_hash="c" * 64,
                               created_at=utcnow() - timedelta(minutes=month)),
                        Report(comment_id=old.id, reason="spam", ip_hash="d" * 64,
                               created_at=utcnow() - timedelta(minutes=60))])
    db.session.commit()
    result = runner.invoke(args=["comments", "anonymize"])
    assert result.exit_code == 0, result.output
    assert "Cleared the IP hash of 1 comment(s) older than 30 days." in result.output
    assert "Cleared the IP hash of 1 report(s) older than 30 days." in result.output
    db.session.expire_all()
    assert {c.ip_hash for c in db.session.scalars(select(Comment))} == {None, "b" * 64}
    assert {r.ip_hash for r in db.session.scalars(select(Report))} == {None, "d" * 64}


def test_anonymize_counts_what_it_cleared(app, make):
    post = make.post("Zählen")
    add_comment(post, ip_hash="a" * 64, minutes_ago=120)
    db.session.add(Report(comment_id=add_comment(post).id, reason="spam", ip_hash="c" * 64,
                          created_at=utcnow() - timedelta(minutes=120)))
    db.session.commit()
    assert comments.anonymize(utcnow() - timedelta(minutes=60)) == (1, 1)
    assert comments.anonymize(utcnow()) == (0, 0)


def test_what_others_wrote_about_her_comments_goes_too(search_app, client, mod, make):
    """Review of the fix, finding 6: the team greets her by name, notes and reports quote her."""
    from app.moderation import service as moderation_service

    post = make.post("Uhrenpflege")
    hers = add_comment(post, status=CommentStatus.PENDING, name=NAME, email=EMAIL,
                       body=f"Mein {WORD} klemmt seit Montag.")
    moderation_service.reply(hers, mod, f"Hallo {NAME}, danke für den Hinweis zum Uhrwerk!", team_name="Team")
    moderation_service.add_note(hers, mod, f"{NAME} schreibt: {WORD} klemmt")
    moderation_service.escalate(db.session.get(Comment, hers.id), mod, "Technik", f"{NAME}: {WORD} prüfen")
    moderation_service.report(db.session.get(Comment, hers.id), reason="spam", details=f"{NAME} wirbt für {WORD}",
                              ip_hash="abc", hide_after=0)
    index.rebuild()
    assert index.search("Quarzfeld").total or index.staff_search("Quarzfeld").total
    erase(client, mod)
    index.close()
    db.session.remove()
    assert traces_on_disk(Path(search_app.config["DATA_DIR"])) == {}
    assert index.search("Quarzfeld").total == 0 and index.staff_search("Quarzfeld").total == 0
    answer = db.session.scalar(select(Comment).where(Comment.is_official.is_(True)))
    assert answer.body_md == "Hallo Gelöscht, danke für den Hinweis zum Uhrwerk!"
