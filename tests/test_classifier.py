"""The local classifier: training on the team's decisions, scoring at submit, the rule "classifier",
retraining through the drainer, the CLI, and what happens with too little data or a broken model."""
import logging
from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select

from app import outbox
from app.comments.policy import CommentPolicy, Submission
from app.demo import corpus
from app.extensions import db
from app.models import ClassifierModel, Comment, CommentStatus, ModerationEvent, Role, utcnow
from app.moderation import classifier
from tests.comment_helpers import post_comment
from tests.moderation_helpers import login

S = CommentStatus
ENGLISH = {"Accept-Language": "en"}
SPAM_TEXT = "Jetzt 500% Willkommensbonus sichern! Freispiele ohne Einzahlung: https://lucky-spins.example"
QUESTION = "Wann kommt Glasfaser 500 nach Kassel? Kann ich das auch ohne Festnetz buchen?"


@pytest.fixture(autouse=True)
def _fresh_models(app):
    classifier.forget()  # models are cached per process and database: each test starts without
    app.config.update(CLASSIFIER_RELOAD_SECONDS=0)
    yield
    classifier.forget()


@pytest.fixture
def staff(make):
    return make.user("anna", role=Role.MODERATOR, display_name="Anna Seidel")


def labelled(post, n=300, seed=5, *, decided_by=None, topics=True) -> int:
    """`n` reader comments from the demo corpus as the team decided them: spam marked spam, the rest
    approved with the topic set (one bulk insert; `decided_by` also writes their audit events)."""
    now = utcnow()
    rows = [{"post_id": post.id, "author_name": "Leser", "author_email": f"l{i}@example.org", "body_md": s.text,
             "body_html": f"<p>{s.text}</p>", "status": S.SPAM if s.spam else S.APPROVED,
             "status_reason": "new_author", "created_at": now - timedelta(hours=1), "moderated_at": now,
             "topic": s.topic if topics else None}
            for i, s in enumerate(corpus.generate(n, seed=seed))]
    ids = list(db.session.scalars(insert(Comment).returning(Comment.id), rows))
    if decided_by is not None:
        db.session.execute(insert(ModerationEvent), [
            {"comment_id": i, "actor_id": decided_by.id, "action": "spam" if r["status"] == S.SPAM else "approve",
             "at": now} for i, r in zip(ids, rows, strict=True)])
    db.session.commit()
    return len(ids)


# --- training -----------------------------------------------------------------------------------

def test_training_on_the_teams_decisions_stores_both_models_with_held_out_metrics(app, post):
    labelled(post, 300)
    result = classifier.train()
    assert result.ok and not result.too_little
    spam, topic = sorted(result.trained, key=lambda r: r.kind)
    assert (spam.kind, topic.kind) == ("spam", "topic")
    assert spam.samples == 300 and 150 < topic.samples < 250  # the topic model learns from non-spam only
    assert spam.metrics["held_out"] == 60  # a stratified 20 %
    assert spam.metrics["precision"] > 0.9 and spam.metrics["recall"] > 0.9 and "at_threshold" in spam.metrics
    assert topic.metrics["accuracy"] > 0.8 and set(topic.metrics["accuracy_per_topic"]) <= set(corpus.TOPICS)
    assert db.session.scalar(select(func.count()).select_from(ClassifierModel)) == 2

    scores = classifier.score(SPAM_TEXT)
    assert scores.spam > 0.9 and scores.topic is None  # spam gets no topic suggested
    scores = classifier.score(QUESTION)
    assert scores.spam < 0.5 and scores.topic == "question"
    assert classifier.score("x" * 200_000) is not None  # only the first MAX_CHARS are read


def test_rejected_counts_as_not_spam_and_staff_comments_are_left_out(app, post, make):
    labelled(post, 200)
    texts, is_spam = classifier._spam_examples()
    make_rejected = db.session.scalar(select(Comment).where(Comment.status == S.APPROVED).limit(1))
    make_rejected.status = S.REJECTED
    db.session.add(Comment(post_id=post.id, author_name="Team", author_email="t@example.org", body_md="Vom Team",
                           body_html="<p>Vom Team</p>", status=S.APPROVED, moderated_at=utcnow(),
                           user_id=make.user().id))
    db.session.add(Comment(post_id=post.id, author_name="Bot", author_email="b@example.org", body_md="Ungeprüft",
                           body_html="<p>x</p>", status=S.SPAM, status_reason="classifier"))  # nobody decided
    db.session.commit()
    again, spam_again = classifier._spam_examples()
    assert sorted(again) == sorted(texts) and sum(spam_again) == sum(is_spam)


def test_too_little_data_is_a_clear_message_and_stores_nothing(app, post):
    labelled(post, 30)
    result = classifier.train()
    assert not result.ok and result.trained == []
    assert "at least 20 of each are needed" in result.too_little["spam"]
    assert "at least 20 for each of two topics" in result.too_little["topic"]
    assert db.session.scalar(select(func.count()).select_from(ClassifierModel)) == 0
    assert classifier.score(QUESTION) is None
    with pytest.raises(classifier.TooLittleData):
        classifier.fit_spam(["a", "b"], [True, False])


def test_only_the_newest_models_are_kept(app, post):
    labelled(post, 120)
    for _ in range(classifier.KEEP_MODELS + 1):
        assert classifier.train().ok
    kinds = db.session.execute(select(ClassifierModel.kind, func.count()).group_by(ClassifierModel.kind)).all()
    assert dict(kinds) == {"spam": classifier.KEEP_MODELS, "topic": classifier.KEEP_MODELS}


# --- at submit ----------------------------------------------------------------------------------

