"""The page cache for anonymous readers and HTTP caching: what is cached for whom, that every
change readers could see ends it at once (in this process, in another one, through Redis), the
per-request form fields, 304s, compression, Vary, and a cache that fails."""
import gzip
import re
import time
import zlib
from datetime import timedelta

import pytest

from app import create_app
from app.caching import pages
from app.caching.stores import Entry, LocalStore
from app.extensions import db
from app.models import CommentStatus, PostStatus, Role, utcnow
from app.moderation import service
from tests.comment_helpers import FORM, add_comment, post_comment
from tests.conftest import Factory, IsolatedClient, make_settings
from tests.moderation_helpers import login

URL = "/posts/glasfaser-fuer-alle"


@pytest.fixture(params=["local", "redis"])
def cached_app(request, tmp_path):
    """The app with CSRF on (as in production), its page cache in the process or in Redis."""
    settings = {"WTF_CSRF_ENABLED": True}
    if request.param == "redis":
        settings.update(REDIS_URL=request.getfixturevalue("redis_url"), REDIS_PREFIX=f"pc-{time.time_ns()}")
    else:
        settings.update(REDIS_URL=None)  # the PostgreSQL pass gives every app Redis otherwise
    app = create_app(make_settings(tmp_path / "data", **settings))
    app.test_client_class = IsolatedClient
    with app.app_context():
        from tests import databases

        databases.reset(db)
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(cached_app):
    return cached_app.test_client()


@pytest.fixture
def make(cached_app):
    return Factory()  # on this module's app (the shared fixture would push an app of its own)


@pytest.fixture
def post(cached_app, make):
    return make.post("Glasfaser für alle")


def cache(response) -> str | None:
    return response.headers.get("X-Cache")


def form_fields(html: str) -> tuple[str, str]:
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    ts = re.search(r'id="ts" name="ts" type="hidden" value="([^"]+)"', html).group(1)
    return csrf, ts


# --- who gets cached pages ------------------------------------------------------------------------

def test_a_reader_gets_the_page_from_the_cache_the_second_time(client, post):
    assert cache(client.get(URL)) == "MISS"
    again = client.get(URL)
    assert cache(again) == "HIT" and "Glasfaser für alle" in again.text
    assert cache(client.get(URL)) == "HIT"  # and the third time (Flask-Login's "_fresh" is not a sign-in)


def test_each_reader_gets_a_form_of_their_own_from_a_cached_page(cached_app, client, post):
    first = client.get(URL)
    other = cached_app.test_client()
    second = other.get(URL)
    assert cache(second) == "HIT"
    assert form_fields(first.text)[1] != form_fields(second.text)[1]  # the one-time form key
    assert "@@dialog" not in second.text
    # The token from the cached page is this reader's own: the comment goes through CSRF.
    csrf, ts = form_fields(second.text)
    response = other.post(f"{URL}/comments", data={**FORM, "csrf_token": csrf, "ts": ts})
    assert response.status_code == 302, response.text[:500]


def test_signed_in_staff_always_get_fresh_pages(cached_app, client, make, post):
    client.get(URL)
    login(client, make.user("anna", role=Role.MODERATOR))
    response = client.get(URL)
    assert cache(response) is None and response.headers["Cache-Control"] == "no-store"


def test_a_reader_with_a_comment_waiting_sees_it_not_the_cached_page(cached_app, client, post):
    client.get(URL)
    client.get(URL)
    with cached_app.test_request_context():
        pass
    csrf, ts = form_fields(client.get(URL).text)
    assert post_comment(client, post.slug, csrf_token=csrf, ts=ts, body="Meine wartende Frage").status_code == 302
    page = client.get(URL)
    assert cache(page) is None and "Meine wartende Frage" in page.text
    stranger = cached_app.test_client().get(URL)
    assert "Meine wartende Frage" not in stranger.text


