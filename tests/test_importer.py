"""`flask posts import`: idempotent, updates, bad files reported by name, categories/tags/authors created."""
import re
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import Category, Page, Post, PostStatus, Tag, User
from tests.conftest import DEMO_POSTS


def write(directory: Path, name: str, front: str, body: str = "Ein Text.\n") -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"---\n{textwrap.dedent(front).strip()}\n---\n{body}", encoding="utf-8")
    return path


@pytest.fixture
def posts_dir(tmp_path):
    directory = tmp_path / "posts"
    write(directory, "erster.md", """
        title: "Erster Beitrag: offen antworten"
        category: Netzkultur
        tags: [Kundenservice, Social Media]
        author: jana.berger
        date: 2026-03-01 09:30
        summary: "Warum wir öffentlich antworten."
    """, "## Warum\n\nWeil es hilft.\n")
    write(directory, "zweiter.md", """
        title: Zweiter Beitrag
        slug: zweiter-beitrag
        category: Netz & Technik
        tags: Glasfaser, Ausbau
        date: 2026-04-02
        language: en
    """)
    write(directory, "pages/impressum.md", """
        title: Impressum
        footer: true
        order: 1
    """, "Sternwelle Kommunikation GmbH\n")
    return directory


def run_import(runner, directory):
    return runner.invoke(args=["posts", "import", str(directory)])


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_import_creates_posts_categories_tags_authors_and_pages(runner, posts_dir):
    result = run_import(runner, posts_dir)
    assert result.exit_code == 0, result.output
    assert "[1/3] erster.md: created" in result.output
    assert "Done: 3 created, 0 updated, 0 unchanged, 0 failed." in result.output

    first = db.session.scalar(select(Post).where(Post.slug == "erster"))
    assert first.title == "Erster Beitrag: offen antworten"
    assert first.status == PostStatus.PUBLISHED
    # A date without zone is the site's time (Europe/Berlin, UTC+1 in March).
    assert first.published_at == datetime(2026, 3, 1, 8, 30, tzinfo=UTC)
    assert '<h2 id="warum">' in first.body_html and first.toc[0]["id"] == "warum"
    assert first.source_path == "erster.md" and len(first.source_hash) == 64

    second = db.session.scalar(select(Post).where(Post.slug == "zweiter-beitrag"))
    assert second.lang == "en" and second.summary == "Ein Text."
    assert {c.slug for c in db.session.scalars(select(Category))} == {"netzkultur", "netz-und-technik"}
    assert {t.slug for t in db.session.scalars(select(Tag))} == {"kundenservice", "social-media", "glasfaser", "ausbau"}
    author = db.session.scalar(select(User).where(User.username == "jana.berger"))
    assert author.display_name == "Jana Berger" and author.password_hash is None
    assert db.session.scalar(select(User).where(User.username == "redaktion")) is not None
    page = db.session.scalar(select(Page).where(Page.slug == "impressum"))
    assert page.in_footer and page.position == 1 and "Sternwelle" in page.body_html


def test_import_is_idempotent(runner, posts_dir):
    run_import(runner, posts_dir)
    before = db.session.execute(select(Post.slug, Post.updated_at)).all()
    result = run_import(runner, posts_dir)
    assert result.exit_code == 0
    assert "Done: 0 created, 0 updated, 3 unchanged, 0 failed." in result.output
    db.session.expire_all()
    assert db.session.execute(select(Post.slug, Post.updated_at)).all() == before
    assert (count(Post), count(Category), count(Tag), count(User), count(Page)) == (2, 2, 4, 2, 1)


def test_changed_file_updates_the_post(runner, posts_dir):
    run_import(runner, posts_dir)
    write(posts_dir, "erster.md", """
        title: Erster Beitrag, überarbeitet
        category: Netzkultur
        tags: [Kundenservice]
        author: jana.berger
        date: 2026-03-01 09:30
    """, "Neuer Text mit <script>alert(1)</script> und [Link](javascript:alert(2)).\n")
    result = run_import(runner, posts_dir)
    assert "erster.md: updated" in result.output
    assert "Done: 0 created, 1 updated, 2 unchanged, 0 failed." in result.output
    post = db.session.scalar(select(Post).where(Post.slug == "erster").options(selectinload(Post.tags)))
    assert post.title == "Erster Beitrag, überarbeitet"
    assert [t.slug for t in post.tags] == ["kundenservice"]
    assert "<script" not in post.body_html and "alert" not in post.body_html
    assert "javascript:" not in post.body_html
    assert count(Post) == 2


