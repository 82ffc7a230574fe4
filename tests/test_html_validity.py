"""Rendered HTML is valid where validators and screen readers look: ids, references, times, landmarks, Open Graph."""
import re
import struct
import threading
from datetime import UTC, datetime, timedelta, timezone
from html.parser import HTMLParser

import pytest
from werkzeug.serving import make_server

from app.extensions import db
from app.i18n import isotime
from app.models import CommentStatus, Page, ResponseStatus
from tests.comment_helpers import add_comment, post_comment
from tests.moderation_helpers import moderator

# HTML's "valid date string" or "valid global date and time string": seconds optional, at most
# three digits of fraction, a zone (Z or ±hh:mm) required on a time.
VALID_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$")
REFERENCES = ("aria-describedby", "aria-labelledby", "aria-controls")


class Document(HTMLParser):
    """What the checks need from a page: every element's attributes, in order."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, {name: value or "" for name, value in attrs}))

    def ids(self) -> list[str]:
        return [a["id"] for _, a in self.elements if "id" in a]

    def find(self, tag: str, **wanted) -> list[dict]:
        return [a for t, a in self.elements
                if t == tag and all(a.get(k.replace("_", "-")) == v for k, v in wanted.items())]


def problems(html: str) -> list[str]:
    """Everything wrong with `html` that these checks know about (empty: fine)."""
    doc = Document(html)
    found = []
    ids = doc.ids()
    found += [f"duplicate id {i!r}" for i in sorted({i for i in ids if ids.count(i) > 1})]
    known = set(ids)
    for tag, attrs in doc.elements:
        found += [f"<{tag} {name}=\"None\">" for name, value in attrs.items() if value == "None"]
        if tag == "label" and attrs.get("for") and attrs["for"] not in known:
            found.append(f"<label for={attrs['for']!r}> names no element")
        for name in REFERENCES:
            found += [f"<{tag} {name}> names missing id {ref!r}" for ref in attrs.get(name, "").split()
                      if ref not in known]
        if tag == "time" and "datetime" in attrs and not VALID_DATETIME.match(attrs["datetime"]):
            found.append(f"<time datetime={attrs['datetime']!r}> is not a valid date or time")
    searches = [a.get("aria-label") or a.get("aria-labelledby") for _, a in doc.elements if a.get("role") == "search"]
    if len(searches) > 1 and (None in searches or len(set(searches)) < len(searches)):
        found.append(f"{len(searches)} search landmarks without distinct names: {searches}")
    return found


def html(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def site(make):
    """A post with comments (times with microseconds, as the database stores them) and a legal page."""
    jana = make.user("jana.berger", display_name="Jana Berger")
    post = make.post("Glasfaser im Dorf", author=jana, body="## Plan\n\nText.\n\n```\ncode\n```\n", tags=["Glasfaser"])
    question = add_comment(post, body="Wann geht es los?", response_status=ResponseStatus.NEEDS_ANSWER)
    add_comment(post, parent=question, body="Im Mai.")
    add_comment(post, status=CommentStatus.PENDING, body="Und bei uns?")
    english = make.post("How we report outages", author=jana, lang="en", body="Text.")
    db.session.add(Page(slug="impressum", title="Impressum", body_md="x", body_html="<p>Sternwelle GmbH</p>",
                        in_footer=True))
    db.session.commit()
    return {"post": post, "question": question, "english": english}


def test_the_checks_find_what_they_look_for():
    """The checker itself: each known fault is caught, a clean page passes."""
    bad = ('<form role="search"></form><form role="search"></form><p id="a"></p><p id="a"></p>'
           '<input aria-describedby="None"><label for="x"></label><span aria-labelledby="nope"></span>'
           '<time datetime="2026-12-01T10:30:22.123456+00:00"></time><time datetime="2026-12-01T10:30"></time>')
    assert problems(bad) == [
        "duplicate id 'a'",
        '<input aria-describedby="None">',
        "<input aria-describedby> names missing id 'None'",
        "<label for='x'> names no element",
        "<span aria-labelledby> names missing id 'nope'",
        "<time datetime='2026-12-01T10:30:22.123456+00:00'> is not a valid date or time",
        "<time datetime='2026-12-01T10:30'> is not a valid date or time",
        "2 search landmarks without distinct names: [None, None]",
    ]
    good = ('<form role="search" aria-label="A"></form><form role="search" aria-label="B"></form>'
            '<label for="q">Q</label><input id="q" aria-describedby="h"><p id="h"></p>'
            '<time datetime="2026-12-01T10:30:22Z"></time><time datetime="2026-12-01"></time>')
    assert problems(good) == []


def test_isotime_is_utc_to_the_second():
    moment = datetime(2026, 12, 1, 11, 30, 22, 123456, tzinfo=timezone(timedelta(hours=1)))
    assert isotime(moment) == "2026-12-01T10:30:22Z"
    assert isotime(datetime(2026, 12, 1, 10, 30, 22, 5)) == "2026-12-01T10:30:22Z"  # naive: stored UTC
    assert isotime(None) == ""


@pytest.mark.parametrize("url", ["/", "/posts/glasfaser-im-dorf", "/posts/how-we-report-outages", "/impressum",
                                 "/tag/glasfaser", "/author/jana.berger", "/archive/", "/search", "/search?q=Glasfaser",
                                 "/gibt-es-nicht"])
def test_reader_pages_are_valid(client, site, url):
    assert problems(html(client.get(url))) == []


def test_comment_times_have_no_microseconds(client, site):
    page = html(client.get("/posts/glasfaser-im-dorf"))
    times = [a["datetime"] for a in Document(page).find("time")]
    assert isotime(site["question"].created_at) in times
    assert not any("." in t for t in times)


def test_comment_form_with_errors_points_at_its_messages(client, site):
    page = html(post_comment(client, "glasfaser-im-dorf", name="", email="keine-adresse", consent=None))
    assert problems(page) == []
    doc = Document(page)
    assert doc.find("input", id="name")[0]["aria-describedby"] == "name-error"
    assert doc.find("input", id="consent")[0]["aria-describedby"] == "consent-error"


def test_comment_form_without_errors_has_no_empty_references(client, site):
    doc = Document(html(client.get("/posts/glasfaser-im-dorf")))
    for field in ("name", "website", "consent"):
        assert "aria-describedby" not in doc.find("input", id=field)[0], field


@pytest.mark.parametrize("state", ["pending", "approved"])
def test_moderation_comment_page_is_valid(client, make, app, site, state):
    app.config["WTF_CSRF_ENABLED"] = True  # each of the page's forms renders its token field, as in production
    moderator(make, client)
    comment = add_comment(site["post"], status=state, body="Wann kommt der Bagger?",
                          response_status=ResponseStatus.NEEDS_ANSWER)
    if state == "approved":  # with a reader's edit waiting: its own forms and time
        comment.pending_body_md, comment.pending_body_html = "Wann genau?", "<p>Wann genau?</p>"
        comment.pending_since = datetime.now(UTC)
        db.session.commit()
    page = html(client.get(f"/moderation/comments/{comment.id}"))
    assert page.count('name="csrf_token"') >= 7 and problems(page) == []
    doc = Document(page)
    assert doc.find("label", **{"for": "reply-body"}) and doc.find("textarea", id="reply-body")


def test_moderation_queue_is_valid(client, make, site):
    moderator(make, client)
    assert problems(html(client.get("/moderation/"))) == []


def test_search_page_has_two_named_search_landmarks(client, site):
    doc = Document(html(client.get("/search?q=Glasfaser")))
    names = [a.get("aria-label") for _, a in doc.elements if a.get("role") == "search"]
    assert len(names) == 2 and None not in names and names[0] != names[1]


def test_og_locale_follows_the_post_not_the_ui(client, site):
    doc = Document(html(client.get("/posts/how-we-report-outages")))  # German UI by default
    assert doc.find("meta", property="og:locale")[0]["content"] == "en_GB"
    doc = Document(html(client.get("/posts/glasfaser-im-dorf", headers={"Accept-Language": "en"})))
    assert doc.find("meta", property="og:locale")[0]["content"] == "de_DE"
    doc = Document(html(client.get("/", headers={"Accept-Language": "en"})))
    assert doc.find("meta", property="og:locale")[0]["content"] == "en_GB"  # a listing: the UI's language


def test_every_page_has_an_absolute_og_image_that_exists(client, site, app):
    app.config["SITE_URL"] = "https://blog.example.org"
    for url in ("/", "/posts/glasfaser-im-dorf", "/impressum"):
        image = Document(html(client.get(url))).find("meta", property="og:image")[0]["content"]
        assert image.startswith("https://blog.example.org/static/og-image.png?v="), url  # fingerprinted
    png = client.get("/static/og-image.png")
    assert png.status_code == 200 and png.data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", png.data[16:24]) == (1200, 630)  # the IHDR size Open Graph recommends


def test_scroll_region_script_is_loaded_deferred_with_translated_labels(client, site):
    doc = Document(html(client.get("/posts/glasfaser-im-dorf")))
    script = [a for a in doc.find("script") if a.get("src", "").split("?")[0].endswith("/js/scroll-regions.js")]
    assert script and "defer" in script[0]
    assert script[0]["data-code-label"] == "Code, scrollbar" and script[0]["data-table-label"] == "Tabelle, scrollbar"
    assert client.get(script[0]["src"]).status_code == 200


# --- in a browser: the script makes overflowing regions reachable by keyboard ---------------------

WIDE = "x" * 400
SOMEWHAT_WIDE = "x" * 70  # wider than a phone, narrower than the column on a desktop


@pytest.fixture
def served(app):
    """Base URL of the test's own app on a real port (the browser needs the real script and CSP)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()


