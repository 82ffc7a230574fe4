"""Outside review of issue 10, batch 10: a slug changed in the browser, then `posts import` of the same file."""
from sqlalchemy import func, select

from app.extensions import db
from app.models import Post, Role
from tests.moderation_helpers import login

FILE = """---
title: "Alt"
slug: alt
author: erik
date: 2026-01-10 10:00
status: published
language: de
---

Der Text aus der Datei.
"""


def form(**fields) -> dict:
    data = {"title": "Neu", "slug": "neu", "summary": "", "category": "", "tags": "", "lang": "de",
            "comments_open": "y", "status": "published", "published_at": "", "body": "Im Browser geändert.",
            "version": "", "action": "save"}
    data.update(fields)
    return data


def test_reimport_after_a_slug_change_in_the_browser_makes_no_duplicate(app, make, client, tmp_path):
    editor = make.user("erik", role=Role.EDITOR)
    folder = tmp_path / "posts"
    folder.mkdir()
    (folder / "alt.md").write_text(FILE, encoding="utf-8")
    runner = app.test_cli_runner()
    res = runner.invoke(args=["posts", "import", str(folder)])
    assert res.exit_code == 0, res.output
    post = db.session.scalar(select(Post))
    login(client, editor)
    r = client.post(f"/editor/{post.id}", data=form(version=str(post.version)))
    assert r.status_code == 302
    res = runner.invoke(args=["posts", "import", str(folder)])
    print(res.output)
    assert db.session.scalar(select(func.count()).select_from(Post)) == 1, "the import brought the old post back"
    assert app.test_client().get("/posts/alt").status_code == 301