@pytest.mark.parametrize("name, front, reason", [
    ("kaputt.md", "title: [nicht geschlossen", "front matter is not valid YAML at line"),
    ("ohne-titel.md", "category: Netzkultur", "title is missing"),
    ("datum.md", "title: X\ndate: 2026-13-45", "invalid value"),
    ("datum2.md", "title: X\ndate: gestern", "is not a date"),
    ("status.md", "title: X\nstatus: veröffentlicht", "unknown status 'veröffentlicht'"),
    ("sprache.md", "title: X\nlanguage: fr", "unknown language 'fr'"),
    ("slug.md", "title: X\nslug: Nicht Gültig", "slug 'Nicht Gültig'"),
    ("liste.md", "- nur\n- eine Liste", "title is missing"),
    ("geplant.md", "title: X\nstatus: scheduled", "a scheduled post needs a date"),
])
def test_bad_file_is_named_skipped_and_the_rest_imported(runner, posts_dir, name, front, reason):
    write(posts_dir, name, front)
    result = run_import(runner, posts_dir)
    assert result.exit_code == 1
    assert f"{name}: failed" in result.output and reason in result.output, result.output
    assert "Done: 3 created, 0 updated, 0 unchanged, 1 failed." in result.output
    assert count(Post) == 2


def test_file_that_is_not_utf8_is_reported(runner, posts_dir):
    (posts_dir / "latin1.md").write_bytes("---\ntitle: Grüße\n---\nText".encode("latin-1"))
    result = run_import(runner, posts_dir)
    assert result.exit_code == 1 and "latin1.md: failed – not UTF-8 text" in result.output


def test_two_files_cannot_share_a_slug(runner, posts_dir):
    write(posts_dir, "kopie.md", "title: Kopie\nslug: erster")
    result = run_import(runner, posts_dir)
    assert result.exit_code == 1
    assert "kopie.md: failed – slug 'erster' is already used by erster.md" in result.output
    assert db.session.scalar(select(Post.title).where(Post.slug == "erster")) == "Erster Beitrag: offen antworten"


def test_moved_file_takes_its_post_along(runner, posts_dir):
    run_import(runner, posts_dir)
    (posts_dir / "erster.md").rename(posts_dir / "umbenannt.md")
    text = (posts_dir / "umbenannt.md").read_text().replace("title:", "slug: erster\ntitle:", 1)
    (posts_dir / "umbenannt.md").write_text(text)
    result = run_import(runner, posts_dir)
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(Post.source_path).where(Post.slug == "erster")) == "umbenannt.md"


def test_page_slug_cannot_shadow_a_route(runner, posts_dir):
    write(posts_dir, "pages/feed.md", "title: Feed\nslug: healthz")
    result = run_import(runner, posts_dir)
    assert result.exit_code == 1
    assert "pages/feed.md: failed – slug 'healthz' is taken by a page of the blog itself" in result.output


def test_drafts_and_future_posts_are_imported_but_not_due(runner, posts_dir):
    write(posts_dir, "entwurf.md", "title: Entwurf\nstatus: draft")
    write(posts_dir, "geplant.md", "title: Geplant\nstatus: scheduled\ndate: 2099-01-01 08:00")
    assert run_import(runner, posts_dir).exit_code == 0
    draft = db.session.scalar(select(Post).where(Post.slug == "entwurf"))
    scheduled = db.session.scalar(select(Post).where(Post.slug == "geplant"))
    assert draft.status == "draft" and draft.published_at is None
    assert scheduled.status == "scheduled" and scheduled.published_at.year == 2099


def test_categories_file_sets_descriptions_and_order(runner, posts_dir):
    (posts_dir / "categories.yml").write_text(
        "- name: Netz & Technik\n  slug: netz-und-technik\n  description: Wie unser Netz arbeitet.\n"
        "- name: Netzkultur\n  description: Leben im Netz.\n", encoding="utf-8")
    assert run_import(runner, posts_dir).exit_code == 0
    cats = db.session.scalars(select(Category).order_by(Category.position)).all()
    assert [(c.slug, c.description) for c in cats] == [
        ("netz-und-technik", "Wie unser Netz arbeitet."), ("netzkultur", "Leben im Netz.")]
    assert "categories.yml: unchanged" in run_import(runner, posts_dir).output


