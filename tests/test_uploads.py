"""Image uploads: the service (`app.content.uploads`) with real images made by Pillow, and the library's
views (`app.editor.images_routes`): permissions, serving headers, traversal and every kind of bad input."""
import io
import re
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from app import create_app
from app.content import uploads
from app.content.uploads import UploadError
from app.extensions import db
from app.markup import render_post
from app.models import Post, Role, Upload
from tests.conftest import IsolatedClient, make_settings
from tests.moderation_helpers import login

GPS_IFD = 0x8825
ORIENTATION = 0x0112


# --- images made here -------------------------------------------------------------------------------

def image_bytes(fmt="JPEG", size=(1200, 800), mode="RGB", color=(20, 120, 200), **options) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, fmt, **options)
    return out.getvalue()


def jpeg_with_gps(size=(64, 32), orientation=None) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "Kamerahersteller"  # Make
    if orientation:
        exif[ORIENTATION] = orientation
    gps = exif.get_ifd(GPS_IFD)
    gps[1], gps[2], gps[3], gps[4] = "N", (52.0, 31.0, 12.0), "E", (13.0, 24.0, 36.0)
    data = image_bytes("JPEG", size, exif=exif)
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(GPS_IFD), "the test image must carry GPS data"
    return data


def png_bomb(width=30_000, height=30_000) -> bytes:
    """A tiny PNG whose header claims `width`×`height` (the IHDR chunk rewritten, its CRC fixed)."""
    png = image_bytes("PNG", (1, 1))
    ihdr = struct.pack(">II", width, height) + png[24:29]
    return png[:16] + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr)) + png[33:]


def animated(fmt="GIF", frames=4, size=(40, 30), **options) -> bytes:
    images = [Image.new("RGB", size, (60 * i % 255, 90, 30)) for i in range(frames)]
    out = io.BytesIO()
    images[0].save(out, fmt, save_all=True, append_images=images[1:], duration=70, loop=0, **options)
    return out.getvalue()


def stored_files(app) -> list[str]:
    folder = Path(app.config["DATA_DIR"]) / "uploads"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# --- the service --------------------------------------------------------------------------------------

def test_a_jpeg_is_stored_under_a_generated_name_with_smaller_sizes(app, make):
    author = make.user(role=Role.AUTHOR)
    upload = uploads.store(image_bytes("JPEG", (2000, 1000)), "../../Urlaub am Meer.jpg", "Der Strand", author)

    assert uploads.NAME.match(upload.name) and upload.name.endswith(".jpg")
    assert "Urlaub" not in upload.name and upload.original_name == "../../Urlaub am Meer.jpg"
    assert (upload.content_type, upload.width, upload.height) == ("image/jpeg", 2000, 1000)
    assert upload.variants == [480, 960, 1600] and upload.uploaded_by_id == author.id and not upload.reused
    stem = upload.name.removesuffix(".jpg")
    assert stored_files(app) == sorted([upload.name, f"{stem}-480w.jpg", f"{stem}-960w.jpg", f"{stem}-1600w.jpg"])
    path = Path(app.config["DATA_DIR"]) / "uploads"
    assert (path / upload.name).stat().st_size == upload.bytes
    assert Image.open(path / f"{stem}-480w.jpg").size == (480, 240)


def test_no_size_is_made_as_large_as_the_original_or_larger(app):
    upload = uploads.store(image_bytes("PNG", (960, 100)), "x.png", "Ein Streifen", None)
    assert upload.variants == [480]
    assert uploads.store(image_bytes("PNG", (300, 100), color=(1, 2, 3)), "y.png", "Klein", None).variants == []


def test_gps_and_other_exif_data_are_removed_and_the_orientation_is_applied(app):
    # Orientation 6: the camera was turned; the picture is shown rotated by 90°, 32×64.
    upload = uploads.store(jpeg_with_gps(size=(64, 32), orientation=6), "handy.jpg", "Ein Foto", None)
    stored = (Path(app.config["DATA_DIR"]) / "uploads" / upload.name).read_bytes()
    image = Image.open(io.BytesIO(stored))
    assert not image.getexif() and "exif" not in image.info
    assert b"Exif" not in stored and b"Kamerahersteller" not in stored
    assert (upload.width, upload.height) == image.size == (32, 64)