def test_a_reader_with_a_reply_waiting_gets_the_cached_page_with_it_and_a_form_that_works(cached_app, client, post):
    question = add_comment(post, body="Eine Frage, die alle sehen")
    cached_app.test_client().get(URL)  # the anonymous page and its threads are kept
    csrf, ts = form_fields(client.get(URL).text)
    sent = post_comment(client, post.slug, csrf_token=csrf, ts=ts, parent_id=str(question.id),
                        body="Meine Antwort wartet noch")
    assert sent.status_code == 302
    client.get(URL)  # the thank-you, once
    page = client.get(URL)
    assert cache(page) is None and "Meine Antwort wartet noch" in page.text
    csrf, ts = form_fields(page.text)
    again = post_comment(client, post.slug, csrf_token=csrf, ts=ts, body="Und noch eine Frage")
    assert again.status_code == 302, again.text[:300]


def test_languages_are_cached_apart(client, post):
    german = client.get(URL, headers={"Accept-Language": "de"})
    english = client.get(URL, headers={"Accept-Language": "en"})
    assert cache(english) == "MISS" and german.text != english.text
    assert cache(client.get(URL, headers={"Accept-Language": "en"})) == "HIT"
    assert set(english.headers["Vary"].replace(" ", "").split(",")) >= {"Accept-Language", "Cookie"}


# --- changes end it at once ---------------------------------------------------------------------------

def test_an_approved_comment_appears_at_once_and_a_pending_one_changes_nothing(cached_app, client, make, post):
    client.get(URL)
    pending = add_comment(post, status=CommentStatus.PENDING, body="Noch nicht freigegeben")
    assert cache(client.get(URL)) == "HIT"  # a pending comment shows nowhere: the cache stays
    service.transition(pending, "approve", actor=make.user("anna", role=Role.MODERATOR))
    page = client.get(URL)
    assert cache(page) == "MISS" and "Noch nicht freigegeben" in page.text


@pytest.mark.parametrize("change", ["edit_post", "reject_comment", "edit_comment", "unpublish"])
def test_every_change_readers_see_ends_the_cached_page(cached_app, client, make, post, change):
    comment = add_comment(post, body="Sichtbarer Kommentar")
    client.get(URL)
    if change == "edit_post":
        post.title = "Glasfaser für wirklich alle"
        db.session.commit()
        assert "für wirklich alle" in client.get(URL).text
        return
    if change == "reject_comment":
        service.transition(comment, "reject", actor=make.user("anna", role=Role.MODERATOR))
        assert "Sichtbarer Kommentar" not in client.get(URL).text
        return
    if change == "edit_comment":
        comment.body_html = "<p>Ganz anders</p>"
        db.session.commit()
        assert "Ganz anders" in client.get(URL).text
        return
    post.status = PostStatus.DRAFT
    db.session.commit()
    assert client.get(URL).status_code == 404


def test_a_scheduled_post_ends_the_entries_when_it_comes_due(cached_app, client, make, post):
    due = utcnow() + timedelta(seconds=90)
    make.post("Kommt gleich", published_at=due)
    client.get("/")
    key = next(iter(cached_app.extensions["page_cache"]._entries)) if isinstance(pages.store(), LocalStore) else None
    if key:
        entry = cached_app.extensions["page_cache"]._entries[key][0]
        assert entry.expires <= due.timestamp() + 1
    assert "Kommt gleich" not in client.get("/").text


def test_a_change_in_another_process_reaches_this_one(cached_app, client, make, post, tmp_path):
    """Workers share the generation (a file in DATA_DIR, or Redis): a second app on the same data is another worker."""
    client.get(URL)
    assert cache(client.get(URL)) == "HIT"
    other = create_app(dict(cached_app.config))
    with other.app_context():
        comment = add_comment(post, body="Von nebenan freigegeben", status=CommentStatus.PENDING)
        service.transition(db.session.merge(comment), "approve", actor=None)
    assert "Von nebenan freigegeben" in client.get(URL).text


