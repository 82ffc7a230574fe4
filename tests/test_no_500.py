"""No request anyone can make answers 5xx.

Every rule of the URL map, with every method it allows, is requested by an anonymous visitor and
by a signed-in admin, with generated URL arguments (ids near 2^63 and 2^64, unicode, path-like
strings, the fixture's real ids and slugs), query strings and bodies (forms with odd values and
repeated fields, JSON objects and lists, raw bytes under any content type, file uploads). One app
and one small database per module keep the walk fast; a smaller pass runs with CSRF on, whose
error path differs. Exceptions propagate (TESTING), so a crash shows its traceback.
NO500_EXAMPLES=200 searches deeper than the default, which keeps the file well under a minute.
"""
import os
import re
import tempfile
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from flask import Flask, session as flask_session
from flask_wtf.csrf import generate_csrf
from hypothesis import HealthCheck, given, settings, strategies as st
from werkzeug.datastructures import MultiDict

from app import create_app
from app.comments.notifications import token_for
from app.extensions import db
from app.models import CannedResponse, CommentStatus, Page, Role, Subscription, User, utcnow
from app.search import index as search
from tests import databases
from tests.comment_helpers import FORM, add_comment
from tests.conftest import Factory, IsolatedClient, make_settings

ARGUMENT = re.compile(r"<(?:(?P<converter>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>")
MAX_ID = 2**63 - 1
PASSWORD = "correct horse battery"
NEAR_LIMITS = [MAX_ID - 1, MAX_ID, MAX_ID + 1, 2**64 - 1, 2**64, 2**64 + 1, 10**30]


def _routes() -> list[tuple[str, str, frozenset]]:
    """(endpoint, rule, methods) of every route, read from a throwaway app at collection time."""
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(make_settings(Path(tmp) / "data"))
        return sorted((rule.endpoint, rule.rule, frozenset(rule.methods)) for rule in app.url_map.iter_rules())


ROUTES = _routes()
POST_ROUTES = [route for route in ROUTES if "POST" in route[2]]


@dataclass
class Site:
    """An app with a small database: something real behind every kind of URL argument."""

    app: Flask
    admin_id: int
    admin_hash: str
    ints: dict = field(default_factory=dict)  # argument name → existing ids
    strs: dict = field(default_factory=dict)  # argument name → existing values
    csrf: bool = False
    statuses: list = field(default_factory=list)

    def client(self, who: str):
        """A new browser: anonymous, or signed in through the login form (whatever the session scheme)."""
        client = self.app.test_client()
        if who == "admin":
            self._give_csrf_token(client)
            response = client.post("/login", data={"username": "admin", "password": PASSWORD,
                                                   "csrf_token": getattr(client, "csrf_token", "")})
            assert response.status_code == 302, f"the admin could not sign in: {response.status_code}"
        self._give_csrf_token(client)  # signing in starts a new session, with no token yet
        return client

    def _give_csrf_token(self, client) -> None:
        if not self.csrf:
            return
        with client.session_transaction() as session, self.app.test_request_context():
            client.csrf_token = generate_csrf()  # signed; the session keeps the raw token
            session["csrf_token"] = flask_session["csrf_token"]

    def keep_admin(self):
        """Generated POSTs may demote, deactivate or re-password the admin; the next example needs them back."""
        with self.app.app_context():
            admin = db.session.get(User, self.admin_id)
            admin.role, admin.active, admin.password_hash = Role.ADMIN, True, self.admin_hash
            db.session.commit()


