"""The comment JSON API, the comment feed, and the demo/benchmark data commands."""
import xml.etree.ElementTree as ET
from datetime import datetime

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Comment, CommentStatus, Post, PostStatus
from tests.comment_helpers import add_comment

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def thread(make):
    post = make.post("Störungen erklärt")
    a = add_comment(post, name="Anna", body="Frage *eins*", email="anna@example.org")
    a1 = add_comment(post, parent=a, name="Bernd", body="Antwort auf eins")
    b = add_comment(post, name="Clara", body="Frage zwei")
    a2 = add_comment(post, parent=a1, name="Dora", body="Tiefer")
    add_comment(post, name="Spam", status=CommentStatus.SPAM, body="Werbung")
    add_comment(post, parent=b, name="Erik", status=CommentStatus.PENDING, body="Wartet")
    gone = add_comment(post, name="Weg", status=CommentStatus.DELETED, body="Gelöscht")
    add_comment(post, parent=gone, name="Fritz", body="Antwort auf Gelöschtes")
    return post, (a, a1, a2, b)


def test_api_returns_approved_comments_in_thread_order(client, thread):
    post, (a, a1, a2, b) = thread
    response = client.get(f"/api/v1/posts/{post.slug}/comments")
    assert response.status_code == 200 and response.content_type == "application/json"
    data = response.json
    assert data["post"] == post.slug and data["total"] == 5
    ids = [(c["id"], c["parent_id"], c["depth"]) for c in data["comments"]]
    assert ids[:4] == [(a.id, None, 0), (a1.id, a.id, 1), (a2.id, a1.id, 2), (b.id, None, 0)]
    first = data["comments"][0]
    assert first["author"] == "Anna" and first["html"] == "<p>Frage <em>eins</em></p>" and first["official"] is False
    datetime.fromisoformat(first["created_at"])
    assert set(first) == {"id", "parent_id", "depth", "author", "html", "created_at", "official"}
    placeholder = data["comments"][4]
    assert placeholder["removed"] is True and placeholder["html"] is None
    assert data["comments"][5]["parent_id"] == placeholder["id"]
    body = response.get_data(as_text=True)
    assert "Werbung" not in body and "Wartet" not in body and "Gelöscht" not in body
    assert "@example.org" not in body


@pytest.mark.parametrize("status", [PostStatus.DRAFT, PostStatus.SCHEDULED])
def test_api_404_json_for_unknown_or_unpublished(client, make, status):
    assert client.get("/api/v1/posts/gibt-es-nicht/comments").json["status"] == 404
    hidden = make.post("Versteckt", status=status, days_ago=-3)
    response = client.get(f"/api/v1/posts/{hidden.slug}/comments")
    assert response.status_code == 404 and response.json["error"] == "Not Found"


def test_comment_feed_lists_approved_comments(client, thread):
    post, (a, a1, a2, b) = thread
    response = client.get(f"/posts/{post.slug}/comments.atom")
    assert response.status_code == 200 and response.content_type.startswith("application/atom+xml")
    feed = ET.fromstring(response.data)
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 5
    assert entries[0].find(f"{ATOM}author/{ATOM}name").text == "Fritz"  # newest first
    assert entries[-1].find(f"{ATOM}id").text == f"http://localhost/posts/{post.slug}/comments/{a.id}"
    assert b"Werbung" not in response.data and b"example.org" not in response.data
    assert client.get("/posts/nope/comments.atom").status_code == 404


def test_demo_generate_is_deterministic_and_threaded(runner, app):
    result = runner.invoke(args=["demo", "generate", "--posts", "3", "--comments-per-post", "40", "--pending", "5",
                                 "--seed", "9"])
    assert result.exit_code == 0, result.output
    assert "Generated 3 posts and 120 comments (5 pending)" in result.output
    rows = db.session.execute(select(Comment.id, Comment.parent_id, Comment.root_id, Comment.depth,
                                     Comment.status, Comment.post_id, Comment.body_html)).all()
    by_id = {r.id: r for r in rows}
    replies = [r for r in rows if r.parent_id]
    assert 0.3 < len(replies) / len(rows) < 0.7  # about half are replies
    for r in replies:
        parent = by_id[r.parent_id]
        assert parent.post_id == r.post_id and r.depth == parent.depth + 1 and r.root_id == parent.root_id
        assert r.id > parent.id
    pending = [r for r in rows if r.status == "pending"]
    assert len(pending) == 5 and not any(r.parent_id in {p.id for p in pending} for r in rows)
    assert all(r.body_html.startswith("<p>") for r in rows)
    first = [(r.parent_id, r.body_html) for r in rows]
    # Same seed on a fresh database gives the same data.
    db.session.execute(Comment.__table__.delete())
    db.session.execute(db.text("DELETE FROM post_tags"))
    db.session.execute(Post.__table__.delete())
    db.session.commit()
    runner.invoke(args=["demo", "generate", "--posts", "3", "--comments-per-post", "40", "--pending", "5",
                        "--seed", "9"])
    again = db.session.execute(select(Comment.parent_id, Comment.body_html).order_by(Comment.id)).all()
    assert [r.body_html for r in again] == [b for _, b in first]


def test_demo_comments_fill_the_demo_posts_once(runner):
    runner.invoke(args=["demo", "accounts"])
    assert runner.invoke(args=["posts", "import"]).exit_code == 0
    result = runner.invoke(args=["demo", "comments"])
    assert result.exit_code == 0 and "Added" in result.output
    total = db.session.scalar(select(func.count()).select_from(Comment))
    assert total >= 60
    statuses = dict(db.session.execute(select(Comment.status, func.count()).group_by(Comment.status)).all())
    assert statuses["pending"] >= 5 and statuses["approved"] >= 40
    assert db.session.scalar(select(func.max(Comment.depth))) >= 3
    assert db.session.scalar(select(func.count()).select_from(Comment).where(Comment.user_id.is_not(None))) >= 10
    again = runner.invoke(args=["demo", "comments"])
    assert "exist already" in again.output
    assert db.session.scalar(select(func.count()).select_from(Comment)) == total
