"""Files and browser meet: `posts export` writes what `posts import` reads back unchanged; an import
never silently overwrites a post changed in the browser since its last import or export."""
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.content import editing
from app.extensions import db
from app.models import Post, PostRevision, PostStatus, Role, utcnow

SETTINGS = editing.Settings(tz=ZoneInfo("Europe/Berlin"), authors_may_publish=True)

FILE = """---
title: "Glasfaser im Dorf"
slug: glasfaser-im-dorf
category: Netz & Technik
tags: [Glasfaser, Ausbau]
author: jana.berger
date: 2026-03-14 09:30
status: published
summary: "Wie der Ausbau läuft."
---
## Der Stand

Es geht *voran*.
"""


def fields(post: Post) -> dict:
    return {
        "title": post.title, "slug": post.slug, "summary": post.summary, "body_md": post.body_md,
        "body_html": post.body_html, "lang": post.lang, "status": post.status, "published_at": post.published_at,
        "content_changed_at": post.content_changed_at, "comments_open": post.comments_open,
        "author": post.author.username, "category": post.category.slug if post.category else None,
        "tags": [t.name for t in post.tags],
    }


def load_all() -> dict[str, dict]:
    db.session.expire_all()
    ids = db.session.scalars(select(Post.id)).all()
    return {post.slug: fields(post) for post in (editing.get_post(i) for i in ids)}


@pytest.fixture
def browser_posts(app, make):
    """Posts written in the browser: a live one with everything set, a scheduled one, a draft in review."""
    jana = make.user("jana.berger", role=Role.AUTHOR, display_name="Jana Berger")
    category = make.category("Kundenservice")
    make.post("Ein alter Beitrag", tags=["Router"])  # made by the factory, no revision, no file
    live = editing.save(jana, editing.PostInput(
        title="Über Störungen: „Was tun?“", body_md="## Erst prüfen\n\n- Router\n- Kabel\n\n> Zitat: 100 % ehrlich",
        summary="Kurz: was bei einer Störung hilft.", category_id=category.id, tags=["Störung", "Hilfe"],
        status="published", published_at=datetime(2026, 2, 3, 10, 15, 42, 123456, tzinfo=UTC),
        comments_open=False), SETTINGS, now=utcnow())
    editing.save(jana, editing.PostInput(title="Bald: Neues", body_md="Text", lang="en", status="scheduled",
                                         published_at=datetime(2099, 1, 2, 8, 0, tzinfo=UTC)), SETTINGS, now=utcnow())
    editing.save(jana, editing.PostInput(title="Zur Prüfung", body_md="Entwurf: `code`", status="review"),
                 SETTINGS, now=utcnow())
    return live


