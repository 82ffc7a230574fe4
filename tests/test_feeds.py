"""Atom feeds, sitemap and robots.txt: valid XML with exactly the visible posts."""
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone

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
              published_at=datetime.now(timezone.utc) + timedelta(days=1))


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