def test_file_without_front_matter_is_reported(runner, posts_dir):
    (posts_dir / "nackt.md").write_text("# Nur Markdown\n\nKein Kopf.\n")
    result = run_import(runner, posts_dir)
    assert result.exit_code == 1 and "nackt.md: failed – no front matter" in result.output


def test_missing_directory_is_a_clear_error(runner, tmp_path):
    result = run_import(runner, tmp_path / "gibt-es-nicht")
    assert result.exit_code != 0 and "is not a directory" in result.output


def test_the_shipped_demo_content_imports_cleanly(runner):
    result = runner.invoke(args=["posts", "import", str(DEMO_POSTS)])
    assert result.exit_code == 0, result.output
    assert "0 failed" in result.output
    posts = db.session.scalars(select(Post).options(selectinload(Post.category))).all()
    published = [p for p in posts if p.status == PostStatus.PUBLISHED]
    assert len([p for p in published if p.lang == "de"]) >= 8
    assert len([p for p in published if p.lang == "en"]) >= 2
    categories = {p.category.name for p in published if p.category}
    assert "Netzkultur" in categories and len(categories) >= 4
    assert any(len(p.toc) >= 4 for p in published), "a long post with a table of contents"
    assert any("<table>" in p.body_html for p in published) and any("<pre>" in p.body_html for p in published)
    assert {"impressum", "datenschutz", "ueber-uns"} <= set(db.session.scalars(select(Page.slug)))


def test_title_is_folded_onto_one_line(runner, posts_dir):
    write(posts_dir, "zeilen.md", 'title: "Zeile eins\\nZeile zwei"')
    assert run_import(runner, posts_dir).exit_code == 0
    assert db.session.scalar(select(Post.title).where(Post.slug == "zeilen")) == "Zeile eins Zeile zwei"


def test_categories_file_sets_response_targets(runner, posts_dir):
    (posts_dir / "categories.yml").write_text(
        "- name: Netzkultur\n  response_target_hours: 2\n- name: Recht\n  response_target_hours: 8\n"
        "  business_hours: true\n", encoding="utf-8")
    assert run_import(runner, posts_dir).exit_code == 0
    targets = dict(db.session.execute(select(Category.slug, Category.response_target_minutes)).all())
    assert targets["netzkultur"] == 120 and targets["recht"] == 480
    assert db.session.scalar(select(Category.business_hours_only).where(Category.slug == "recht")) is True
    (posts_dir / "categories.yml").write_text("- name: Netzkultur\n  response_target_hours: soon\n")
    result = run_import(runner, posts_dir)
    assert result.exit_code == 1 and "response_target_hours of 'Netzkultur' must be a positive number" in result.output


def test_a_body_that_cannot_be_formatted_is_reported_and_the_others_imported(tmp_path, runner, app):
    """A file whose Markdown cannot be rendered within the limits is named with the reason (review finding 1)."""
    (tmp_path / "gut.md").write_text("---\ntitle: Gut\n---\nText.\n", encoding="utf-8")
    (tmp_path / "tief.md").write_text("---\ntitle: Tief\n---\n" + "> " * 5000 + "\n", encoding="utf-8")
    result = runner.invoke(args=["posts", "import", str(tmp_path)])
    assert result.exit_code == 1
    assert "tief.md" in result.output and "cannot be formatted: nested too deeply" in result.output
    assert "gut.md" in result.output


# --- dates, authors, deleted files, where each post stands (issue 9) -----------------------------

def post_named(slug: str) -> Post:
    db.session.expire_all()
    return db.session.scalar(select(Post).where(Post.slug == slug))


def test_a_new_post_dates_from_its_date_not_from_the_import(runner, posts_dir):
    run_import(runner, posts_dir)
    post = post_named("erster")
    assert post.content_changed_at is None
    assert post.last_modified == post.published_at == datetime(2026, 3, 1, 8, 30, tzinfo=UTC)
    page = db.session.scalar(select(Page).where(Page.slug == "impressum"))
    assert page.content_changed_at is not None and page.last_modified == page.content_changed_at