def test_export_then_import_changes_nothing(app, runner, tmp_path, browser_posts):
    before = load_all()
    result = runner.invoke(args=["posts", "export", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "4 written" in result.output
    assert (tmp_path / "ueber-stoerungen-was-tun.md").exists()
    result = runner.invoke(args=["posts", "import", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "0 created, 0 updated, 4 unchanged, 0 failed." in result.output
    assert load_all() == before
    assert all(p.synced_version == p.version for p in db.session.scalars(select(Post)))
    again = runner.invoke(args=["posts", "export", str(tmp_path)])
    assert "0 written, 4 unchanged" in again.output


def test_the_files_carry_every_field_the_import_reads(app, runner, tmp_path, browser_posts):
    """Forced re-reading of every exported file gives back the same posts, field by field."""
    before = load_all()
    runner.invoke(args=["posts", "export", str(tmp_path)])
    for post in db.session.scalars(select(Post)):
        post.source_hash = None  # the import must read each file again
    db.session.commit()
    result = runner.invoke(args=["posts", "import", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "0 created, 4 updated" in result.output
    assert load_all() == before


def test_exported_front_matter_reads_like_a_hand_written_file(app, runner, tmp_path, browser_posts):
    runner.invoke(args=["posts", "export", str(tmp_path)])
    text = (tmp_path / "ueber-stoerungen-was-tun.md").read_text(encoding="utf-8")
    assert text.startswith("---\ntitle: 'Über Störungen: „Was tun?“'\nslug: ueber-stoerungen-was-tun\n")
    assert "date: '2026-02-03T11:15:42.123456+01:00'" in text
    assert "comments: false" in text and "author: jana.berger" in text and "- Störung" in text
    assert text.endswith("> Zitat: 100 % ehrlich\n")


def test_an_import_skips_a_post_changed_in_the_browser_unless_forced(app, runner, tmp_path, make):
    (tmp_path / "glasfaser.md").write_text(FILE, encoding="utf-8")
    result = runner.invoke(args=["posts", "import", str(tmp_path)])
    assert result.exit_code == 0, result.output
    post = db.session.scalar(select(Post))
    assert post.version == post.synced_version == 1
    assert [r.source for r in db.session.scalars(select(PostRevision))] == ["import"]

    editor = make.user("erik", role=Role.EDITOR)
    post = editing.get_post(post.id)
    data = editing.input_from_post(post)
    data.body_md = "Im Browser verbessert."
    editing.save(editor, data, SETTINGS, now=utcnow(), post=post, loaded_version=post.version)

    (tmp_path / "glasfaser.md").write_text(FILE.replace("Es geht *voran*.", "Es geht weiter."), encoding="utf-8")
    result = runner.invoke(args=["posts", "import", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "glasfaser.md" in result.output and "/posts/glasfaser-im-dorf" in result.output
    assert "changed in the browser" in result.output and "--force" in result.output
    assert "1 skipped" in result.output
    db.session.expire_all()
    assert db.session.get(Post, post.id).body_md == "Im Browser verbessert."

    result = runner.invoke(args=["posts", "import", "--force", str(tmp_path)])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    post = db.session.get(Post, post.id)
    assert post.body_md == "## Der Stand\n\nEs geht weiter."
    assert post.version == post.synced_version == 3
    sources = [r.source for r in db.session.scalars(select(PostRevision).order_by(PostRevision.id))]
    assert sources == ["import", "editor", "import"]  # the browser's text is still a revision


def test_after_an_export_the_next_browser_change_is_noticed_by_the_import(app, runner, tmp_path, browser_posts):
    runner.invoke(args=["posts", "export", str(tmp_path)])
    post = editing.get_post(browser_posts.id)
    data = editing.input_from_post(post)
    data.body_md = "Neu im Browser."
    editing.save(post.author, data, SETTINGS, now=utcnow(), post=post, loaded_version=post.version)
    path = tmp_path / "ueber-stoerungen-was-tun.md"
    path.write_text(path.read_text(encoding="utf-8") + "\nNoch ein Satz in der Datei.\n", encoding="utf-8")
    result = runner.invoke(args=["posts", "import", str(tmp_path)])
    assert "skipped" in result.output
    db.session.expire_all()
    assert db.session.get(Post, browser_posts.id).body_md == "Neu im Browser."
    assert db.session.get(Post, browser_posts.id).status == PostStatus.PUBLISHED


def test_a_hand_written_file_in_sync_is_left_as_written(app, runner, tmp_path):
    path = tmp_path / "glasfaser.md"
    path.write_text(FILE, encoding="utf-8")
    assert runner.invoke(args=["posts", "import", str(tmp_path)]).exit_code == 0
    result = runner.invoke(args=["posts", "export", str(tmp_path)])
    assert "0 written, 1 unchanged" in result.output
    assert path.read_text(encoding="utf-8") == FILE
    # Changed in the browser: now the export writes the browser's version over it.
    post = editing.get_post(db.session.scalar(select(Post.id)))
    data = editing.input_from_post(post)
    data.body_md = "Neu."
    editing.save(post.author, data, SETTINGS, now=utcnow(), post=post, loaded_version=post.version)
    result = runner.invoke(args=["posts", "export", str(tmp_path)])
    assert "1 written" in result.output
    assert path.read_text(encoding="utf-8").endswith("\n\nNeu.\n")
    assert "0 created, 0 updated, 1 unchanged" in runner.invoke(args=["posts", "import", str(tmp_path)]).output
