"""Atom feeds, sitemap and robots.txt: valid XML with exactly the visible posts."""
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest

from app.models import PostStatus

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


@pytest.fixture
def posts(make):
    netz = make.category("Netzkultur")
    technik = make.category("Netz & Technik")
    author = make.user("tobias.kern", display_name="Tobias Kern")
    make.post("Kultur eins", days_ago=3, category=netz, author=author, summary="Kurz gesagt.",
              body="## Teil\n\nText mit <script>alert(1)</script>.")
    make.post("Technik eins", days_ago=2, category=technik, author=author)
    make.post("Kultur zwei", days_ago=1, category=netz, author=author)
    make.post("Entwurf", status=PostStatus.DRAFT, category=netz, author=author)
    make.post("Geplant", status=PostStatus.SCHEDULED, category=netz, author=author,
              published_at=datetime.now(UTC) + timedelta(days=1))


def atom(client, url):
    response = client.get(url)
    assert response.status_code == 200
    assert response.content_type.startswith("application/atom+xml")
    return ET.fromstring(response.data)


def test_site_feed_is_valid_atom_with_visible_posts_newest_first(client, posts):
    feed = atom(client, "/feed.atom")
    assert feed.tag == f"{ATOM}feed"
    assert feed.find(f"{ATOM}title").text == "Sternwelle Blog"
    assert feed.find(f"{ATOM}id").text == "http://localhost/"
    assert feed.find(f"{ATOM}updated").text
    self_link = [link for link in feed.findall(f"{ATOM}link") if link.get("rel") == "self"]
    assert self_link[0].get("href") == "http://localhost/feed.atom"
    entries = feed.findall(f"{ATOM}entry")
    assert [e.find(f"{ATOM}title").text for e in entries] == ["Kultur zwei", "Technik eins", "Kultur eins"]
    first = entries[-1]
    assert first.find(f"{ATOM}id").text == "http://localhost/posts/kultur-eins"
    assert first.find(f"{ATOM}author/{ATOM}name").text == "Tobias Kern"
    assert first.find(f"{ATOM}summary").text == "Kurz gesagt."
    content = first.find(f"{ATOM}content")
    assert content.get("type") == "html" and '<h2 id="teil">' in content.text and "<script" not in content.text
    assert first.find(f"{ATOM}category").get("term") == "netzkultur"
    for entry in entries:  # every entry carries the dates readers' feed software needs
        datetime.fromisoformat(entry.find(f"{ATOM}published").text)
        datetime.fromisoformat(entry.find(f"{ATOM}updated").text)


def test_category_feed_has_only_that_category(client, posts):
    feed = atom(client, "/category/netzkultur/feed.atom")
    assert [e.find(f"{ATOM}title").text for e in feed.findall(f"{ATOM}entry")] == ["Kultur zwei", "Kultur eins"]
    assert "Netzkultur" in feed.find(f"{ATOM}title").text


def test_feed_of_empty_blog_is_still_valid(client):
    feed = atom(client, "/feed.atom")
    assert feed.findall(f"{ATOM}entry") == [] and feed.find(f"{ATOM}updated").text


def test_feed_is_limited(client, make, app):
    app.config["FEED_SIZE"] = 3
    author = make.user()
    for i in range(5):
        make.post(f"Nummer {i}", days_ago=i + 1, author=author)
    assert len(atom(client, "/feed.atom").findall(f"{ATOM}entry")) == 3


def test_sitemap_lists_visible_posts_categories_and_pages(client, posts):
    response = client.get("/sitemap.xml")
    assert response.content_type.startswith("application/xml")
    urls = [loc.text for loc in ET.fromstring(response.data).iter(f"{SITEMAP}loc")]
    assert "http://localhost/" in urls and "http://localhost/posts/kultur-eins" in urls
    assert "http://localhost/category/netz-und-technik" in urls
    assert not any("entwurf" in u or "geplant" in u for u in urls)


