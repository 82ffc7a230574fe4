"""Outside review of issue 10: probes. Each test asserts the *desired* behaviour; a failure is a finding."""
import io
from datetime import UTC

import pytest
from PIL import Image
from sqlalchemy import select

from app.extensions import db
from app.models import Post, Role, Upload
from tests.moderation_helpers import login


def form(**fields) -> dict:
    data = {"title": "Über Störungen", "slug": "", "summary": "", "category": "", "tags": "", "lang": "de",
            "comments_open": "y", "status": "draft", "published_at": "", "body": "Ein **kurzer** Text.",
            "version": "", "action": "save"}
    data.update(fields)
    return data


def png_bytes(size=(10, 10), **save):
    out = io.BytesIO()
    Image.new("RGB", size, "red").save(out, "PNG", **save)
    return out.getvalue()


# F1: a file part where the editor expects a text field -> 500?
def test_editor_title_sent_as_file_is_not_a_500(app, make, client):
    login(client, make.user("jana", role=Role.AUTHOR))
    data = form()
    data["title"] = (io.BytesIO(b"hello"), "t.txt")
    response = client.post("/editor/new", data=data, content_type="multipart/form-data")
    assert response.status_code < 500, response.status_code


def test_editor_body_sent_as_file_is_not_a_500(app, make, client):
    login(client, make.user("jana", role=Role.AUTHOR))
    data = form()
    data["body"] = (io.BytesIO(b"hello"), "t.txt")
    response = client.post("/editor/preview", data={"body": (io.BytesIO(b"x"), "b.md")},
                           content_type="multipart/form-data")
    assert response.status_code < 500, response.status_code


# F2: category target "inf" -> OverflowError
@pytest.mark.parametrize("target", ["inf", "1e400", "-inf"])
def test_category_target_infinity_is_not_a_500(app, make, client, target):
    login(client, make.user("admin", role=Role.ADMIN))
    response = client.post("/admin/categories", data={"name": "X", "slug": "", "description": "", "target": target,
                                                      "unit": "hours"})
    assert response.status_code == 400, response.status_code


# F3: unicode digits pass str.isdigit() but int() refuses them
def test_merge_target_superscript_digit_is_not_a_500(app, make, client):
    login(client, make.user("admin", role=Role.ADMIN))
    a = make.category("Alpha")
    response = client.post(f"/admin/categories/{a.id}/merge", data={"target": "²"})
    assert response.status_code == 400, response.status_code


def test_image_library_page_superscript_digit_is_not_a_500(app, make, client):
    login(client, make.user("jana", role=Role.AUTHOR))
    assert client.get("/editor/images?page=²").status_code == 200


# F4: one author deletes/relabels another author's image
def test_author_cannot_delete_or_relabel_another_authors_image(app, make, client):
    owner = make.user("owner", role=Role.AUTHOR)
    login(client, owner)
    r = client.post("/editor/images", data={"alt": "Ein Bild", "image": (io.BytesIO(png_bytes()), "a.png")},
                    content_type="multipart/form-data")
    assert r.status_code == 302
    upload = db.session.scalar(select(Upload))
    other = app.test_client()
    login(other, make.user("mallory", role=Role.AUTHOR))
    r1 = other.post(f"/editor/images/{upload.id}/alt", data={"alt": "defaced"})
    r2 = other.post(f"/editor/images/{upload.id}/delete")
    db.session.expire_all()
    assert db.session.get(Upload, upload.id) is not None, "another author deleted it"
    assert (r1.status_code, r2.status_code) == (403, 403)


# F5: an ICC profile (arbitrary bytes) survives the re-encode
def test_reencode_keeps_no_foreign_bytes_in_icc_profile(app, make, client):
    login(client, make.user("jana", role=Role.AUTHOR))
    payload = b"<html><script>alert(document.domain)</script></html>" * 50
    out = io.BytesIO()
    Image.new("RGB", (10, 10), "red").save(out, "JPEG", icc_profile=payload)
    r = client.post("/editor/images", data={"alt": "x", "image": (io.BytesIO(out.getvalue()), "a.jpg")},
                    content_type="multipart/form-data")
    assert r.status_code == 302
    upload = db.session.scalar(select(Upload))
    served = client.get(f"/uploads/{upload.name}").data
    assert b"<script>" not in served