def _build_site(tmp_path_factory, **overrides) -> Site:
    with pytest.MonkeyPatch.context() as env:
        for key in list(os.environ):
            if key.startswith("BLOG_"):  # a developer's settings must not change the walk
                env.delenv(key)
        database = databases.fresh_url()  # PostgreSQL: a database of its own, not the one tests empty
        if database:
            overrides["DATABASE_URL"] = database
        app = create_app(make_settings(tmp_path_factory.mktemp("no500") / "data", **overrides))
    app.test_client_class = IsolatedClient
    with app.app_context():
        db.create_all()
        make = Factory()
        admin = make.user("admin", role=Role.ADMIN, password=PASSWORD)
        moderator = make.user("mona", role=Role.MODERATOR)
        category = make.category("Netzkultur")
        post = make.post("Ein Beitrag", category=category, tags=["Glasfaser"], author=moderator)
        question = add_comment(post, status=CommentStatus.APPROVED, body="Wann kommt Glasfaser?")
        answer = add_comment(post, parent=question, user_id=moderator.id, body="Im Mai.")
        pending = add_comment(post, status=CommentStatus.PENDING, email="petra@example.org")
        spam = add_comment(post, status=CommentStatus.SPAM)
        canned = CannedResponse(title="Danke", lang="de", body_md="Danke, {name}!")
        subscription = Subscription(email="leser@example.org", comment_id=question.id, confirmed_at=utcnow())
        page = Page(slug="impressum", title="Impressum", body_md="x", body_html="<p>Sternwelle GmbH</p>")
        db.session.add_all([canned, subscription, page])
        db.session.commit()
        search.rebuild()
        with app.test_request_context():
            tokens = [token_for(subscription, "confirm"), token_for(subscription, "unsubscribe")]
        comments = [question.id, answer.id, pending.id, spam.id]
        users = [admin.id, moderator.id, post.author_id]
        site = Site(app=app, admin_id=admin.id, admin_hash=admin.password_hash,
                    csrf=bool(overrides.get("WTF_CSRF_ENABLED")))
        site.ints = {"comment_id": comments, "response_id": [canned.id], "user_id": users, "post_id": [post.id],
                     "year": [post.published_at.year, 1900, 9998, 9999], "month": [post.published_at.month, 0, 12, 13]}
        site.strs = {"slug": [post.slug, category.slug, "glasfaser", page.slug], "username": ["mona", "admin"],
                     "token": tokens, "code": ["de", "en"], "filename": ["css/site.css", "js/queue.js"],
                     "action": ["approve", "reject", "spam", "delete", "restore"]}
        db.session.remove()
    return site


def _close(site: Site) -> None:
    with site.app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    site = _build_site(tmp_path_factory)
    yield site
    _close(site)
    _report_throttling(site)


@pytest.fixture(scope="module")
def csrf_site(tmp_path_factory):
    # A real comment limit here, so the 429 answer of the comment form is walked with odd bodies too.
    site = _build_site(tmp_path_factory, WTF_CSRF_ENABLED=True, COMMENT_RATE_LIMIT="3 per minute")
    yield site
    _close(site)


def _report_throttling(site: Site) -> None:
    throttled = site.statuses.count(429)
    assert throttled <= len(site.statuses) // 20, f"{throttled} of {len(site.statuses)} answers were 429"


# --- generated input -------------------------------------------------------------------------

ODD_STRINGS = ["", " ", "0", "-1", "+1", "1.5", "1e9", "0x10", "١٢", "NaN", "null", "true", "[]", "{}",
               str(MAX_ID), str(MAX_ID + 1), str(2**64), "9" * 19, "9" * 30, "9" * 5000, "../../etc/passwd",
               "..", "a/b", "/", "//evil.example", "\\\\evil", "%00", "%ff", "\x00", "\u202e", "ä", "ß", "😀",
               "\ufeff", "<script>alert(1)</script>", "' OR 1=1 --", "*", "?", "#", "a" * 300, "x" * 20000,
               "approve", "pending", "petra@example.org", "https://example.org", "javascript:alert(1)",
               "1:pending", "CON", "\r\nSet-Cookie: x=1"]
odd_text = st.one_of(st.sampled_from(ODD_STRINGS), st.text(max_size=40),
                     st.from_regex(r"-?[0-9]{1,25}", fullmatch=True))

QUERY_KEYS = ["page", "cpage", "order", "show", "q", "kind", "category", "sort", "view", "post", "assigned",
              "breaching", "group", "canned", "weeks", "email", "next", "lang"]
FORM_KEYS = ["name", "email", "body", "website", "consent", "notify", "parent_id", "ts", "homepage", "csrf_token",
             "reason", "details", "expected", "next", "action", "ids", "assignee", "response_status", "topic", "to",
             "note", "preview", "as_team", "expect_unanswered", "title", "lang", "body_md", "username", "password",
             "remember", "display_name", "role", "active", "new_password", "generate", "current", "new", "repeat",
             "List-Unsubscribe", "confirm"]
# Values that get past the forms' validators, so generated changes reach the services too.
VALID = {**FORM, "reason": "spam", "details": "", "expected": "pending", "next": "/moderation/", "action": "approve",
         "to": "Technik", "note": "Bitte prüfen.", "as_team": "team", "expect_unanswered": "1", "title": "Danke",
         "lang": "de", "body_md": "Danke, {name}!", "response_status": "answered", "topic": "question",
         "username": "neu", "display_name": "Neu", "role": "author", "password": "correct horse battery staple",
         "List-Unsubscribe": "One-Click"}

