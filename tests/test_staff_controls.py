"""Staff controls where staff read: the edit link and the comments switch on a post, the queue's
actions under each comment and the thread's pending comments, for moderators only."""
import re

import pytest
from sqlalchemy import select

from app.content.posts_admin import set_comments_open
from app.extensions import db
from app.models import AdminEvent, Comment, CommentStatus, Post, Role
from tests.comment_helpers import add_comment
from tests.moderation_helpers import login

SECRET = "Geheimer wartender Kommentar"


@pytest.fixture
def writer(make):
    return make.user("jana", role=Role.AUTHOR)


@pytest.fixture
def post(make, writer):
    return make.post("Glasfaser für alle", author=writer)


@pytest.fixture
def thread(post):
    question = add_comment(post, name="Petra", body="Wann kommt Glasfaser?")
    pending = add_comment(post, parent=question, name="Wartend", body=SECRET, status=CommentStatus.PENDING)
    lone = add_comment(post, name="Neu", body="Ein neuer Faden, noch nicht freigegeben.", status=CommentStatus.PENDING)
    return question, pending, lone


def signed_in(app, user):
    client = app.test_client()
    login(client, user)
    client.get("/language/en")
    return client


def page(client, post) -> str:
    response = client.get(f"/posts/{post.slug}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_readers_never_see_pending_comments_or_staff_controls(client, post, thread):
    html = page(client, post)
    assert SECRET not in html and "noch nicht freigegeben" not in html
    assert "staff-actions" not in html and "staff-tools" not in html and "/editor/" not in html
    assert "Wann kommt Glasfaser?" in html


def test_moderators_see_pending_comments_marked_in_place_with_the_queue_s_actions(app, make, post, thread):
    question, pending, lone = thread
    html = page(signed_in(app, make.user("anna", role=Role.MODERATOR)), post)
    assert SECRET in html and "noch nicht freigegeben" in html
    marked = re.search(rf'<article class="comment[^"]*is-staff-pending[^"]*" id="comment-{pending.id}"', html)
    assert marked, "the pending reply is marked"
    assert re.search(rf'is-staff-pending[^"]*" id="comment-{lone.id}"', html), "a pending thread of its own too"
    assert f'class="comment" id="comment-{question.id}"' in html  # the approved one is not
    # under the pending reply: approve, reject, spam (expected status and the way back), answer, the queue
    block = html[html.index(f'id="comment-{pending.id}"'):]
    block = block[:block.index("</article>")]
    for action in ("approve", "reject", "spam"):
        assert f'action="/moderation/comments/{pending.id}/{action}"' in block
    assert 'name="expected" value="pending"' in block
    assert f'name="next" value="/posts/{post.slug}#comment-{pending.id}"' in block
    assert f'href="/moderation/comments/{pending.id}#reply"' in block
    assert f"/moderation/?view=pending&amp;post={post.slug}#q-{pending.id}" in block
    # an approved comment: no "approve", the rest is there
    approved_block = html[html.index(f'id="comment-{question.id}"'):html.index(f'id="comment-{pending.id}"')]
    assert f"/comments/{question.id}/approve" not in approved_block
    assert f"/comments/{question.id}/reject" in approved_block
    assert "/editor/" not in html  # moderators do not edit posts


def test_a_moderator_approves_from_the_post_page_and_returns_to_the_comment(app, make, post, thread):
    _, pending, _ = thread
    mod = signed_in(app, make.user("anna", role=Role.MODERATOR))
    back = f"/posts/{post.slug}#comment-{pending.id}"
    response = mod.post(f"/moderation/comments/{pending.id}/approve",
                        data={"expected": "pending", "next": back})
    assert response.status_code == 302 and response.headers["Location"] == back
    db.session.expire_all()
    assert db.session.get(Comment, pending.id).status == CommentStatus.APPROVED
    assert SECRET in page(app.test_client(), post)
    # the same form again (another tab): nothing is done twice
    again = mod.post(f"/moderation/comments/{pending.id}/spam", data={"expected": "pending", "next": back})
    assert again.status_code == 302
    db.session.expire_all()
    assert db.session.get(Comment, pending.id).status == CommentStatus.APPROVED


@pytest.mark.parametrize("evil", ["https://evil.example/", "//evil.example/x", "/\\evil.example"])
def test_the_way_back_is_only_ever_a_local_path(app, make, post, thread, evil):
    _, pending, _ = thread
    mod = signed_in(app, make.user("anna", role=Role.MODERATOR))
    response = mod.post(f"/moderation/comments/{pending.id}/reject", data={"expected": "pending", "next": evil})
    assert "evil.example" not in response.headers["Location"]


def test_the_post_page_costs_moderators_the_same_queries_whatever_the_thread(app, make, count_queries):
    small, large = make.post("Klein"), make.post("Gross")
    for target, n in ((small, 5), (large, 300)):
        roots = []
        for i in range(n):
            parent = roots[i % len(roots)] if roots and i % 2 else None
            c = add_comment(target, parent=parent, commit=False, name=f"P{i}",
                            status=CommentStatus.PENDING if i % 3 else CommentStatus.APPROVED)
            if parent is None:
                roots.append(c)
        db.session.commit()
    mod = signed_in(app, make.user("anna", role=Role.MODERATOR))
    with count_queries() as few:
        html = page(mod, small)
    with count_queries() as many:
        page(mod, large)
    assert few.n == many.n, "\n".join(many.statements)
    assert html.count("is-staff-pending") == 3


def test_who_sees_the_edit_link(app, make, post, writer):
    edit = f'href="/editor/{post.id}"'
    assert edit in page(signed_in(app, writer), post)
    assert edit in page(signed_in(app, make.user("eddi", role=Role.EDITOR)), post)
    assert edit in page(signed_in(app, make.user("root", role=Role.ADMIN)), post)
    assert edit not in page(signed_in(app, make.user("other", role=Role.AUTHOR)), post)
    assert edit not in page(signed_in(app, make.user("anna", role=Role.MODERATOR)), post)
    assert edit not in page(app.test_client(), post)


def test_the_author_closes_and_opens_comments_from_the_post_page(app, make, post, writer):
    client = signed_in(app, writer)
    html = page(client, post)
    assert f'action="/posts/{post.id}/comments-open"' in html and 'id="comment-form-home"' in html
    response = client.post(f"/posts/{post.id}/comments-open", data={"open": "0", "next": f"/posts/{post.slug}"})
    assert response.status_code == 302 and response.headers["Location"] == f"/posts/{post.slug}"
    db.session.expire_all()
    assert db.session.get(Post, post.id).comments_open is False
    html = page(client, post)
    assert 'id="comment-form-home"' not in html and "Open comments" in html
    assert 'id="comment-form-home"' not in page(app.test_client(), post)
    event = db.session.scalar(select(AdminEvent).where(AdminEvent.action == "post.comments"))
    assert (event.subject, event.before, event.after, event.actor_id) == (
        post.slug, {"comments_open": True}, {"comments_open": False}, writer.id)
    client.post(f"/posts/{post.id}/comments-open", data={"open": "1"})
    db.session.expire_all()
    assert db.session.get(Post, post.id).comments_open is True


def test_the_post_page_switch_moves_the_version_so_an_older_editor_form_cannot_undo_it(app, post, writer):
    """Before: closing comments on the post page left the version, and saving an editor form opened
    earlier silently opened them again."""
    from app.models import PostRevision

    version = post.version
    client = signed_in(app, writer)
    client.post(f"/posts/{post.id}/comments-open", data={"open": "0"})
    db.session.expire_all()
    changed = db.session.get(Post, post.id)
    assert changed.version == version + 1 and changed.comments_open is False
    assert db.session.scalar(select(PostRevision).where(PostRevision.post_id == post.id)) is not None


def test_nobody_else_switches_comments(app, make, post):
    url = f"/posts/{post.id}/comments-open"
    other = signed_in(app, make.user("other", role=Role.AUTHOR))
    assert other.post(url, data={"open": "0", "next": "https://evil.example/"}).headers["Location"] \
        == f"/posts/{post.slug}#comments"
    assert signed_in(app, make.user("anna", role=Role.MODERATOR)).post(url, data={"open": "0"}).status_code == 403
    assert app.test_client().post(url, data={"open": "0"}).status_code == 302  # to the login page
    editor = signed_in(app, make.user("eddi", role=Role.EDITOR))
    assert editor.post(url, data={"open": "maybe"}).status_code == 400
    assert editor.post("/posts/999999/comments-open", data={"open": "0"}).status_code == 404
    db.session.expire_all()
    assert db.session.get(Post, post.id).comments_open is True


def test_the_shared_service_reports_whether_anything_changed(post, writer):
    assert set_comments_open(post, True, writer) is False  # already open: no event
    assert set_comments_open(post, False, writer) is True
    db.session.commit()
    assert db.session.scalar(select(AdminEvent.action)) == "post.comments"


def test_the_staff_post_page_is_valid_html(app, make, post, thread):
    from tests.test_html_validity import problems

    for user in (make.user("anna", role=Role.MODERATOR), make.user("root", role=Role.ADMIN)):
        assert problems(page(signed_in(app, user), post)) == []


def test_a_moderator_answers_a_pending_question_from_the_post_page(app, make, post, thread):
    """The answer box sits under the comment in the thread; the answer lands right there."""
    pending = thread[1]
    moderator = signed_in(app, make.user("anna", role=Role.MODERATOR, display_name="Anna Seidel"))
    html = page(moderator, post)
    box = re.search(rf'<form method="post" action="/moderation/comments/{pending.id}/reply">(.*?)</form>', html, re.S)
    assert box, "an answer box under the pending comment"
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', box.group(1)))
    assert fields["next"].startswith(f"/posts/{post.slug}") and fields["next"].endswith(f"#comment-{pending.id}")
    response = moderator.post(f"/moderation/comments/{pending.id}/reply",
                              data={**fields, "body": "Glasfaser kommt im Mai.", "as_team": "team"})
    assert response.status_code == 302 and response.headers["Location"].startswith(f"/posts/{post.slug}")
    db.session.expire_all()
    assert db.session.get(Comment, pending.id).status == CommentStatus.APPROVED
    answer = db.session.scalar(select(Comment).where(Comment.parent_id == pending.id))
    assert answer.is_official and "Glasfaser kommt im Mai." in page(app.test_client(), post)
    assert 'action="/moderation/comments/' not in page(app.test_client(), post)  # readers get no box
