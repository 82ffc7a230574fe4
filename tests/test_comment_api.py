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


def _ids(data) -> list[int]:
    return [c["id"] for c in data["comments"]]


@pytest.fixture
def many(make):
    """Twelve threads of one comment and two replies each; hidden threads in between count for nothing."""
    post = make.post("Viele Fragen")
    roots = []
    for n in range(12):
        root = add_comment(post, name=f"Leser {n}", body=f"Frage {n}", commit=False)
        reply = add_comment(post, parent=root, name="Antwort", body=f"Antwort {n}", commit=False)
        add_comment(post, parent=reply, name="Nachfrage", body=f"Danke {n}", commit=False)
        add_comment(post, name="Wartet", status=CommentStatus.PENDING, body=f"Wartet {n}", commit=False)
        roots.append(root)
    db.session.commit()
    return post, roots


def test_api_pages_whole_threads_with_links(client, many):
    post, roots = many
    url = f"/api/v1/posts/{post.slug}/comments"
    first = client.get(url, query_string={"per_page": 5}).json
    assert (first["page"], first["per_page"], first["pages"], first["total"], first["threads"]) == (1, 5, 3, 36, 12)
    assert [c["id"] for c in first["comments"] if c["parent_id"] is None] == [r.id for r in roots[:5]]
    assert len(first["comments"]) == 15  # whole threads: each root with both replies
    links = first["links"]
    assert links["prev"] is None and links["first"] == f"http://localhost{url}?page=1&per_page=5&order=oldest"
    assert links["next"] == f"http://localhost{url}?page=2&per_page=5&order=oldest"
    assert links["last"].endswith("?page=3&per_page=5&order=oldest")
    assert links["self"].endswith("?page=1&per_page=5&order=oldest")
    last = client.get(links["last"]).json
    assert last["page"] == 3 and last["links"]["next"] is None
    assert last["links"]["prev"].endswith("?page=2&per_page=5&order=oldest")
    assert [c["id"] for c in last["comments"] if c["parent_id"] is None] == [r.id for r in roots[10:]]
    pages = [client.get(url, query_string={"per_page": 5, "page": n}).json for n in (1, 2, 3)]
    seen = [i for p in pages for i in _ids(p)]
    assert len(seen) == len(set(seen)) == 36
    assert "Wartet" not in str(pages)


def test_api_newest_threads_first(client, many):
    post, roots = many
    data = client.get(f"/api/v1/posts/{post.slug}/comments?order=newest&per_page=2").json
    assert data["order"] == "newest" and data["pages"] == 6
    assert [c["id"] for c in data["comments"] if c["parent_id"] is None] == [roots[11].id, roots[10].id]
    assert [c["depth"] for c in data["comments"]] == [0, 1, 2, 0, 1, 2]  # replies still follow their comment
    assert data["links"]["next"].endswith("page=2&per_page=2&order=newest")


def test_api_default_page_size_is_bounded(client, make):
    post = make.post("Sehr viele Fragen")
    for n in range(130):
        add_comment(post, body=f"Frage {n}", commit=False)
    db.session.commit()
    default = client.get(f"/api/v1/posts/{post.slug}/comments").json
    assert (default["per_page"], len(default["comments"]), default["pages"]) == (20, 20, 7)
    biggest = client.get(f"/api/v1/posts/{post.slug}/comments?per_page=100").json
    assert len(biggest["comments"]) == 100 and biggest["total"] == 130