@pytest.mark.parametrize(("fmt", "ext", "content_type"), [
    ("PNG", "png", "image/png"), ("WEBP", "webp", "image/webp"), ("GIF", "gif", "image/gif"),
    ("JPEG", "jpg", "image/jpeg"),
])
def test_each_accepted_format_is_stored_in_its_own_format(app, fmt, ext, content_type):
    upload = uploads.store(image_bytes(fmt, (600, 400)), f"bild.{ext}", "Ein Bild", None)
    assert upload.name.endswith(f".{ext}") and upload.content_type == content_type
    assert Image.open(Path(app.config["DATA_DIR"]) / "uploads" / upload.name).format == fmt


def test_a_transparent_png_stays_transparent(app):
    upload = uploads.store(image_bytes("PNG", (50, 50), mode="RGBA", color=(255, 0, 0, 0)), "a.png", "Leer", None)
    image = Image.open(Path(app.config["DATA_DIR"]) / "uploads" / upload.name)
    assert image.mode == "RGBA" and image.getpixel((0, 0))[3] == 0


def test_an_animated_gif_keeps_its_frames_and_loses_its_comment(app):
    upload = uploads.store(animated("GIF", frames=4, comment=b"geheimer Kommentar"), "a.gif", "Eine Animation", None)
    stored = Path(app.config["DATA_DIR"]) / "uploads" / upload.name
    image = Image.open(stored)
    assert image.format == "GIF" and image.n_frames == 4 and "comment" not in image.info
    assert b"geheimer Kommentar" not in stored.read_bytes()
    assert upload.variants == []  # animations are not resized


def test_other_animated_formats_are_refused(app):
    with pytest.raises(UploadError) as refused:
        uploads.store(animated("WEBP", frames=3), "a.webp", "Eine Animation", None)
    assert refused.value.reason == "animated"


BAD_FILES = {
    "empty": (b"", "leer.jpg"),
    "not_an_image": (b"#!/bin/sh\nrm -rf /\n", "skript.jpg"),
    "svg": (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "bild.svg"),
    "html": (b"<!doctype html><script>alert(1)</script>", "seite.jpg"),
    "truncated": (image_bytes("JPEG", (400, 300))[:700], "halb.jpg"),
    "truncated_png": (image_bytes("PNG", (400, 300), color=None)[:-40], "halb.png"),
    "bomb": (png_bomb(), "bombe.png"),
    "wrong_type": (image_bytes("BMP", (20, 20)), "bild.bmp"),
    "tiff": (image_bytes("TIFF", (20, 20)), "bild.jpg"),
}
REASONS = {"empty": "empty", "not_an_image": "not_an_image", "svg": "not_an_image", "html": "not_an_image",
           "truncated": "broken", "truncated_png": "broken", "bomb": "too_many_pixels",
           "wrong_type": "wrong_type", "tiff": "wrong_type"}


@pytest.mark.parametrize("kind", sorted(BAD_FILES))
def test_bad_files_are_refused_with_a_reason_and_nothing_is_stored(app, kind):
    data, name = BAD_FILES[kind]
    with pytest.raises(UploadError) as refused:
        uploads.store(data, name, "Ein Bild", None)
    assert refused.value.reason == REASONS[kind]
    assert str(refused.value.message)
    assert db.session.query(Upload).count() == 0 and stored_files(app) == []


def test_a_bomb_compressed_into_a_small_file_is_refused(app):
    # Really 8000×6000 = 48 MP (over 40): one colour compresses to a few kB, the header is honest.
    data = image_bytes("PNG", (8000, 6000), mode="L", color=0, optimize=True)
    assert len(data) < 200_000
    with pytest.raises(UploadError) as refused:
        uploads.store(data, "gross.png", "Schwarz", None)
    assert refused.value.reason == "too_many_pixels"