def test_content_date_moves_only_when_title_body_or_summary_change(runner, posts_dir):
    run_import(runner, posts_dir)
    front = """
        title: "Erster Beitrag: offen antworten"
        category: Netzkultur
        tags: [Kundenservice]
        author: jana.berger
        date: 2026-03-01 09:30
        summary: "Warum wir öffentlich antworten."
    """
    write(posts_dir, "erster.md", front, "## Warum\n\nWeil es hilft.\n")  # only a tag less
    assert "erster.md: updated" in run_import(runner, posts_dir).output
    assert post_named("erster").content_changed_at is None
    write(posts_dir, "erster.md", front, "## Warum\n\nWeil es hilft. Und weil es schneller geht.\n")
    before = datetime.now(UTC)
    run_import(runner, posts_dir)
    post = post_named("erster")
    assert post.content_changed_at >= before and post.last_modified == post.content_changed_at


def test_page_content_date_ignores_footer_and_order_changes(runner, posts_dir):
    run_import(runner, posts_dir)
    first = db.session.scalar(select(Page.content_changed_at).where(Page.slug == "impressum"))
    write(posts_dir, "pages/impressum.md", "title: Impressum\nfooter: true\norder: 5",
          "Sternwelle Kommunikation GmbH\n")
    assert "pages/impressum.md: updated" in run_import(runner, posts_dir).output
    db.session.expire_all()
    assert db.session.scalar(select(Page.content_changed_at).where(Page.slug == "impressum")) == first


def test_updated_in_front_matter_sets_the_content_date(runner, posts_dir):
    write(posts_dir, "dritter.md", "title: Dritter\ndate: 2026-03-01 09:30\nupdated: 2026-06-02 14:00")
    write(posts_dir, "pages/datenschutz.md", "title: Datenschutz\nupdated: 2026-05-04")
    assert run_import(runner, posts_dir).exit_code == 0
    assert post_named("dritter").content_changed_at == datetime(2026, 6, 2, 12, 0, tzinfo=UTC)  # CEST
    page = db.session.scalar(select(Page).where(Page.slug == "datenschutz"))
    assert page.last_modified == datetime(2026, 5, 3, 22, 0, tzinfo=UTC)
    write(posts_dir, "dritter.md", "title: Dritter\ndate: 2026-03-01 09:30\nupdated: 2026-07-01", "Neuer Text.\n")
    run_import(runner, posts_dir)
    assert post_named("dritter").content_changed_at == datetime(2026, 6, 30, 22, 0, tzinfo=UTC)  # it wins


def test_updated_that_is_not_a_date_is_reported(runner, posts_dir):
    write(posts_dir, "kaputt.md", "title: X\nupdated: neulich")
    result = run_import(runner, posts_dir)
    assert result.exit_code == 1 and "kaputt.md: failed – updated 'neulich' is not a date" in result.output


@pytest.mark.parametrize("written", ["Jana Berger", "jana berger", "JANA.BERGER", "  Jana   Berger "])
def test_author_may_be_named_by_display_name_or_user_name_in_any_case(runner, posts_dir, make, written):
    jana = make.user("jana.berger", display_name="Jana Berger")
    users = count(User)
    write(posts_dir, "dritter.md", f"title: Dritter\nauthor: '{written}'")
    assert run_import(runner, posts_dir).exit_code == 0
    db.session.expire_all()
    assert db.session.scalar(select(Post.author_id).where(Post.slug == "dritter")) == jana.id
    assert count(User) == users + 1  # only the default author "redaktion" of zweiter.md is new


def test_author_that_names_nobody_fails_the_file_and_lists_the_user_names(runner, posts_dir, make):
    make.user("jana.berger", display_name="Jana Berger")
    write(posts_dir, "dritter.md", "title: Dritter\nauthor: Hans Dampf")
    result = run_import(runner, posts_dir)
    assert result.exit_code == 1
    assert "dritter.md: failed – author 'Hans Dampf' is no user's name or display name" in result.output
    assert "user names: jana.berger" in result.output
    assert db.session.scalar(select(User).where(User.display_name == "Hans Dampf")) is None
    assert post_named("dritter") is None and post_named("erster") is not None


