"""Security headers on every response, no inline code for the CSP to block, and Host-header safety."""
import logging
import re
import threading
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from werkzeug.serving import make_server

from app import create_app
from app.config import Config
from app.extensions import db
from app.models import CommentStatus, ResponseStatus, Role, utcnow
from tests.comment_helpers import add_comment, post_comment
from tests.conftest import make_settings
from tests.moderation_helpers import login

POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; font-src 'self'; "
          "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
HEADERS = {
    "Content-Security-Policy": POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}
HSTS = "max-age=31536000; includeSubDomains"
EVIL = "evil.example"


def assert_security_headers(response, *, hsts: bool = False) -> None:
    for name, value in HEADERS.items():
        assert response.headers.get(name) == value, f"{name} on {response.request.path} ({response.status_code})"
    policy = response.headers["Permissions-Policy"]
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert f"{feature}=()" in policy
    assert ("Strict-Transport-Security" in response.headers) is hsts
    if hsts:
        assert response.headers["Strict-Transport-Security"] == HSTS


def new_app(tmp_path, **settings):
    app = create_app(make_settings(tmp_path / "other-data", **settings))
    with app.app_context():
        db.create_all()
    return app


@pytest.fixture
def post(make):
    post = make.post("Glasfaser im Dorf", body="Text mit Bild: ![Karte](https://cdn.example.org/karte.png)")
    add_comment(post, body="Wann geht es los?")
    return post


# --- the headers ---------------------------------------------------------------------------------

def test_the_default_policy_is_the_documented_one():
    assert Config.CONTENT_SECURITY_POLICY == POLICY
    assert "unsafe-inline" not in POLICY and "unsafe-eval" not in POLICY


@pytest.mark.parametrize("method, path", [
    ("GET", "/"),
    ("GET", "/posts/glasfaser-im-dorf"),
    ("GET", "/feed.atom"),
    ("GET", "/posts/glasfaser-im-dorf/comments.atom"),
    ("GET", "/sitemap.xml"),
    ("GET", "/static/css/site.css"),
    ("GET", "/static/js/comments.js"),
    ("GET", "/posts/gibt-es-nicht"),  # 404
    ("POST", "/feed.atom"),  # 405
    ("GET", "/api/v1/posts/glasfaser-im-dorf/comments"),
    ("GET", "/healthz"),
    ("GET", "/login"),
])
def test_every_kind_of_response_carries_the_headers(client, post, method, path):
    response = client.open(path, method=method)
    assert response.status_code in (200, 404, 405)
    assert_security_headers(response)


def test_rate_limited_response_carries_the_headers(tmp_path, make):
    app = new_app(tmp_path, COMMENT_RATE_LIMIT="1 per minute")
    with app.app_context():
        post = make.post("Ratenlimit")
        client = app.test_client()
        assert post_comment(client, post.slug).status_code == 302
        response = post_comment(client, post.slug, body="Noch einmal, schnell.")
    assert response.status_code == 429
    assert_security_headers(response)


def test_server_error_carries_the_headers(app, client):
    app.config["PROPAGATE_EXCEPTIONS"] = False  # answer with the 500 page, as in production

    def broken():
        raise RuntimeError("boom")

    app.add_url_rule("/broken-for-test", "broken_for_test", broken)
    response = client.get("/broken-for-test")
    assert response.status_code == 500
    assert_security_headers(response)


def test_every_get_route_without_arguments_sends_the_policy(app, client):
    rules = [rule for rule in app.url_map.iter_rules() if "GET" in rule.methods and not rule.arguments]
    assert len(rules) > 10
    for rule in rules:
        response = client.get(rule.rule)
        assert response.headers.get("Content-Security-Policy") == POLICY, rule.rule
        assert response.headers.get("X-Frame-Options") == "DENY", rule.rule