def test_png_text_chunks_and_appended_html_do_not_survive(app, make, client):
    from PIL import PngImagePlugin
    login(client, make.user("jana", role=Role.AUTHOR))
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "<script>alert(1)</script>", zip=True)
    raw = png_bytes(pnginfo=info) + b"<script>alert(2)</script>"
    r = client.post("/editor/images", data={"alt": "x", "image": (io.BytesIO(raw), "a.png")},
                    content_type="multipart/form-data")
    assert r.status_code == 302
    upload = db.session.scalar(select(Upload))
    served = client.get(f"/uploads/{upload.name}")
    assert b"<script>" not in served.data
    assert served.headers["X-Content-Type-Options"] == "nosniff"


# F6: a renamed published post set back to draft: the 301 still leaks the draft's new address
def test_redirect_of_changed_slug_does_not_point_readers_at_a_draft(app, make, client):
    editor = make.user("erik", role=Role.EDITOR)
    post = make.post("Alt", slug="alt", author=editor)
    login(client, editor)
    r = client.get(f"/editor/{post.id}")
    r = client.post(f"/editor/{post.id}", data=form(title="Geheime Übernahme", slug="geheime-uebernahme",
                                                      status="published", version=str(post.version)))
    assert r.status_code == 302
    db.session.expire_all()
    post = db.session.get(Post, post.id)
    r = client.post(f"/editor/{post.id}", data=form(title="Geheime Übernahme", slug="geheime-uebernahme",
                                                      status="draft", version=str(post.version)))
    assert r.status_code == 302
    reader = app.test_client()
    answer = reader.get("/posts/alt")
    assert answer.status_code == 404, (answer.status_code, answer.headers.get("Location"))


# odd dates
@pytest.mark.parametrize("value", ["0000-00-00", "9999-12-31T23:59", "2026-03-29T02:30", "2026-10-25T02:30",
                                   "31.02.2026 10:00", "1899-12-31T23:59", "x" * 100_000])
def test_odd_dates_are_no_500(app, make, client, value):
    login(client, make.user("erik", role=Role.EDITOR))
    r = client.post("/editor/new", data=form(status="scheduled", published_at=value))
    assert r.status_code in (302, 422), r.status_code


def test_dst_gap_time_is_stored_as_a_real_instant(app, make, client):
    login(client, make.user("erik", role=Role.EDITOR))
    r = client.post("/editor/new", data=form(status="scheduled", published_at="2030-03-31T02:30"))
    assert r.status_code == 302
    post = db.session.scalar(select(Post))
    # 02:30 does not exist in Berlin on 2030-03-31; whatever is stored must round-trip to the form value shown
    print(post.published_at, post.published_at.astimezone(UTC))


def test_slug_of_201_chars_and_huge_ids(app, make, client):
    login(client, make.user("erik", role=Role.EDITOR))
    r = client.post("/editor/new", data=form(slug="a" * 201))
    assert r.status_code == 422
    r = client.post("/editor/new", data=form(title="ä" * 300))
    assert r.status_code in (302, 422), r.status_code
    for path in ("/editor/99999999999999999999", "/editor/-1", "/editor/0/revisions",
                 "/editor/1/diff?a=99999999999999999999&b=-5", "/admin/categories/99999999999999999999"):
        assert client.get(path).status_code in (404, 403), path


def test_non_utf8_form_values(app, make, client):
    login(client, make.user("erik", role=Role.EDITOR))
    body = b"title=%ff%fe&body=%c3%28&lang=de&status=draft&action=save"
    r = client.post("/editor/new", data=body, content_type="application/x-www-form-urlencoded")
    assert r.status_code < 500, r.status_code