def test_a_file_over_the_limit_is_refused(app):
    app.config["UPLOAD_MAX_BYTES"] = 1000
    with pytest.raises(UploadError) as refused:
        uploads.store(image_bytes("PNG", (300, 300)) + b"\0" * 1000, "x.png", "Ein Bild", None)
    assert refused.value.reason == "too_large"


@pytest.mark.parametrize(("alt", "reason"), [("", "alt_missing"), ("  \n\t ", "alt_missing"),
                                             ("x" * 301, "alt_too_long")])
def test_the_alternative_text_is_required_and_bounded(app, alt, reason):
    with pytest.raises(UploadError) as refused:
        uploads.store(image_bytes(), "x.jpg", alt, None)
    assert refused.value.reason == reason and stored_files(app) == []


def test_the_alternative_text_is_kept_on_one_line(app):
    upload = uploads.store(image_bytes(), "x.jpg", "  Zwei\nZeilen  und   Abstand ", None)
    assert upload.alt == "Zwei Zeilen und Abstand"
    assert uploads.store(image_bytes(color=(9, 9, 9)), "y.jpg", "x" * 300, None).alt == "x" * 300


def test_the_same_image_is_stored_once_even_with_other_metadata(app):
    first = uploads.store(jpeg_with_gps(), "a.jpg", "Erstes", None)
    files = stored_files(app)
    again = uploads.store(jpeg_with_gps(), "b.jpg", "Zweites", None)
    without_gps = uploads.store(image_bytes("JPEG", (64, 32), exif=Image.Exif()), "c.jpg", "Drittes", None)
    assert again.id == first.id == without_gps.id and again.reused and without_gps.reused
    assert db.session.query(Upload).count() == 1 and stored_files(app) == files
    assert first.alt == "Erstes"  # the library entry keeps its own text
    other = uploads.store(image_bytes("JPEG", (64, 32), color=(250, 0, 0)), "d.jpg", "Anderes", None)
    assert other.id != first.id and not other.reused


def test_no_temporary_file_is_left_behind(app):
    uploads.store(image_bytes("JPEG", (2000, 1500)), "x.jpg", "Ein Bild", None)
    assert not [name for name in stored_files(app) if name.startswith(".tmp")]


def test_files_are_removed_when_the_database_refuses_the_row(app, monkeypatch):
    def broken_commit():
        raise RuntimeError("database gone")

    monkeypatch.setattr(db.session, "commit", broken_commit)
    with pytest.raises(RuntimeError):
        uploads.store(image_bytes("JPEG", (2000, 1500)), "x.jpg", "Ein Bild", None)
    assert stored_files(app) == []


def test_update_alt_checks_the_text(app):
    upload = uploads.store(image_bytes(), "x.jpg", "Alt", None)
    assert uploads.update_alt(upload, " Neu ").alt == "Neu"
    with pytest.raises(UploadError):
        uploads.update_alt(upload, "")
    db.session.rollback()
    assert db.session.get(Upload, upload.id).alt == "Neu"


def test_an_image_a_post_shows_is_not_deleted(app, make):
    upload = uploads.store(image_bytes("JPEG", (1200, 800)), "x.jpg", "Ein Bild", None)
    stem = upload.name.removesuffix(".jpg")
    make.post("Mit Bild", body=f"Text\n\n![Ein Bild](/uploads/{stem}-480w.jpg)")
    with pytest.raises(UploadError) as refused:
        uploads.delete(upload)
    assert refused.value.reason == "in_use" and "Mit Bild" in str(refused.value.message)
    assert db.session.get(Upload, upload.id) is not None and len(stored_files(app)) == 3


def test_an_unused_image_is_deleted_with_its_sizes(app, make):
    make.post("Ohne Bild", body="Nur Text über /uploads/ und Bilder.")
    upload = uploads.store(image_bytes("JPEG", (1200, 800)), "x.jpg", "Ein Bild", None)
    uploads.delete(upload)
    assert db.session.query(Upload).count() == 0 and stored_files(app) == []