def test_hsts_only_when_the_site_is_served_over_https(tmp_path):
    https = new_app(tmp_path / "https", SITE_URL="https://blog.example.org")
    response = https.test_client().get("/robots.txt", base_url="https://blog.example.org")
    assert response.status_code == 200
    assert_security_headers(response, hsts=True)

    plain = new_app(tmp_path / "http", SITE_URL="http://blog.example.org")
    assert_security_headers(plain.test_client().get("/robots.txt", base_url="http://blog.example.org"))
    assert_security_headers(new_app(tmp_path / "unset").test_client().get("/robots.txt"))


def test_a_view_may_send_its_own_policy(app, client):
    def own():
        return "x", 200, {"Content-Security-Policy": "default-src 'none'"}

    app.add_url_rule("/own-policy-for-test", "own_policy_for_test", own)
    assert client.get("/own-policy-for-test").headers["Content-Security-Policy"] == "default-src 'none'"


# --- caching of staff pages ----------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/login", "/moderation/", "/admin/users", "/account/password", "/moderation"])
def test_staff_sections_are_never_stored_even_signed_out(client, path):
    response = client.get(path)
    assert response.headers["Cache-Control"] == "no-store"
    assert "Cookie" in response.headers["Vary"]


def test_everything_a_signed_in_user_gets_is_never_stored(client, make, post):
    login(client, make.user("anna", role=Role.MODERATOR))
    for path in ("/moderation/", "/moderation/stats", "/", "/posts/glasfaser-im-dorf", "/feed.atom"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "no-store", path
        assert "Cookie" in response.headers["Vary"]
        assert_security_headers(response)
    # Static files are the same for everyone: the browser may keep them, a fingerprinted URL a year.
    assert client.get("/static/css/site.css").headers["Cache-Control"] == "public, max-age=300"
    fingerprinted = re.search(r'href="(/static/css/site\.css\?v=[0-9a-f]+)"', client.get("/").text).group(1)
    assert client.get(fingerprinted).headers["Cache-Control"] == "public, max-age=31536000, immutable"


def test_a_user_who_cannot_be_loaded_gets_no_store_not_a_500(app, client, make, monkeypatch):
    from sqlalchemy.exc import OperationalError

    login(client, make.user("anna", role=Role.MODERATOR))

    def database_down(user_id):
        raise OperationalError("SELECT", {}, Exception("database is down"))

    monkeypatch.setattr(app.login_manager, "_user_callback", database_down)
    response = client.get("/robots.txt")  # a view that does not load the user itself
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert_security_headers(response)


def test_public_pages_keep_their_caching_for_readers(client, post):
    for path in ("/", "/posts/glasfaser-im-dorf", "/feed.atom", "/static/css/site.css"):
        assert "no-store" not in client.get(path).headers.get("Cache-Control", ""), path


# --- no inline code for the policy to block ------------------------------------------------------

class InlineCode(HTMLParser):
    """Collects what `script-src 'self'` / `style-src 'self'` would block: inline scripts and styles,
    event-handler attributes, javascript: URLs."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "style":
            self.found.append("<style> block")
        if tag == "script" and not attrs.get("src"):
            self._in_script = True
        for name, value in attrs.items():
            if name == "style" or name.startswith("on"):
                self.found.append(f"<{tag} {name}={value!r}>")
            if name in ("href", "src", "action", "formaction") and (value or "").strip().lower().startswith(
                    "javascript:"):
                self.found.append(f"<{tag} {name}={value!r}>")

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.found.append(f"inline <script>: {data.strip()[:60]}")


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    return parser.found


def test_the_inline_code_finder_finds_inline_code():
    html = ('<p style="color:red">x</p><button onclick="go()">b</button><a href=" JavaScript:go()">l</a>'
            '<style>p{}</style><script>go()</script><script src="/static/js/queue.js"></script>')
    assert len(inline_code(html)) == 5


def test_no_page_has_inline_scripts_or_styles(app, client, make, post):
    admin = make.user("admin", role=Role.ADMIN)
    now = utcnow()
    for minutes in (30, 600, 3000):  # something for every chart on the stats page
        add_comment(post, name="Petra", minutes_ago=minutes, response_status=ResponseStatus.ANSWERED,
                    moderated_at=now - timedelta(minutes=minutes - 5), answered_at=now - timedelta(minutes=minutes - 9))
    pending = add_comment(post, status=CommentStatus.PENDING, body="Offen?",
                          response_status=ResponseStatus.NEEDS_ANSWER)
    rules = [rule.rule for rule in app.url_map.iter_rules() if "GET" in rule.methods and not rule.arguments]
    pages = [*rules, f"/posts/{post.slug}", f"/moderation/comments/{pending.id}"]
    for signed_in in (False, True):
        if signed_in:
            login(client, admin)
        for path in pages:
            response = client.get(path)
            if response.mimetype == "text/html":
                assert inline_code(response.get_data(as_text=True)) == [], (path, signed_in)
    stats = client.get("/moderation/stats").get_data(as_text=True)
    assert "<svg" in stats and "<rect" in stats  # the charts were drawn, and checked above


# --- hosts ---------------------------------------------------------------------------------------

def test_trusted_hosts_default_to_local_names_without_a_site_url(app):
    assert app.config["TRUSTED_HOSTS"] == ["127.0.0.1", "localhost"]


def test_trusted_hosts_follow_the_site_url_unless_set(tmp_path, monkeypatch):
    assert new_app(tmp_path / "a", SITE_URL="https://Blog.Example.org:8443/").config["TRUSTED_HOSTS"] == [
        "blog.example.org"]
    own = new_app(tmp_path / "b", SITE_URL="https://blog.example.org", TRUSTED_HOSTS=["intern.example"])
    assert own.config["TRUSTED_HOSTS"] == ["intern.example"]

    def from_environment(value: str) -> list[str]:
        monkeypatch.setenv("BLOG_TRUSTED_HOSTS", value)
        monkeypatch.setenv("BLOG_SITE_URL", "https://blog.example.org")
        return create_app({"TESTING": True, "DATA_DIR": str(tmp_path / "env")}).config["TRUSTED_HOSTS"]

    assert from_environment("blog.example.org, www.example.org") == ["blog.example.org", "www.example.org"]
    assert from_environment('["intern.example"]') == ["intern.example"]
    assert from_environment("[]") == []  # the operator's "answer any Host" stays


@pytest.mark.parametrize("method, path", [
    ("GET", "/"), ("GET", "/posts/glasfaser-im-dorf"), ("GET", "/feed.atom"), ("GET", "/sitemap.xml"),
    ("GET", "/robots.txt"), ("GET", "/healthz"), ("GET", "/gibt-es-nicht/wirklich"), ("GET", "/static/css/site.css"),
    ("POST", "/posts/glasfaser-im-dorf/comments"), ("GET", "/moderation/"),
])
def test_a_forged_host_gets_the_400_page_not_a_500(client, post, method, path):
    response = client.open(path, method=method, headers={"Host": EVIL})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert EVIL not in body and EVIL not in str(response.headers)
    assert 'class="error-code">400<' in body  # the site's own error page, in its layout
    assert_security_headers(response)


def test_local_hosts_with_a_port_are_answered_and_linked(client, post):
    for host in ("127.0.0.1:5123", "localhost"):
        html = client.get("/posts/glasfaser-im-dorf", headers={"Host": host}).get_data(as_text=True)
        assert f'<link rel="canonical" href="http://{host}/posts/glasfaser-im-dorf">' in html


def test_links_never_carry_an_untrusted_host_even_when_any_host_is_answered(tmp_path, make):
    app = new_app(tmp_path, TRUSTED_HOSTS=[])  # the operator let every Host through
    with app.app_context():
        post = make.post("Glasfaser im Dorf")
        client = app.test_client()
        pages = {path: client.get(path, headers={"Host": EVIL})
                 for path in ("/", f"/posts/{post.slug}", "/feed.atom", f"/posts/{post.slug}/comments.atom",
                              "/sitemap.xml", "/robots.txt")}
    for path, response in pages.items():
        assert response.status_code == 200, path
        assert EVIL not in response.get_data(as_text=True), path
    assert "http://127.0.0.1:5000/posts/glasfaser-im-dorf" in pages[f"/posts/{post.slug}"].get_data(as_text=True)


def test_with_a_site_url_links_use_it_and_other_hosts_are_refused(tmp_path, make):
    app = new_app(tmp_path, SITE_URL="https://blog.example.org")
    with app.app_context():
        post = make.post("Glasfaser im Dorf")
        client = app.test_client()
        site = "https://blog.example.org"
        html = client.get(f"/posts/{post.slug}", base_url=site).get_data(as_text=True)
        feed = client.get("/feed.atom", base_url=site).get_data(as_text=True)
        sitemap = client.get("/sitemap.xml", base_url=site).get_data(as_text=True)
        forged = client.get(f"/posts/{post.slug}", base_url=f"https://{EVIL}")
        local = client.get(f"/posts/{post.slug}")  # Host: localhost is not this site's either
    assert f'<link rel="canonical" href="{site}/posts/glasfaser-im-dorf">' in html
    assert f"<id>{site}/</id>" in feed and f"<loc>{site}/posts/glasfaser-im-dorf</loc>" in sitemap
    assert forged.status_code == 400 and EVIL not in forged.get_data(as_text=True)
    assert local.status_code == 400


# --- the warning at start ------------------------------------------------------------------------

def test_a_missing_site_url_is_logged_once_at_start_outside_tests(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        create_app(make_settings(tmp_path / "a", TESTING=False))
    assert len([r for r in caplog.records if r.getMessage().startswith("BLOG_SITE_URL is not set:")]) == 1
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        create_app(make_settings(tmp_path / "b", TESTING=False, SITE_URL="https://blog.example.org"))
        create_app(make_settings(tmp_path / "c"))  # TESTING
        create_app(make_settings(tmp_path / "d", TESTING=False, DEBUG=True))
    assert not [r for r in caplog.records if "BLOG_SITE_URL" in r.getMessage()]


# --- the browser's view: the e2e check for violations works against the real header -------------

PROBE = ('<!doctype html><html lang="en"><head><title>probe</title></head><body>'
         '<p style="color: red">styled inline</p><script>document.title = "inline ran";</script></body></html>')


@pytest.fixture
def served(app):
    """Base URL of the test's own app (with a page of inline code at /csp-probe) on a real port."""
    app.add_url_rule("/csp-probe", "csp_probe", lambda: PROBE)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()


@pytest.mark.e2e
def test_the_browser_check_catches_violations_of_the_real_header(playwright, served, make, post):
    from tests.e2e.conftest import CHROMIUM, BrowserProblems

    mod = make.user("anna", role=Role.MODERATOR, password="ein langes Test-Passwort")
    add_comment(post, status=CommentStatus.PENDING, body="Wann kommt der Bagger?",
                response_status=ResponseStatus.NEEDS_ANSWER)
    browser = playwright.chromium.launch(**CHROMIUM)
    try:
        problems = BrowserProblems()
        page = problems.watch(browser.new_context()).new_page()

        page.set_content(PROBE)  # no header, no policy: the inline script runs, nothing to report
        assert page.title() == "inline ran" and problems.take() == []

        page.goto(f"{served}/csp-probe")
        assert page.title() == "probe"  # blocked by the header
        found = problems.take()
        assert any("CSP violation" in line and "inline script" in line for line in found), found
        assert any("inline style" in line for line in found), found

        page.evaluate("setTimeout(() => { throw new Error('kaputt') })")
        assert any("JavaScript error" in line and "kaputt" in line for line in problems.take())

        # The real pages, staff pages with their charts and scripts included, break none of it.
        page.goto(f"{served}/posts/{post.slug}")
        page.goto(f"{served}/login")
        page.locator("#username").fill(mod.username)
        page.locator("#password").fill("ein langes Test-Passwort")
        page.locator("main form button[type=submit]").click()
        page.wait_for_url(f"{served}/moderation/")
        for path in ("/moderation/", "/moderation/stats", "/moderation/canned", "/account/notifications"):
            assert page.goto(f"{served}{path}").status == 200, path
            page.wait_for_load_state("load")
        assert problems.take() == []
    finally:
        browser.close()
