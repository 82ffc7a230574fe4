"""Outside review of issue 10, batch 3."""
import io

from PIL import Image
from sqlalchemy import select, text

from app.content import editing
from app.extensions import db
from app.models import Category, Post, PostStatus, Role
from tests.moderation_helpers import login


def form(**fields) -> dict:
    data = {"title": "Über Störungen", "slug": "", "summary": "", "category": "", "tags": "", "lang": "de",
            "comments_open": "y", "status": "draft", "published_at": "", "body": "Ein **kurzer** Text.",
            "version": "", "action": "save"}
    data.update(fields)
    return data


def test_two_saves_racing_for_one_slug_give_a_message_not_a_500(app, make, client, monkeypatch):
    author = make.user("jana", role=Role.AUTHOR)
    other = make.user("otto", role=Role.AUTHOR)
    login(client, author)
    original = editing._validate

    def validate_then_lose_the_race(*args, **kwargs):
        checked = original(*args, **kwargs)
        with db.engine.begin() as conn:  # another request saves the same slug in between
            conn.execute(text("INSERT INTO posts (slug, title, summary, lang, body_md, body_html, toc, "
                              "reading_minutes, status, created_at, updated_at, comments_open, version, author_id) "
                              "VALUES ('ueber-stoerungen', 'x', '', 'de', '', '', '[]', 1, 'draft', "
                              "'2026-01-01 00:00:00', '2026-01-01 00:00:00', TRUE, 1, :a)"), {"a": other.id})
        return checked

    monkeypatch.setattr(editing, "_validate", validate_then_lose_the_race)
    r = client.post("/editor/new", data=form())
    assert r.status_code in (409, 422), r.status_code


def test_restore_without_version_is_still_checked_for_staleness(app, make, client):
    editor = make.user("erik", role=Role.EDITOR)
    login(client, editor)
    client.post("/editor/new", data=form())
    post = db.session.scalar(select(Post))
    client.post(f"/editor/{post.id}", data=form(body="zwei", version="1"))
    from app.models import PostRevision
    first = db.session.scalar(select(PostRevision).order_by(PostRevision.id))
    client.post(f"/editor/{post.id}/revisions/{first.id}/restore", data={})  # no version at all
    db.session.expire_all()
    assert db.session.get(Post, post.id).body_md == "zwei", "restored without saying which version was seen"


def test_export_import_round_trip_keeps_a_custom_category_slug(app, make, client, tmp_path):
    from app.cli import posts as _  # noqa
    admin = make.user("admin", role=Role.ADMIN)
    login(client, admin)
    # made in the back office: name and slug chosen freely
    client.post("/admin/categories", data={"name": "Technik allgemein", "slug": "netz-und-technik", "target": "4",
                                           "unit": "hours"})
    client.post("/admin/categories", data={"name": "Netz & Technik", "slug": "netz", "target": "4", "unit": "hours"})
    netz = db.session.scalar(select(Category).where(Category.slug == "netz"))
    post = make.post("Im Netz", category=netz, author=admin)
    runner = app.test_cli_runner()
    out = tmp_path / "export"
    res = runner.invoke(args=["posts", "export", str(out)])
    assert res.exit_code == 0, res.output
    f = out / "im-netz.md"
    f.write_text(f.read_text(encoding="utf-8").replace("Ein kurzer Text.", "Ein geänderter Text."), encoding="utf-8")
    res = runner.invoke(args=["posts", "import", str(out)])
    print(res.output)
    db.session.expire_all()
    post = db.session.get(Post, post.id)
    assert post.category_id == netz.id, "the round trip moved the post to another category"


def test_a_many_frame_gif_upload_is_bounded(app, make, client):
    login(client, make.user("jana", role=Role.AUTHOR))
    frames = [Image.new("P", (360, 360), i % 256) for i in range(300)]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=20)
    data = out.getvalue()
    r = client.post("/editor/images", data={"alt": "x", "image": (io.BytesIO(data), "a.gif")},
                    content_type="multipart/form-data")
    assert r.status_code in (302, 400)  # stored or refused with a message, never an error


def test_anonymous_cannot_send_a_large_upload_body(app, client):
    big = b"\x00" * (3 * 1024 * 1024)
    r = client.post("/editor/images", data={"alt": "x", "image": (io.BytesIO(big), "a.png")},
                    content_type="multipart/form-data")
    assert r.status_code in (302, 413), r.status_code


def test_uploads_path_tricks(app, client):
    for path in ("/uploads/..%2f..%2fetc%2fpasswd", "/uploads/%2e%2e", "/uploads/" + "a" * 32 + ".html",
                 "/uploads/" + "A" * 32 + ".png", "/uploads/" + "a" * 32 + ".png%00"):
        assert client.get(path).status_code in (400, 404), path


def test_tag_page_of_a_draft_only_tag_is_not_public(app, make, client):
    make.post("Geheim", status=PostStatus.DRAFT, tags=["Übernahme durch Netzco"])
    r = client.get("/tag/uebernahme-durch-netzco")
    assert r.status_code == 404, r.status_code


def test_old_path_of_a_renamed_category_feed(app, make, client):
    admin = make.user("admin", role=Role.ADMIN)
    login(client, admin)
    cat = make.category("Netz")
    make.post("A", category=cat)
    client.post(f"/admin/categories/{cat.id}", data={"name": "Netzwerk", "slug": "netzwerk", "target": "4",
                                                     "unit": "hours"})
    reader = app.test_client()
    assert reader.get("/category/netz").status_code == 301
    feed = [r.rule for r in app.url_map.iter_rules() if "feed" in r.rule]
    print(feed)