def test_the_library_is_paged_newest_first(app):
    made = [uploads.store(image_bytes("PNG", (20, 20), color=(i, 0, 0)), f"{i}.png", f"Bild {i}", None)
            for i in range(5)]
    first = uploads.list_uploads(1, per_page=2)
    assert (first.total, first.pages, [u.id for u in first.items]) == (5, 3, [made[4].id, made[3].id])
    assert [u.id for u in uploads.list_uploads(3, per_page=2).items] == [made[0].id]
    assert uploads.list_uploads(99, per_page=2).page == 3 and uploads.list_uploads(0, per_page=2).page == 1


def test_the_markdown_snippet_renders_as_an_image_in_a_post(app):
    upload = uploads.store(image_bytes(), "x.jpg", "Plan [Entwurf] mit \\ Strich", None)
    snippet = uploads.markdown_snippet(upload)
    assert snippet == f"![Plan \\[Entwurf\\] mit \\\\ Strich](/uploads/{upload.name})"
    html = render_post(snippet).html
    assert f'src="/uploads/{upload.name}"' in html and 'alt="Plan [Entwurf] mit \\ Strich"' in html


@pytest.mark.parametrize("name", ["", "x.jpg", "../dialog.db", "..%2fdialog.db", "0" * 32 + ".svg",
                                  "0" * 32 + ".JPG", "0" * 31 + ".jpg", "0" * 32 + "-0w.jpg", "0" * 32 + ".jpg/",
                                  "0" * 32 + ".jpg\n", ".tmp-abc"])
def test_only_generated_names_are_looked_up(app, name):
    assert uploads.file_path(name) is None


# --- the views ----------------------------------------------------------------------------------------

def send(client, data=None, name="bild.jpg", alt="Ein Bild", **params):
    data = image_bytes() if data is None else data
    return client.post("/editor/images", query_string=params, content_type="multipart/form-data",
                       data={"alt": alt, "image": (io.BytesIO(data), name)})


def english(client):
    client.get("/language/en")
    return client


@pytest.fixture
def author(make, client):
    return login(english(client), make.user("autorin", role=Role.AUTHOR))


def test_anonymous_visitors_are_sent_to_sign_in(client):
    for response in (client.get("/editor/images"), send(client)):
        assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")
    assert db.session.query(Upload).count() == 0


def test_moderators_may_not_upload(make, client):
    login(client, make.user("mod", role=Role.MODERATOR))
    assert client.get("/editor/images").status_code == 403
    assert send(client).status_code == 403
    assert db.session.query(Upload).count() == 0


@pytest.mark.parametrize("role", [Role.AUTHOR, Role.EDITOR, Role.ADMIN])
def test_bloggers_upload_and_see_the_image_with_its_snippet(make, client, role):
    login(client, make.user("blogger", role=role))
    response = send(client, alt="Unser Büro")
    assert response.status_code == 302
    upload = db.session.query(Upload).one()
    assert response.headers["Location"] == f"/editor/images#image-{upload.id}"
    page = client.get("/editor/images").get_data(as_text=True)
    assert f'value="![Unser Büro](/uploads/{upload.name})"' in page
    assert f'id="image-{upload.id}"' in page and 'alt="Unser Büro"' in page


def test_pick_mode_offers_insert_buttons_and_survives_the_upload(author, client):
    response = send(client, pick="1")
    assert response.headers["Location"].startswith("/editor/images?pick=1#image-")
    page = client.get("/editor/images?pick=1").get_data(as_text=True)
    assert 'data-pick="1"' in page and ">Insert</button>" in page
    assert 'action="/editor/images?pick=1"' in page


def test_uploaded_files_are_served_with_their_type_and_a_long_cache(author, client, app):
    send(client, image_bytes("PNG", (1000, 500)), name="x.png")
    upload = db.session.query(Upload).one()
    for name in (upload.name, uploads.variant_name(upload, 480)):
        for who in (client, app.test_client()):  # signed in or not: the same public file
            response = who.get(f"/uploads/{name}")
            assert response.status_code == 200 and response.mimetype == "image/png"
            assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            assert response.headers["Content-Security-Policy"].endswith("; sandbox")
            assert Image.open(io.BytesIO(response.data)).format == "PNG"
    etag = response.headers["ETag"]
    assert app.test_client().get(f"/uploads/{upload.name}", headers={"If-None-Match": etag}).status_code in (200, 304)