def test_display_name_shared_by_two_users_is_refused(runner, posts_dir, make):
    make.user("jana.berger", display_name="Jana Berger")
    make.user("jberger", display_name="Jana Berger")
    write(posts_dir, "dritter.md", "title: Dritter\nauthor: Jana Berger")
    result = run_import(runner, posts_dir)
    assert "is the display name of several users; use one of the user names: jana.berger, jberger" in result.output


def test_each_post_says_whether_it_is_live_scheduled_or_a_draft(runner, posts_dir):
    write(posts_dir, "entwurf.md", "title: Entwurf\nstatus: draft")
    write(posts_dir, "geplant.md", "title: Geplant\nstatus: scheduled\ndate: 2099-01-20 08:00")
    write(posts_dir, "spaeter.md", "title: Später\ndate: 2099-07-01 10:00")  # published, but not yet due
    output = run_import(runner, posts_dir).output
    assert "erster.md: created – live" in output and "entwurf.md: created – draft" in output
    assert "geplant.md: created – scheduled for 2099-01-20 08:00 (Europe/Berlin)" in output
    assert "spaeter.md: created – scheduled for 2099-07-01 10:00 (Europe/Berlin)" in output
    assert "erster.md: unchanged – live" in run_import(runner, posts_dir).output
    assert "pages/impressum.md: unchanged\n" in run_import(runner, posts_dir).output  # pages have no state


def test_a_deleted_file_is_reported_and_pruned_only_when_asked(runner, posts_dir):
    run_import(runner, posts_dir)
    (posts_dir / "erster.md").unlink()
    result = run_import(runner, posts_dir)
    assert result.exit_code == 0
    assert "erster.md is gone, but /posts/erster is still published (--prune makes it a draft)" in result.output
    assert post_named("erster").status == PostStatus.PUBLISHED

    result = runner.invoke(args=["posts", "import", "--prune", str(posts_dir)])
    assert result.exit_code == 0 and "erster.md is gone: /posts/erster is now a draft" in result.output
    post = post_named("erster")
    assert post.status == PostStatus.DRAFT and post.title == "Erster Beitrag: offen antworten"  # the row stays
    assert post_named("zweiter-beitrag").status == PostStatus.PUBLISHED
    assert "erster.md" not in run_import(runner, posts_dir).output  # a draft is not news any more

    write(posts_dir, "erster.md", """
        title: "Erster Beitrag: offen antworten"
        category: Netzkultur
        tags: [Kundenservice, Social Media]
        author: jana.berger
        date: 2026-03-01 09:30
        summary: "Warum wir öffentlich antworten."
    """, "## Warum\n\nWeil es hilft.\n")  # the same bytes as before: restoring the file brings it back
    assert "erster.md: updated – live" in run_import(runner, posts_dir).output
    assert post_named("erster").status == PostStatus.PUBLISHED


def test_prune_leaves_everything_alone_in_a_directory_without_posts(runner, posts_dir, tmp_path):
    run_import(runner, posts_dir)
    empty = tmp_path / "leer"
    empty.mkdir()
    result = runner.invoke(args=["posts", "import", "--prune", str(empty)])
    assert result.exit_code == 0 and "now a draft" not in result.output
    assert post_named("erster").status == PostStatus.PUBLISHED


def test_the_demo_content_shows_its_own_dates_not_the_import_time(runner, client):
    assert runner.invoke(args=["posts", "import", str(DEMO_POSTS)]).exit_code == 0
    an_hour_ago = datetime.now(UTC).timestamp() - 3600
    feed = client.get("/feed.atom").get_data(as_text=True)
    stamps = [datetime.fromisoformat(s).timestamp() for s in
              re.findall(r"<updated>([^<]+)</updated>", feed)]
    assert len(stamps) > 10 and all(stamp < an_hour_ago for stamp in stamps)
    sitemap = client.get("/sitemap.xml").get_data(as_text=True)
    lastmods = re.findall(r"<lastmod>([^<]+)</lastmod>", sitemap)
    assert lastmods and all(datetime.fromisoformat(s).timestamp() < an_hour_ago for s in lastmods)
    assert "Zuletzt aktualisiert: 2. November 2026" in client.get("/datenschutz").get_data(as_text=True)