form_key = st.one_of(st.sampled_from(FORM_KEYS), st.text(max_size=20), st.just("k" * 100_000))
form_pairs = st.lists(st.tuples(form_key, odd_text), max_size=6)


@st.composite
def form_body(draw, ids):
    """A form as a browser would send it: mostly valid, with some fields dropped, changed or repeated."""
    pairs = [(k, v) for k, v in VALID.items() if draw(st.booleans())]
    for _ in range(draw(st.integers(0, 2))):  # the queue's bulk boxes: "id:status as shown"
        pairs.append(("ids", f"{draw(st.sampled_from(ids + NEAR_LIMITS))}:{draw(odd_text)}"))
    pairs += [(k, str(draw(st.sampled_from(ids + NEAR_LIMITS)))) for k in draw(st.lists(
        st.sampled_from(["parent_id", "assignee", "ids", "expected"]), max_size=2))]
    pairs += draw(form_pairs)
    return MultiDict(pairs)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | odd_text,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.sampled_from(FORM_KEYS) | st.text(max_size=8),
                                                                     children, max_size=4),
    max_leaves=8)
CONTENT_TYPES = ["application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=latin-1",
                 "multipart/form-data", "multipart/form-data; boundary=x", "multipart/form-data; boundary=",
                 "application/json", "application/json; charset=utf-16", "application/problem+json", "text/plain",
                 "application/xml", "application/octet-stream", "text/html; charset=unknown-8bit", ""]
raw_bytes = st.one_of(st.binary(max_size=200), st.sampled_from([
    b"name=%ff%fe&body=%c3", b"\xff\xfe\x00", b"name=a&name=b&body=x&body=y&consent=y", b"[1, 2]", b"{\"body\": 5}",
    b"--x\r\nContent-Disposition: form-data; name=\"body\"\r\n\r\nHallo\r\n--x--\r\n",
    b"--x\r\nContent-Disposition: form-data; name=\"body\"; filename=\"a.txt\"\r\n\r\nHallo\r\n--x--\r\n",
    b"--x\r\nContent-Disposition: form-data\r\n\r\n", b"=" * 1000, b"&" * 1000, b"a=" + b"%" * 100]))


@st.composite
def request_body(draw, ids):
    """Keyword arguments for the test client's `open`: no body, a form, JSON, raw bytes or a file upload."""
    kind = draw(st.sampled_from(["none", "form", "form", "form", "json", "json", "raw", "file"]))
    if kind == "form":
        return {"data": draw(form_body(ids))}
    if kind == "json":
        return {"json": draw(json_values)}
    if kind == "raw":
        return {"data": draw(raw_bytes), "content_type": draw(st.sampled_from(CONTENT_TYPES))}
    if kind == "file":  # no form here takes files: one where a text field is expected
        data = draw(form_body(ids))
        data.add(draw(st.sampled_from(FORM_KEYS)), (BytesIO(draw(st.binary(max_size=50))), draw(odd_text) or "f.txt"))
        return {"data": data, "content_type": "multipart/form-data"}
    return {}


@st.composite
def query_string(draw, ids):
    pairs = draw(st.lists(st.tuples(st.sampled_from(QUERY_KEYS) | st.text(max_size=8),
                                    odd_text | st.sampled_from([str(i) for i in ids + NEAR_LIMITS])), max_size=4))
    encoded = urlencode(pairs)
    raw = draw(st.sampled_from(["", "", "", "&page=%ff", "&%ff=1", "&page=1&page=99999999999999999999", "&&=&"]))
    return (encoded + raw).lstrip("&")


@st.composite
def url_for_rule(draw, site: Site, rule: str):
    """The rule with every argument filled: a real value, a number near a limit, or an odd string."""
    def fill(m):
        converter, name = m["converter"] or "string", m["name"]
        if converter == "int":
            value = draw(st.one_of(st.sampled_from(site.ints.get(name, [1]) + NEAR_LIMITS + [0]),
                                   st.integers(min_value=0, max_value=2**70)))
            if draw(st.integers(0, 9)):
                return str(value)
            return draw(st.sampled_from(["-1", "١٢", "1.0", "01", "9" * 5000]))
        real = site.strs.get(name, [])
        value = draw(st.sampled_from(real)) if real and draw(st.booleans()) else draw(odd_text)
        return quote(value, safe="/" if converter == "path" or draw(st.booleans()) else "")
    return ARGUMENT.sub(fill, rule)