def test_api_statements_per_page_do_not_grow_with_the_thread(client, make, count_queries):
    small, big = make.post("Klein"), make.post("Gross")
    add_comment(small, body="Eins")
    for n in range(40):
        root = add_comment(big, body=f"Frage {n}", commit=False)
        parent = root
        for depth in range(4):
            parent = add_comment(big, parent=parent, body=f"Antwort {n}.{depth}", commit=False)
    gone = add_comment(big, body="Weg", status=CommentStatus.DELETED, commit=False)
    add_comment(big, parent=gone, body="Antwort auf Gelöschtes", commit=False)
    db.session.commit()
    counts = {}
    for slug, query in [(small.slug, ""), (big.slug, ""), (big.slug, "?per_page=100"),
                        (big.slug, "?page=2&order=newest")]:
        with count_queries() as counter:
            response = client.get(f"/api/v1/posts/{slug}/comments{query}")
        assert response.status_code == 200 and response.json["comments"]
        # the test client runs the outbox drainer after each request; that is not the page's work
        counts[(slug, query)] = len([s for s in counter.statements if "outbox_" not in s])
    # the post with author and category (1), the page's roots with the counts, their comments (2), and
    # for the page cache that stores the answer: when the next scheduled post comes due (1)
    assert set(counts.values()) == {4}, counts


@pytest.mark.parametrize("query, word", [
    ("page=0", "page"), ("page=abc", "page"), ("page=-1", "page"), ("page=1.5", "page"), ("page=%C2%B2", "page"),
    ("page=99999999999", "page"), ("per_page=0", "per_page"), ("per_page=101", "per_page"),
    ("per_page=zehn", "per_page"), ("order=sideways", "order"),
])
def test_api_refuses_bad_parameters_in_json(client, thread, query, word):
    post, _ = thread
    response = client.get(f"/api/v1/posts/{post.slug}/comments?{query}")
    assert response.status_code == 400 and response.content_type == "application/json"
    assert response.json["status"] == 400 and f"'{word}'" in response.json["message"]


def test_api_a_page_past_the_end_is_not_found(client, thread):
    post, _ = thread
    response = client.get(f"/api/v1/posts/{post.slug}/comments?page=2")
    assert response.status_code == 404 and response.json["error"] == "Not Found"
    assert "1 page(s)" in response.json["message"]


@pytest.mark.parametrize("path", ["/api/", "/api/v1", "/api/v2/posts/x/comments", "/api/v1/posts",
                                  "/api/v1/posts/x/comments/1", "/api/%E2%9C%93"])
def test_api_unknown_paths_answer_json(client, path):
    response = client.get(path)
    assert response.status_code == 404 and response.content_type == "application/json", path
    assert response.json == {"error": "Not Found", "status": 404, "message": response.json["message"]}
    assert response.headers["X-Content-Type-Options"] == "nosniff"  # the site's headers are still added


def test_api_wrong_method_answers_json_with_allow(client, thread):
    post, _ = thread
    for method in ("post", "put", "delete"):
        response = getattr(client, method)(f"/api/v1/posts/{post.slug}/comments")
        assert response.status_code == 405 and response.content_type == "application/json", method
        assert response.json["status"] == 405 and "GET" in response.headers["Allow"]


def test_other_paths_keep_the_html_error_page(client):
    for path in ("/apiary", "/nope"):
        response = client.get(path)
        assert response.status_code == 404 and response.content_type.startswith("text/html"), path


def test_api_shows_no_addresses_ip_hashes_or_hidden_text(client, make):
    post = make.post("Privat")
    add_comment(post, name="Anna", email="anna.geheim@example.org", ip_hash="f00dfeed" * 8,
                author_url="https://anna.example.net")
    add_comment(post, name="Bodo", email="bodo@example.net", ip_hash="cafebabe" * 8, status=CommentStatus.PENDING,
                body="Bitte nicht zeigen")
    body = client.get(f"/api/v1/posts/{post.slug}/comments").get_data(as_text=True)
    assert "Anna" in body
    for secret in ("anna.geheim", "@example", "f00dfeed", "cafebabe", "Bodo", "Bitte nicht zeigen", "pending",
                   "ip_hash", "email"):
        assert secret not in body, secret


def test_comment_feed_lists_approved_comments(client, thread):
    post, (a, *_) = thread
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