@pytest.mark.parametrize("path", ["/uploads/" + "0" * 32 + ".jpg", "/uploads/..%2fdialog.db", "/uploads/../dialog.db",
                                  "/uploads/dialog.db", "/uploads/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
                                  "/uploads/..%5cdialog.db", "/uploads/" + "a" * 32 + ".svg", "/uploads/.tmp-x"])
def test_unknown_and_traversal_names_are_404(app, client, path):
    (Path(app.config["DATA_DIR"]) / "uploads").mkdir(exist_ok=True)
    (Path(app.config["DATA_DIR"]) / "uploads" / ".tmp-x").write_bytes(b"half")
    assert client.get(path).status_code == 404


VIEW_MESSAGES = {
    "empty": "The file is empty.",
    "not_an_image": "not an image we can use",
    "svg": "not an image we can use",
    "html": "not an image we can use",
    "truncated": "damaged or incomplete",
    "truncated_png": "damaged or incomplete",
    "bomb": "too many pixels",
    "wrong_type": "This image type is not accepted",
    "tiff": "This image type is not accepted",
}


@pytest.mark.parametrize("kind", sorted(BAD_FILES))
def test_each_bad_file_gets_a_message_and_keeps_the_alt_text(author, client, kind):
    data, name = BAD_FILES[kind]
    response = send(client, data, name=name, alt="Mein <Text> & mehr")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert VIEW_MESSAGES[kind] in page
    assert 'value="Mein &lt;Text&gt; &amp; mehr"' in page
    assert db.session.query(Upload).count() == 0