HEADERS = {
    "Accept": ["application/json", "text/html", "*/*", "application/json;q=0.9, text/html;q=0.1", "garbage/;;"],
    "Accept-Language": ["de", "en", "xx", "*", "en-US,en;q=0.5", "de;q=abc", "a" * 300],
    "If-Modified-Since": ["Sat, 29 Oct 1994 19:43:31 GMT", "gestern", "Mon, 99 Foo 99999 99:99:99 GMT"],
    "If-None-Match": ['"abc"', "*", "W/", '"' * 5], "Range": ["bytes=0-1", "bytes=5-1", "bytes=-0", "pages=1"],
    "Referer": ["https://evil.example/", "ä", ""], "X-Forwarded-For": ["1.2.3.4", "::1", "nonsense, , ,"],
    "Host": ["localhost", "evil.example", "localhost:99999", "[::1"],
}
COOKIES = ["session", "remember_token", "lang", "dialog_reader", "dialog_device"]


@st.composite
def request_headers(draw):
    """Some request headers with odd values; most examples send none."""
    names = draw(st.lists(st.sampled_from(sorted(HEADERS)), max_size=2, unique=True))
    return {name: draw(st.sampled_from(HEADERS[name]) | odd_text.filter(str.isprintable)) for name in names}


cookies = st.lists(st.tuples(st.sampled_from(COOKIES), odd_text.filter(
    lambda v: v.isascii() and v.isprintable() and len(v) < 4000)), max_size=2)  # browsers drop larger cookies


def _walk(site: Site, rule: str, who: str, methods, examples: int):
    ids = sorted({i for values in site.ints.values() for i in values})

    @settings(max_examples=examples, deadline=None, database=None, print_blob=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
    @given(method=st.sampled_from(sorted(methods)), url=url_for_rule(site, rule), query=query_string(ids),
           body=request_body(ids), headers=request_headers(), cookies=cookies, with_token=st.booleans())
    def check(method, url, query, body, headers, cookies, with_token):
        client = site.client(who)
        for name, value in cookies:  # forged or stale cookies, over the ones signing in set
            client.set_cookie(name, value)
        if site.csrf and with_token and isinstance(body.get("data"), MultiDict):
            body["data"].add("csrf_token", client.csrf_token)
        response = client.open(url, method=method, query_string=query, headers=headers, buffered=True, **body)
        site.statuses.append(response.status_code)
        assert response.status_code < 500, f"{method} {url}?{query} {body!r:.300} as {who}: {response.status_code}"
        if who == "admin" and method == "POST":
            site.keep_admin()

    check()


@pytest.mark.parametrize("who", ["anonymous", "admin"])
@pytest.mark.parametrize("endpoint,rule,methods", ROUTES, ids=[endpoint for endpoint, *_rest in ROUTES])
def test_no_route_answers_5xx(site, endpoint, rule, methods, who):
    _walk(site, rule, who, methods, examples=int(os.environ.get("NO500_EXAMPLES", 12)))


@pytest.mark.parametrize("who", ["anonymous", "admin"])
@pytest.mark.parametrize("endpoint,rule,methods", POST_ROUTES, ids=[endpoint for endpoint, *_rest in POST_ROUTES])
def test_no_route_answers_5xx_with_csrf_on(csrf_site, endpoint, rule, methods, who):
    _walk(csrf_site, rule, who, {"POST"}, examples=4)


# --- the findings, one by one ------------------------------------------------------------------

@pytest.fixture
def world(app, make):
    """A post with a comment, a canned response, and a browser signed in as an admin."""
    admin = make.user("admin", role=Role.ADMIN, password=PASSWORD)
    post = make.post("Offen antworten", category=make.category("Netzkultur"))
    comment = add_comment(post)
    canned = CannedResponse(title="Danke", lang="de", body_md="Danke!")
    db.session.add(canned)
    db.session.commit()
    search.rebuild()
    staff = app.test_client()
    assert staff.post("/login", data={"username": admin.username, "password": PASSWORD}).status_code == 302
    return {"post": post.slug, "comment": comment.id, "canned": canned.id, "staff": staff}


def html(response) -> str:
    return response.get_data(as_text=True)


def is_error_page(response, code: int) -> bool:
    return response.status_code == code and 'class="error-page"' in html(response)


ID_URLS = ["/posts/{post}/comments/{id}", "/posts/{post}/comments/{id}/reply", "/posts/{post}/comments/{id}/edit",
           "/posts/{post}/comments/{id}/report"]
STAFF_ID_URLS = ["/moderation/comments/{id}", "/moderation/canned/{id}", "/moderation/comments/{id}/similar",
                 "/admin/users/{id}"]


@pytest.mark.parametrize("number", [MAX_ID, MAX_ID + 1, 2**64, 10**30])
def test_ids_beyond_any_integer_column_are_not_found(world, client, number):
    for template in ID_URLS:
        assert is_error_page(client.get(template.format(post=world["post"], id=number)), 404), template
    for template in STAFF_ID_URLS:
        assert is_error_page(world["staff"].get(template.format(id=number)), 404), template
    assert is_error_page(world["staff"].post(f"/moderation/comments/{number}/approve", data={}), 404)


ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
HUGE = "99999999999999999999"


def test_ids_are_ascii_digits_only(world, client):
    # int("١") is 1: Werkzeug's \d would answer the Arabic-Indic spelling as a second URL of the page.
    number = str(world["comment"])
    assert client.get(f"/posts/{world['post']}/comments/{number}").status_code == 302
    assert client.get(f"/posts/{world['post']}/comments/{number.translate(ARABIC_INDIC)}").status_code == 404


@pytest.mark.parametrize("url", ["/?page={n}", "/posts/{post}?cpage={n}", "/posts/{post}?cpage=-{n}",
                                 "/category/netzkultur?page={n}", "/search?q=Glasfaser&page={n}",
                                 "/posts/{post}/comments/{comment}/reply?cpage={n}"])
def test_huge_page_numbers_are_answered(world, client, url):
    assert client.get(url.format(n=HUGE, **world)).status_code in (200, 302, 404)


def test_huge_queue_page_is_answered(world):
    assert world["staff"].get(f"/moderation/?page={HUGE}").status_code == 200
    assert world["staff"].get(f"/moderation/?page=-{HUGE}").status_code == 200


@pytest.mark.parametrize("body", [{"name": "Petra", "body": "Hallo"}, [1, 2], "text", 0, {"body": 5}])
def test_comment_sent_as_json_is_415(world, client, body):
    response = client.post(f"/posts/{world['post']}/comments", json=body)
    assert is_error_page(response, 415)


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "application/octet-stream"])
def test_comment_in_another_body_type_is_415(world, client, content_type):
    response = client.post(f"/posts/{world['post']}/comments", data=b"name=Petra&body=Hallo",
                           content_type=content_type)
    assert is_error_page(response, 415)