def test_the_policy_sends_a_high_score_to_spam_after_the_blocklist_and_before_held_words():
    policy = CommentPolicy(min_seconds=0, spam_threshold=0.9, blocklist=("viagra",), held_words=("kündigung",))
    sure = Submission(text="Kündigung? Bonus hier", email="a@example.org", spam_score=0.95)
    assert (policy.decide(sure).status, policy.decide(sure).reason) == (S.SPAM, "classifier")
    assert policy.decide(Submission(text="viagra", email="a@example.org", spam_score=0.95)).reason == "blocklist"
    assert policy.decide(Submission(text="Kündigung", email="a@example.org", spam_score=0.5)).reason == "held_word"
    assert policy.decide(Submission(text="Hallo", email="a@example.org", spam_score=None)).reason == "new_author"
    assert CommentPolicy(min_seconds=0, spam_threshold=None).decide(sure).reason == "new_author"  # off
    assert CommentPolicy.from_config({"CLASSIFIER_SPAM_THRESHOLD": 0}).spam_threshold is None


def test_a_reader_comment_is_scored_and_a_spammy_one_lands_in_spam(app, client, post, staff):
    labelled(post, 300)
    classifier.train()
    assert post_comment(client, post.slug, body=QUESTION).status_code == 302
    assert post_comment(client, post.slug, body=SPAM_TEXT, email="bonus@example.net").status_code == 302
    question, spam = db.session.scalars(select(Comment).where(Comment.spam_score.is_not(None))
                                        .order_by(Comment.id)).all()
    assert question.status == S.PENDING and question.spam_score < 0.5 and question.suggested_topic == "question"
    assert question.topic is None  # a suggestion is not the team's topic
    assert spam.status == S.SPAM and spam.status_reason == "classifier" and spam.spam_score >= 0.9

    login(client, staff)
    html = client.get("/moderation/?view=spam", headers=ENGLISH).get_data(as_text=True)
    assert "spam score above the threshold" in html and "spam score " in html  # kept in the spam view
    page = client.get(f"/moderation/comments/{question.id}", headers=ENGLISH).get_data(as_text=True)
    assert "probably: Question" in page and "pill-suggested" in page
    german = client.get(f"/moderation/comments/{question.id}").get_data(as_text=True)
    assert "pill-suggested" in german

    assert post_comment(client, post.slug, body=SPAM_TEXT + " (vom Team)").status_code == 302
    staff_comment = db.session.scalar(select(Comment).where(Comment.user_id == staff.id))
    assert staff_comment.spam_score is None and staff_comment.status == S.APPROVED  # staff are not scored


def test_a_broken_model_never_blocks_a_comment(app, client, post, caplog):
    db.session.add(ClassifierModel(kind="spam", data=b"not a pickle", samples=1, metrics={}))
    db.session.commit()
    with caplog.at_level(logging.ERROR, logger="app.moderation.classifier"):
        assert classifier.score(QUESTION) is None
        assert post_comment(client, post.slug, body=QUESTION).status_code == 302
    assert "cannot be read" in caplog.text
    assert caplog.text.count("cannot be read") == 1  # logged once, not at every comment
    comment = db.session.scalar(select(Comment))
    assert comment.status == S.PENDING and comment.spam_score is None


def test_without_a_model_nothing_is_scored_and_sklearn_is_not_needed(app, client, post):
    assert classifier.score(QUESTION) is None
    assert post_comment(client, post.slug, body=QUESTION).status_code == 302
    assert db.session.scalar(select(Comment.spam_score)) is None


# --- retraining ---------------------------------------------------------------------------------

def test_the_drainer_retrains_after_every_n_team_decisions(app, post, staff):
    app.config.update(CLASSIFIER_RETRAIN_EVERY=150, CLASSIFIER_CHECK_SECONDS=0)
    labelled(post, 100, decided_by=staff)
    outbox.drain()
    assert db.session.scalar(select(func.count()).select_from(ClassifierModel)) == 0  # 100 < 150: not due
    labelled(post, 100, seed=6, decided_by=staff)
    outbox.drain()
    first = db.session.scalars(select(ClassifierModel).order_by(ClassifierModel.id)).all()
    assert {m.kind for m in first} == {"spam", "topic"} and first[0].decisions_seen == 200
    outbox.drain()  # nothing new decided: no training
    assert db.session.scalar(select(func.count()).select_from(ClassifierModel)) == 2
    labelled(post, 150, seed=7, decided_by=staff)
    outbox.drain()
    newest = db.session.scalar(select(ClassifierModel).order_by(ClassifierModel.id.desc()).limit(1))
    assert newest.samples > first[0].samples and newest.decisions_seen == 350


def test_retraining_is_looked_into_at_most_every_check_interval(app, post, staff):
    app.config.update(CLASSIFIER_RETRAIN_EVERY=10, CLASSIFIER_CHECK_SECONDS=3600)
    labelled(post, 100, decided_by=staff)
    assert classifier.retrain_if_due() is None  # the first look is an interval after the first call
    assert db.session.scalar(select(func.count()).select_from(ClassifierModel)) == 0
    assert classifier.retrain_if_due(force_check=True).ok


def test_one_training_at_a_time(app, post):
    labelled(post, 100)
    with classifier._exclusive() as mine:
        assert mine
        assert classifier.train().busy  # another training holds the lock
    assert classifier.train().ok


# --- the command --------------------------------------------------------------------------------

def test_train_command(app, runner, post):
    labelled(post, 10)
    result = runner.invoke(args=["moderation", "train"])
    assert result.exit_code == 1
    assert "Too little data: spam model: 3 spam and 7 other decided comments" in result.output
    labelled(post, 250, seed=8)
    result = runner.invoke(args=["moderation", "train"])
    assert result.exit_code == 0, result.output
    assert "spam model #" in result.output and "precision" in result.output and "macro-F1" in result.output