# --- HTTP caching ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("url", [URL, "/feed.atom", "/api/v1/posts/glasfaser-fuer-alle/comments", "/"])
def test_conditional_requests_are_answered_304(client, post, url):
    first = client.get(url)
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    assert client.get(url, headers={"If-Modified-Since": modified}).status_code == 304
    assert client.get(url, headers={"If-None-Match": 'W/"something-else"'}).status_code == 200


def test_the_etag_changes_with_the_content(client, make, post):
    etag = client.get(URL).headers["ETag"]
    add_comment(post, body="Neu und sichtbar")
    response = client.get(URL, headers={"If-None-Match": etag})
    assert response.status_code == 200 and response.headers["ETag"] != etag


def test_pages_are_compressed_for_clients_that_accept_it(client, make, post):
    for n in range(5):
        make.post(f"Noch ein Beitrag {n}", body="Ein längerer Text über Netze. " * 20)
    client.get("/feed.atom")
    response = client.get("/feed.atom", headers={"Accept-Encoding": "gzip"})  # stored compressed
    assert cache(response) == "HIT"
    assert response.headers["Content-Encoding"] == "gzip" and b"<feed" in gzip.decompress(response.data)
    page = client.get(URL, headers={"Accept-Encoding": "gzip, br"})
    assert page.headers["Content-Encoding"] == "gzip" and "Glasfaser" in gzip.decompress(page.data).decode()
    assert "Accept-Encoding" in page.headers["Vary"]
    assert "Content-Encoding" not in client.get(URL).headers


def test_a_cached_page_with_a_form_is_compressed_too_and_its_form_still_works(cached_app, post):
    reader = cached_app.test_client()
    reader.get(URL)
    response = reader.get(URL, headers={"Accept-Encoding": "gzip"})
    assert cache(response) == "HIT" and response.headers["Content-Encoding"] == "gzip"
    inflater = zlib.decompressobj(31)
    html = inflater.decompress(response.data).decode()
    assert inflater.eof and not inflater.unused_data  # one well-formed gzip stream, CRC and length checked
    assert "@@dialog" not in html and "Glasfaser für alle" in html
    assert int(response.headers["Content-Length"]) == len(response.data)
    csrf, ts = form_fields(html)
    sent = reader.post(f"{URL}/comments", data={**FORM, "csrf_token": csrf, "ts": ts})
    assert sent.status_code == 302, sent.text[:500]


def test_a_hit_carries_the_headers_the_page_was_sent_with(cached_app, post):
    miss = cached_app.test_client().get(URL)
    hit = cached_app.test_client().get(URL)
    assert cache(miss) == "MISS" and cache(hit) == "HIT"
    per_answer = {"Content-Length", "Set-Cookie", "X-Cache", "Date"}
    assert {k: v for k, v in hit.headers.items() if k not in per_answer} == \
        {k: v for k, v in miss.headers.items() if k not in per_answer}
    assert "Content-Security-Policy" in hit.headers and hit.headers["X-Frame-Options"] == "DENY"
    # A new browser gets its session (the CSRF token's home) as Flask would set it.
    assert "HttpOnly" in hit.headers["Set-Cookie"] and "SameSite=Lax" in hit.headers["Set-Cookie"]
    head = cached_app.test_client().head(URL)
    assert cache(head) == "HIT" and head.data == b"" and int(head.headers["Content-Length"]) > 1000


def test_a_returning_reader_keeps_the_token_of_their_session(cached_app, client, post):
    first = form_fields(client.get(URL).text)[0]
    second = client.get(URL)
    assert cache(second) == "HIT" and "Set-Cookie" not in second.headers  # nothing new to save
    with cached_app.test_request_context():
        from flask_wtf.csrf import validate_csrf
        from itsdangerous import URLSafeTimedSerializer

        signer = URLSafeTimedSerializer(cached_app.secret_key, salt="wtf-csrf-token")
        assert signer.loads(form_fields(second.text)[0]) == signer.loads(first)
        assert validate_csrf is not None