def test_missing_alt_text_or_file_get_a_message(author, client):
    response = send(client, alt="   ")
    assert response.status_code == 400 and "alternative text" in response.get_data(as_text=True)
    response = client.post("/editor/images", data={"alt": "Ohne Datei"}, content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "Please choose an image file." in page and 'value="Ohne Datei"' in page
    assert db.session.query(Upload).count() == 0


def test_a_file_just_over_the_limit_is_refused_by_the_service_and_the_alt_kept(author, client, app):
    app.config["UPLOAD_MAX_BYTES"] = 20_000
    response = send(client, image_bytes("PNG", (50, 50)) + b"\0" * 20_000, name="x.png", alt="Zu groß")
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "larger than" in page and 'value="Zu groß"' in page


def test_a_body_far_over_the_limit_is_413_in_the_library_never_500(author, client, app):
    app.config["UPLOAD_MAX_BYTES"] = 20_000
    response = send(client, b"\0" * 200_000, alt="Riesig")
    page = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "The file is larger than 0.02 MB." in page and 'upload-form"' in page
    assert db.session.query(Upload).count() == 0


def test_the_upload_route_takes_more_than_the_global_request_limit(author, client, app):
    assert app.config["MAX_CONTENT_LENGTH"] == 1024 * 1024
    noisy = Image.effect_noise((900, 900), 120).convert("RGB")  # noise compresses badly: over 1 MiB as PNG
    out = io.BytesIO()
    noisy.save(out, "PNG")
    assert 1024 * 1024 < len(out.getvalue()) < app.config["UPLOAD_MAX_BYTES"]
    assert send(client, out.getvalue(), name="rauschen.png").status_code == 302


def test_strangers_get_only_the_usual_request_limit_on_the_upload_route(client, app):
    """The larger body limit is for signed-in staff: an anonymous 2 MB body is refused unread (413)."""
    response = client.post("/editor/images", data={"alt": "x", "file": (io.BytesIO(b"\0" * 2_000_000), "a.png")},
                           content_type="multipart/form-data")
    assert response.status_code == 413


def test_other_forms_still_refuse_files(client):
    response = client.post("/login", data={"username": "x", "file": (io.BytesIO(b"x"), "a.txt")},
                           content_type="multipart/form-data")
    assert response.status_code == 415


def test_changing_the_alt_text(author, client):
    send(client)
    upload = db.session.query(Upload).one()
    response = client.post(f"/editor/images/{upload.id}/alt", data={"alt": "Besser beschrieben"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Upload, upload.id).alt == "Besser beschrieben"
    response = client.post(f"/editor/images/{upload.id}/alt", data={"alt": "x" * 400})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "too long" in page and "x" * 400 in page
    assert client.post("/editor/images/999999/alt", data={"alt": "x"}).status_code == 404


def test_deleting_refuses_an_image_in_use_and_removes_an_unused_one(author, client, make, app):
    send(client)
    upload = db.session.query(Upload).one()
    post = make.post("Beitrag mit Foto", body=uploads.markdown_snippet(upload))
    response = client.post(f"/editor/images/{upload.id}/delete", follow_redirects=True)
    assert "Beitrag mit Foto" in response.get_data(as_text=True)
    assert db.session.query(Upload).count() == 1 and stored_files(app)

    db.session.get(Post, post.id).body_md = "kein Bild mehr"
    db.session.commit()
    response = client.post(f"/editor/images/{upload.id}/delete")
    assert response.status_code == 302
    assert db.session.query(Upload).count() == 0 and stored_files(app) == []
    assert client.get(f"/uploads/{upload.name}").status_code == 404


def test_the_library_pages(author, client, monkeypatch):
    monkeypatch.setattr(uploads, "PER_PAGE", 2)
    for i in range(3):
        send(client, image_bytes("PNG", (20, 20), color=(i, 1, 1)), name=f"{i}.png", alt=f"Bild {i}")
    first = client.get("/editor/images").get_data(as_text=True)
    second = client.get("/editor/images?page=2").get_data(as_text=True)
    assert first.count('class="image-card"') == 2 and second.count('class="image-card"') == 1
    assert 'rel="next" href="/editor/images?page=2"' in first and "Page 2 of 2" in second
    assert client.get("/editor/images?page=abc").status_code == 200


def test_the_library_speaks_german_by_default(make, client):
    login(client, make.user("autor", role=Role.AUTHOR))
    page = client.get("/editor/images").get_data(as_text=True)
    assert '<html lang="de">' in page and 'name="alt"' in page


def test_uploads_need_the_csrf_token(tmp_path, make):
    app = create_app(make_settings(tmp_path / "csrf", WTF_CSRF_ENABLED=True))
    app.test_client_class = IsolatedClient
    with app.app_context():
        db.create_all()
        client = app.test_client()
        login(client, make.user("autor", role=Role.AUTHOR))
        assert send(client).status_code == 400
        page = client.get("/editor/images").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
        response = client.post("/editor/images", content_type="multipart/form-data", data={
            "csrf_token": token, "alt": "Mit Token", "image": (io.BytesIO(image_bytes()), "x.jpg")})
        assert response.status_code == 302
        db.session.remove()
        db.engine.dispose()


def test_library_images_in_a_post_get_their_size_and_smaller_copies(app, make):
    """Responsive sizes, added at save: width/height against layout shift, srcset of the resized copies."""
    big = uploads.store(image_bytes("JPEG", (2000, 1000)), "meer.jpg", "Das Meer", None)
    small = uploads.store(image_bytes("PNG", (300, 100), color=(9, 9, 9)), "klein.png", "Klein", None)
    body = f"{uploads.markdown_snippet(big)}\n\n{uploads.markdown_snippet(small)}\n\n![fremd](https://example.org/a.png)"
    post = make.post("Bilder", body=body)
    html = post.body_html
    stem = big.name.rsplit(".", 1)[0]
    assert f'src="/uploads/{big.name}"' in html and 'width="2000" height="1000"' in html
    assert (f'srcset="/uploads/{stem}-480w.jpg 480w, /uploads/{stem}-960w.jpg 960w, /uploads/{stem}-1600w.jpg 1600w, '
            f'/uploads/{big.name} 2000w"') in html and 'sizes="(max-width: 760px) 100vw, 760px"' in html
    assert 'width="300" height="100"' in html and html.count("srcset=") == 1  # no copies: size only
    assert '<img alt="fremd" src="https://example.org/a.png">' in html  # not ours: untouched
    for name in [big.name, *(f"{stem}-{w}w.jpg" for w in big.variants)]:
        assert uploads.file_path(name) is not None  # every candidate of the srcset exists
