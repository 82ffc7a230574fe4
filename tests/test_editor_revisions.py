"""Revisions: one per save, diffs between any two (escaped), restore as a new revision, the optimistic lock."""
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.content import editing
from app.extensions import db
from app.models import Post, PostRevision, Role, utcnow
from tests.moderation_helpers import login

SETTINGS = editing.Settings(tz=ZoneInfo("Europe/Berlin"))


@pytest.fixture
def writer(make):
    return make.user("jana", role=Role.AUTHOR, display_name="Jana Berger")


def write(user, body, *, post=None, title="Ein Beitrag", **fields):
    data = editing.PostInput(title=title, body_md=body, **fields)
    post = editing.get_post(post.id) if post is not None else None  # as a request loads it
    return editing.save(user, data, SETTINGS, now=utcnow(), post=post,
                        loaded_version=post.version if post is not None else None)


def history(post):
    return db.session.scalars(select(PostRevision).where(PostRevision.post_id == post.id)
                              .order_by(PostRevision.id)).all()


def test_every_save_keeps_a_revision_with_author_time_and_version(app, writer):
    post = write(writer, "Eins.")
    post = write(writer, "Zwei.", post=post)
    post = write(writer, "Drei.", post=post, tags=["Netz"])
    revisions = history(post)
    assert [(r.version, r.body_md, r.source) for r in revisions] == [
        (1, "Eins.", "editor"), (2, "Zwei.", "editor"), (3, "Drei.", "editor")]
    assert {r.author_id for r in revisions} == {writer.id}
    assert all(r.created_at is not None for r in revisions)
    assert revisions[-1].meta["tags"] == ["Netz"] and revisions[-1].meta["status"] == "draft"
    assert post.version == 3


def test_two_saves_from_the_same_version_do_not_both_win(app, writer, make):
    post = write(writer, "Anfang.")
    other = make.user("erik", role=Role.EDITOR)
    write(other, "Eriks Fassung.", post=post)  # version 1 → 2
    stale_input = editing.PostInput(title="Ein Beitrag", body_md="Janas Fassung.")
    with pytest.raises(editing.StaleEdit) as caught:
        editing.save(writer, stale_input, SETTINGS, now=utcnow(), post=editing.get_post(post.id), loaded_version=1)
    assert caught.value.latest.author_id == other.id
    assert ("del", "Eriks Fassung.") in caught.value.diff and ("add", "Janas Fassung.") in caught.value.diff
    db.session.expire_all()
    assert db.session.get(Post, post.id).body_md == "Eriks Fassung."


def test_the_lock_holds_even_when_the_check_before_it_is_passed(app, writer, monkeypatch):
    """A race: the other save lands after this request read the post (simulated by an UPDATE in between)."""
    post = write(writer, "Anfang.")
    from sqlalchemy import update

    db.session.execute(update(Post).where(Post.id == post.id).values(version=2))
    db.session.commit()
    post.version = 1  # what this request had read before the other save
    db.session.expire(post, ["version"])
    with pytest.raises(editing.StaleEdit):
        editing.save(writer, editing.PostInput(title="Ein Beitrag", body_md="Spät."), SETTINGS, now=utcnow(),
                     post=editing.get_post(post.id), loaded_version=1)


def test_restore_brings_old_text_back_as_a_new_revision(app, writer):
    post = write(writer, "Alt und gut.", title="Erster Titel", slug="erster-titel")
    post = write(writer, "Neu und schlecht.", post=post, title="Zweiter Titel", slug="erster-titel")
    first = history(post)[0]
    post = editing.restore(post, first, writer, SETTINGS, now=utcnow(), loaded_version=post.version)
    assert post.body_md == "Alt und gut." and post.title == "Erster Titel"
    revisions = history(post)
    assert [r.source for r in revisions] == ["editor", "editor", "restore"]
    assert revisions[-1].version == 3 and post.version == 3


def test_diff_lines_mark_additions_and_deletions(app):
    lines = editing.diff_lines("a\nb\nc\n", "a\nB\nc\nd\n")
    assert ("del", "b") in lines and ("add", "B") in lines and ("add", "d") in lines
    assert lines[0][0] == "hunk"
    assert editing.diff_lines("same\n", "same\n") == []


def test_diff_lines_of_huge_texts_stay_cheap(app):
    old = "\n".join(f"Zeile {n}" for n in range(30_000))
    new = "\n".join(f"Zeile {n}!" for n in range(30_000))
    lines = editing.diff_lines(old, new)
    assert len(lines) == 1 and "too long" in lines[0][1]


def test_the_revisions_page_lists_and_the_diff_view_escapes(app, client, writer):
    post = write(writer, "Harmlos.")
    post = write(writer, "<script>alert('x')</script> und <b>fett</b>", post=post)
    login(client, writer)
    page = client.get(f"/editor/{post.id}/revisions")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Jana Berger" in text and text.count('id="revision-') == 2
    first, second = history(post)
    diff = client.get(f"/editor/{post.id}/diff?a={first.id}&b={second.id}")
    html = diff.get_data(as_text=True)
    assert diff.status_code == 200
    assert "&lt;script&gt;alert(" in html and "<script>alert(" not in html
    assert 'class="diff-line diff-del"' in html and "Harmlos." in html
    # any two, either way round, and sensible defaults
    assert client.get(f"/editor/{post.id}/diff?a={second.id}&b={first.id}").status_code == 200
    assert client.get(f"/editor/{post.id}/diff").status_code == 200
    assert client.get(f"/editor/{post.id}/diff?a=999999&b={first.id}").status_code == 404
    assert client.get(f"/editor/{post.id}/diff?a=x&b=y").status_code in (200, 404)


def test_restoring_through_the_page_makes_a_new_revision(app, client, writer):
    post = write(writer, "Version eins.")
    post = write(writer, "Version zwei.", post=post)
    first = history(post)[0]
    login(client, writer)
    response = client.post(f"/editor/{post.id}/revisions/{first.id}/restore", data={"version": str(post.version)})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/editor/{post.id}")
    db.session.expire_all()
    post = db.session.get(Post, post.id)
    assert post.body_md == "Version eins." and post.version == 3
    assert [r.source for r in history(post)] == ["editor", "editor", "restore"]
    # a restore from a page that is out of date does nothing
    stale = client.post(f"/editor/{post.id}/revisions/{first.id}/restore", data={"version": "1"})
    assert stale.status_code == 302 and stale.headers["Location"].endswith("/revisions")
    db.session.expire_all()
    assert db.session.get(Post, post.id).version == 3
    assert client.post(f"/editor/{post.id}/revisions/999999/restore", data={"version": "3"}).status_code == 404


def test_restore_keeps_status_and_date(app, make, writer):
    app.config["AUTHORS_MAY_PUBLISH"] = True
    settings = editing.Settings(tz=SETTINGS.tz, authors_may_publish=True)
    post = editing.save(writer, editing.PostInput(title="Live", body_md="Eins.", status="published"), settings,
                        now=utcnow() - timedelta(hours=1))
    post = editing.save(writer, editing.PostInput(title="Live", body_md="Zwei.", status="published",
                                                  published_at=post.published_at), settings, now=utcnow(),
                        post=post, loaded_version=post.version)
    published_at = post.published_at
    post = editing.restore(post, history(post)[0], writer, settings, now=utcnow(), loaded_version=post.version)
    assert post.status == "published" and post.published_at == published_at and post.body_md == "Eins."