def test_requests_the_cache_must_not_answer_still_reach_flask(cached_app, client, post):
    client.get(URL)
    assert cache(client.get(URL, data="x", content_type="text/plain")) == "MISS"  # a GET with a body: Flask decides
    assert client.get(URL, headers={"Host": "evil.example"}).status_code == 400  # a host we do not serve
    assert cache(client.get(URL + "?x=" + "a" * 600)) is None  # a query too long to be a key


def test_static_files_vary_on_nothing_but_encoding_and_fingerprinted_ones_are_kept_a_year(client, post):
    href = re.search(r'href="(/static/css/site\.css\?v=[0-9a-f]+)"', client.get(URL).text).group(1)
    response = client.get(href, headers={"Accept-Encoding": "gzip"})
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.headers["Vary"] == "Accept-Encoding" and response.headers["Content-Encoding"] == "gzip"
    assert client.get("/static/css/site.css?v=old").headers["Cache-Control"] == "public, max-age=300"


# --- what could go wrong ---------------------------------------------------------------------------------

def test_our_marks_written_into_a_comment_are_never_cut_out(client, post):
    add_comment(post, body="Ich schreibe @@dialog-csrf@@ und @@dialog-ts@@ hin")
    client.get(URL)
    again = client.get(URL)
    assert "@@dialog-csrf@@ und @@dialog-ts@@" in again.text and cache(again) == "MISS"


def test_a_cache_that_fails_means_fresh_pages(cached_app, client, post, monkeypatch):
    def broken(*_args):
        raise ConnectionError("cache down")

    store = pages.store()
    for method in ("lookup", "generation", "put"):  # all of it, as when Redis is down
        monkeypatch.setattr(store, method, broken)
    response = client.get(URL)
    assert response.status_code == 200 and cache(response) is None
    monkeypatch.undo()
    client.get(URL)
    monkeypatch.setattr(store, "bump", broken)
    comment = add_comment(post, body="Trotzdem gespeichert")  # the commit stands although the bump fails
    db.session.expire_all()
    assert db.session.get(type(comment), comment.id) is not None
    page = client.get(URL)
    assert page.status_code == 200
    if isinstance(store, LocalStore):  # this process forgot its pages; Redis entries end with their TTL
        assert "Trotzdem gespeichert" in page.text


def test_entries_from_a_stranger_are_misses_not_code():
    assert Entry.load(b"\x80\x04not-ours") is None
    assert Entry.load(b'{"generation": 1}\nbody') is None
    entry = Entry(generation="3", expires=1.0, status=200, content_type="text/html", etag="e", last_modified=1,
                  body=b"<p>x</p>@@dialog-csrf@@<p>y</p>", gzip_body=b"abcde", gzip_lengths=[2, 3],
                  headers=[("Link", "<a>")])
    assert Entry.load(entry.dump()) == entry
    assert Entry.load(entry.dump()).segments() == [b"ab", b"cde"]
    assert entry.parts() == ([b"<p>x</p>", b"<p>y</p>"], [b"@@dialog-csrf@@"])
    entry.gzip_lengths = [2, 9]  # lengths that do not add up: not ours
    assert Entry.load(entry.dump()) is None


def test_the_local_store_keeps_within_its_memory(tmp_path):
    store = LocalStore(str(tmp_path), memory_bytes=40_000)
    for n in range(20):
        store.put(f"k{n}", Entry(generation=store.generation(), expires=time.time() + 60, status=200,
                                 content_type="text/html", etag=str(n), last_modified=1, body=b"x" * 5000))
    assert store._size <= 40_000 and store.lookup("k19")[0] is not None and store.lookup("k0")[0] is None
    store.bump()
    assert store.lookup("k19")[0] is None