def test_comment_with_a_file_where_text_belongs_is_415(world, client):
    data = {**FORM, "body": (BytesIO(b"Hallo"), "brief.txt")}
    response = client.post(f"/posts/{world['post']}/comments", data=data, content_type="multipart/form-data")
    assert is_error_page(response, 415)


def test_broken_multipart_comment_asks_to_check_the_form(world, client):
    response = client.post(f"/posts/{world['post']}/comments", data=b"--x\r\nnot a part",
                           content_type="multipart/form-data; boundary=x")
    assert response.status_code == 400 and 'id="comment-form"' in html(response)


@pytest.mark.parametrize("raw", [
    b"name=Petra&name=Paul&email=petra%40example.org&body=Mein%20Text%20%FF&consent=y&website=nope",
    b"name=Petra&email=petra%40example.org&body=Mein%20Text&consent=y&website=nope&" + b"k" * 200_000 + b"=1",
])
def test_odd_comment_form_shows_the_typed_text_again(world, client, raw):
    # Repeated names, bytes that are not UTF-8, a huge field name: still a form; the bad website keeps it unsent.
    response = client.post(f"/posts/{world['post']}/comments", data=raw,
                           content_type="application/x-www-form-urlencoded")
    page = html(response)
    assert response.status_code == 400 and "Mein Text" in page and 'value="Petra"' in page
    assert "Ihr Kommentar wurde noch nicht gesendet" in page


def test_too_large_comment_is_413_with_the_error_page(world, client):
    body = "x" * (1024 * 1024)
    response = client.post(f"/posts/{world['post']}/comments", data={**FORM, "body": body})
    assert is_error_page(response, 413)


def test_claim_with_a_json_body_is_415(world):
    response = world["staff"].post(f"/moderation/comments/{world['comment']}/claim", json=[1])
    assert is_error_page(response, 415)


def test_claim_answers_json_when_asked_for_it(world):
    response = world["staff"].post(f"/moderation/comments/{world['comment']}/claim",
                                   headers={"Accept": "application/json"})
    assert response.status_code == 200 and response.get_json() == {"ok": True, "holder": "Admin"}


def test_expired_form_on_a_missing_post_is_an_error_page(tmp_path):
    app = create_app(make_settings(tmp_path / "csrf", WTF_CSRF_ENABLED=True))
    with app.app_context():
        db.create_all()
    response = app.test_client().post("/posts/gibt-es-nicht/comments", data=FORM)
    assert is_error_page(response, 400)