def test_robots_txt_points_to_the_sitemap(client):
    response = client.get("/robots.txt")
    assert response.content_type.startswith("text/plain")
    assert "User-agent: *" in response.get_data(as_text=True)
    assert "Sitemap: http://localhost/sitemap.xml" in response.get_data(as_text=True)


def test_site_url_setting_makes_absolute_links(client, posts, app):
    app.config["SITE_URL"] = "https://blog.sternwelle.example"
    feed = atom(client, "/feed.atom")
    assert feed.find(f"{ATOM}id").text == "https://blog.sternwelle.example/"
    html = client.get("/posts/kultur-eins").get_data(as_text=True)
    assert '<link rel="canonical" href="https://blog.sternwelle.example/posts/kultur-eins">' in html


# --- dates, links and language in the entries (issue 9) ------------------------------------------

RFC3339 = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def rfc4287_problems(feed) -> list[str]:
    """What RFC 4287 requires of a feed and its entries, checked structurally (no RELAX NG needed)."""
    import re

    found = []

    def need(parent, tag, where):
        elements = parent.findall(f"{ATOM}{tag}")
        if len(elements) != 1:
            found.append(f"{where}: {len(elements)} <{tag}>, exactly one required")
            return None
        if tag in ("id", "title", "updated") and not (elements[0].text or "").strip():
            found.append(f"{where}: empty <{tag}>")
        if tag in ("updated", "published") and not re.match(RFC3339, elements[0].text or ""):
            found.append(f"{where}: <{tag}> {elements[0].text!r} is not an RFC 3339 date-time")
        return elements[0]

    def links(parent, where):
        for link in parent.findall(f"{ATOM}link"):
            if not link.get("href"):
                found.append(f"{where}: <link> without href")
        alternates = [(link.get("type"), link.get("hreflang")) for link in parent.findall(f"{ATOM}link")
                      if link.get("rel", "alternate") == "alternate"]
        if len(alternates) != len(set(alternates)):
            found.append(f"{where}: two alternate links with the same type and hreflang")
        return alternates

    if feed.tag != f"{ATOM}feed":
        return [f"root is {feed.tag}, not atom:feed"]
    for tag in ("id", "title", "updated"):
        need(feed, tag, "feed")
    if not [link for link in feed.findall(f"{ATOM}link") if link.get("rel") == "self"]:
        found.append("feed: no rel=self link")
    links(feed, "feed")
    feed_has_author = feed.find(f"{ATOM}author/{ATOM}name") is not None
    ids = []
    for number, entry in enumerate(feed.findall(f"{ATOM}entry"), start=1):
        where = f"entry {number}"
        for tag in ("id", "title", "updated"):
            element = need(entry, tag, where)
            if tag == "id" and element is not None:
                ids.append(element.text)
                if not re.match(r"^[a-z][a-z0-9+.-]*:", element.text or ""):
                    found.append(f"{where}: <id> {element.text!r} is not an absolute IRI")
        if entry.find(f"{ATOM}published") is not None:
            need(entry, "published", where)
        if not feed_has_author and entry.find(f"{ATOM}author/{ATOM}name") is None:
            found.append(f"{where}: no author (and the feed has none)")
        alternates = links(entry, where)
        content = entry.find(f"{ATOM}content")
        if content is None and not alternates:
            found.append(f"{where}: neither content nor an alternate link")
        if content is not None and content.get("type") not in (None, "text", "html", "xhtml"):
            found.append(f"{where}: content type {content.get('type')!r} needs src or a MIME type")
    if len(ids) != len(set(ids)):
        found.append("two entries share an id")
    return found


def test_the_structural_check_finds_missing_parts():
    bare = ET.fromstring(f'<feed xmlns="{ATOM[1:-1]}"><title>T</title><entry><id>x</id></entry></feed>')
    assert rfc4287_problems(bare) == [
        "feed: 0 <id>, exactly one required", "feed: 0 <updated>, exactly one required", "feed: no rel=self link",
        "entry 1: <id> 'x' is not an absolute IRI", "entry 1: 0 <title>, exactly one required",
        "entry 1: 0 <updated>, exactly one required", "entry 1: no author (and the feed has none)",
        "entry 1: neither content nor an alternate link",
    ]