@pytest.mark.e2e
def test_overflowing_code_and_tables_become_focusable_named_regions(playwright, served, make):
    from playwright.sync_api import expect

    from tests.e2e.conftest import CHROMIUM, BrowserProblems

    body = (f"```\n{WIDE}\n```\n\n```\nkurz\n```\n\n| Spalte | Wert |\n|---|---|\n| {SOMEWHAT_WIDE} | 1 |\n\n"
            "| a | b |\n|---|---|\n| 1 | 2 |\n")
    make.post("Breite Inhalte", body=body)
    browser = playwright.chromium.launch(**CHROMIUM)
    try:
        problems_seen = BrowserProblems()
        context = browser.new_context(viewport={"width": 600, "height": 800}, locale="de-DE")
        page = problems_seen.watch(context).new_page()
        page.goto(f"{served}/posts/breite-inhalte")
        page.wait_for_load_state("load")
        wide_pre, short_pre = page.locator(".prose pre").all()
        assert wide_pre.get_attribute("tabindex") == "0" and wide_pre.get_attribute("role") == "region"
        assert wide_pre.get_attribute("aria-label") == "Code, scrollbar"
        assert short_pre.get_attribute("tabindex") is None  # fits: nothing to scroll, no extra tab stop
        wide_table, small_table = page.locator(".prose table").all()
        assert wide_table.get_attribute("tabindex") == "0" and wide_table.get_attribute("role") is None
        assert wide_table.get_attribute("aria-label") == "Tabelle, scrollbar"
        assert small_table.get_attribute("tabindex") is None
        page.keyboard.press("Tab")  # from the start of the page, keyboard only, to the code block
        for _ in range(60):
            if wide_pre.evaluate("element => element === document.activeElement"):
                break
            page.keyboard.press("Tab")
        assert wide_pre.evaluate("element => element === document.activeElement")
        for _ in range(20):  # a focused scroll box scrolls with the arrow keys (smoothly: give it time)
            page.keyboard.press("ArrowRight")
            page.wait_for_timeout(50)
            if wide_pre.evaluate("element => element.scrollLeft") > 0:
                break
        assert wide_pre.evaluate("element => element.scrollLeft") > 0
        page.set_viewport_size({"width": 1900, "height": 800})  # wide enough for the table: taken back
        expect(wide_table).not_to_have_attribute("tabindex", "0")
        assert problems_seen.take() == []
    finally:
        browser.close()