def test_every_feed_is_structurally_valid_atom(client, make, posts):
    from tests.comment_helpers import add_comment

    commented = make.post("Mit Kommentaren", body="Text.")
    add_comment(commented, body="Erster!")
    for url in ("/feed.atom", "/category/netzkultur/feed.atom", f"/posts/{commented.slug}/comments.atom"):
        assert rfc4287_problems(atom(client, url)) == [], url


def test_empty_feed_is_structurally_valid_atom(client):
    assert rfc4287_problems(atom(client, "/feed.atom")) == []


def test_entry_updated_is_when_the_content_changed_not_when_the_row_was_saved(client, make):
    from app.extensions import db

    author = make.user()
    untouched = make.post("Unverändert", days_ago=10, author=author)  # updated_at: now, as after an import
    edited = make.post("Überarbeitet", days_ago=20, author=author)
    edited.content_changed_at = edited.published_at + timedelta(days=5)
    db.session.commit()
    feed = atom(client, "/feed.atom")
    updated = {e.find(f"{ATOM}title").text: datetime.fromisoformat(e.find(f"{ATOM}updated").text)
               for e in feed.findall(f"{ATOM}entry")}
    assert updated["Unverändert"] == untouched.published_at.replace(microsecond=0)
    assert updated["Überarbeitet"] == edited.content_changed_at.replace(microsecond=0)
    assert datetime.fromisoformat(feed.find(f"{ATOM}updated").text) == max(updated.values())


def test_sitemap_lastmod_is_when_the_content_changed(client, make):
    from app.extensions import db
    from app.i18n import isotime
    from app.models import Page

    post = make.post("Alt", days_ago=30)
    page = Page(slug="impressum", title="Impressum", body_md="x", body_html="<p>x</p>",
                content_changed_at=datetime(2026, 3, 5, 9, 0, tzinfo=UTC))
    db.session.add(page)
    db.session.commit()
    root = ET.fromstring(client.get("/sitemap.xml").data)
    lastmod = {u.find(f"{SITEMAP}loc").text: u.find(f"{SITEMAP}lastmod").text for u in root.iter(f"{SITEMAP}url")
               if u.find(f"{SITEMAP}lastmod") is not None}
    assert lastmod["http://localhost/posts/alt"] == isotime(post.published_at)
    assert lastmod["http://localhost/impressum"] == "2026-03-05T09:00:00Z"


def test_links_inside_entries_never_point_at_the_feed_itself(client, make):
    body = "[TOC]\n\n## Erster Teil\n\nSiehe [unten](#zweiter-teil).\n\n## Zweiter Teil\n\nText.\n"
    make.post("Mit Sprungmarken", body=body)
    content = atom(client, "/feed.atom").find(f"{ATOM}entry/{ATOM}content").text
    assert 'href="#' not in content
    assert "headerlink" not in content and "¶" not in content  # heading permalinks are for the page only
    assert 'href="http://localhost/posts/mit-sprungmarken#zweiter-teil"' in content
    assert '<h2 id="erster-teil">Erster Teil</h2>' in content


def test_each_entry_says_its_own_language(client, make):
    author = make.user()
    make.post("Deutscher Beitrag", days_ago=2, author=author)
    make.post("English post", days_ago=1, author=author, lang="en")
    feed = atom(client, "/feed.atom")
    assert feed.get(XML_LANG) == "de"  # the feed's own texts: the reader's UI language
    entries = {e.find(f"{ATOM}title").text: e for e in feed.findall(f"{ATOM}entry")}
    assert entries["English post"].get(XML_LANG) == "en"
    assert entries["Deutscher Beitrag"].get(XML_LANG) == "de"
    assert entries["English post"].find(f"{ATOM}link").get("hreflang") == "en"
