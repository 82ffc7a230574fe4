"""Reader pages: every page answers, drafts and scheduled posts stay invisible, pagination edges, i18n."""
from datetime import UTC, datetime, timedelta

import pytest

from app.extensions import db
from app.models import Page, PostStatus


@pytest.fixture
def blog(make):
    """A small blog: two visible posts in a category, a draft, a scheduled post, a page."""
    netz = make.category("Netzkultur", description="Leben im Netz.")
    jana = make.user("jana.berger", display_name="Jana Berger")
    long_body = "\n\n".join(f"## Abschnitt {i}\n\n" + "Wort " * 120 for i in range(1, 5))
    old = make.post("Älterer Beitrag", days_ago=40, author=jana, category=netz, tags=["Glasfaser"],
                    summary="Der ältere Beitrag.")
    new = make.post("Offen antworten", body=long_body, days_ago=2, author=jana, category=netz,
                    tags=["Kundenservice", "Social Media"], summary="Warum wir öffentlich antworten.")
    draft = make.post("Geheimer Entwurf", status=PostStatus.DRAFT, author=jana, category=netz,
                      tags=["Kundenservice"])
    scheduled = make.post("Kommt erst noch", status=PostStatus.SCHEDULED,
                          published_at=datetime.now(UTC) + timedelta(days=3),
                          author=jana, category=netz, tags=["Kundenservice"])
    future_published = make.post("Zukunft ohne Plan", status=PostStatus.PUBLISHED,
                                 published_at=datetime.now(UTC) + timedelta(hours=2),
                                 author=jana, category=netz, tags=["Kundenservice"])
    page = Page(slug="impressum", title="Impressum", body_md="x", body_html="<p>Sternwelle GmbH</p>",
                in_footer=True, position=1)
    db.session.add(page)
    db.session.commit()
    return {"old": old, "new": new, "hidden": [draft, scheduled, future_published], "category": netz}


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.mark.parametrize("url", [
    "/", "/posts/offen-antworten", "/posts/aelterer-beitrag", "/category/netzkultur", "/tag/kundenservice",
    "/author/jana.berger", "/archive/", "/impressum", "/feed.atom", "/category/netzkultur/feed.atom",
    "/sitemap.xml", "/robots.txt", "/healthz",
])
def test_every_reader_page_answers(client, blog, url):
    assert client.get(url).status_code == 200


def test_archive_month_page(client, blog):
    month = blog["new"].published_at.astimezone()
    assert "Offen antworten" in text(client.get(f"/archive/{month.year}/{month.month}/"))


def test_home_lists_newest_first_with_summary_category_date_author(client, blog):
    html = text(client.get("/"))
    assert html.index("Offen antworten") < html.index("Älterer Beitrag")
    assert "Warum wir öffentlich antworten." in html
    assert 'href="/category/netzkultur"' in html and "Jana Berger" in html
    assert "<time datetime=" in html


def test_post_page_shows_everything_a_reader_expects(client, blog):
    html = text(client.get("/posts/offen-antworten"))
    assert "<h1>Offen antworten</h1>" in html
    assert "Jana Berger" in html and 'href="/tag/kundenservice"' in html and 'href="/tag/social-media"' in html
    assert "Min. Lesezeit" in html
    assert 'class="toc"' in html and 'href="#abschnitt-1"' in html  # long post: table of contents
    assert 'rel="prev" href="/posts/aelterer-beitrag"' in html
    assert '<link rel="canonical" href="http://localhost/posts/offen-antworten">' in html
    assert '<meta property="og:type" content="article">' in html
    assert '<meta name="description" content="Warum wir öffentlich antworten.">' in html


def test_short_post_has_no_table_of_contents(client, blog):
    html = text(client.get("/posts/aelterer-beitrag"))
    assert 'class="toc"' not in html
    assert 'rel="next" href="/posts/offen-antworten"' in html


@pytest.mark.parametrize("url", ["/", "/category/netzkultur", "/tag/kundenservice", "/author/jana.berger",
                                 "/feed.atom", "/category/netzkultur/feed.atom", "/sitemap.xml", "/archive/"])
def test_drafts_and_scheduled_posts_are_invisible_everywhere(client, blog, url):
    html = text(client.get(url))
    for post in blog["hidden"]:
        assert post.title not in html and post.slug not in html, (url, post.slug)


def test_drafts_and_scheduled_posts_answer_404(client, blog):
    for post in blog["hidden"]:
        response = client.get(f"/posts/{post.slug}")
        assert response.status_code == 404
        assert post.title not in text(response)


def test_archive_counts_only_visible_posts(client, blog):
    html = text(client.get("/archive/"))
    assert html.count('class="count"') == 2  # two months with one post each
    month = blog["hidden"][1].published_at.astimezone()
    listing = text(client.get(f"/archive/{month.year}/{month.month}/"))
    assert "Kommt erst noch" not in listing


@pytest.mark.parametrize("url", ["/posts/gibt-es-nicht", "/category/nix", "/tag/nix", "/author/niemand",
                                 "/archive/2026/13/", "/archive/0/1/", "/nicht-da", "/category/nix/feed.atom"])
def test_unknown_things_answer_404_in_the_layout(client, blog, url):
    response = client.get(url)
    assert response.status_code == 404
    html = text(response)
    assert "Seite nicht gefunden" in html and 'class="site-header"' in html and 'href="/impressum"' in html


@pytest.mark.parametrize("page, status", [("0", 404), ("-3", 404), ("abc", 200), ("99999", 404), ("1", 200),
                                          ("2", 404), ("", 200), ("1.5", 200)])
def test_pagination_edges_never_fail(client, blog, page, status):
    assert client.get(f"/?page={page}").status_code == status
    assert client.get(f"/category/netzkultur?page={page}").status_code == status


def test_pagination_splits_ten_per_page(client, make):
    author = make.user()
    for i in range(23):
        make.post(f"Beitrag Nummer {i:02d}", days_ago=i + 1, author=author)
    first, second, third = (text(client.get(f"/?page={n}")) for n in (1, 2, 3))
    assert first.count('class="card"') == 10 and third.count('class="card"') == 3
    assert "Beitrag Nummer 00" in first and "Beitrag Nummer 10" in second and "Beitrag Nummer 22" in third
    assert 'rel="next" href="/?page=2"' in first and 'rel="prev" href="/"' in second
    assert "Seite 2 von 3" in second
    assert '<link rel="canonical" href="http://localhost/?page=2">' in second
    assert client.get("/?page=4").status_code == 404


def test_listing_query_count_does_not_grow_with_posts(client, make, count_queries):
    author = make.user()
    category = make.category("Netz & Technik")
    make.post("Eins", author=author, category=category, tags=["a", "b"])
    with count_queries() as few:
        client.get("/")
    for i in range(9):
        make.post(f"Mehr {i}", author=make.user(), category=category, tags=[f"t{i}", "b"])
    with count_queries() as many:
        client.get("/")
    assert few.n == many.n, many.statements


def test_german_is_the_default(client, blog):
    html = text(client.get("/"))
    assert '<html lang="de">' in html and "Alle Beiträge" in html and "Zum Inhalt springen" in html


def test_english_from_accept_language(client, blog):
    html = text(client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"}))
    assert '<html lang="en">' in html and "All posts" in html and "Skip to content" in html


def test_language_switch_is_kept_in_a_cookie(client, blog):
    response = client.get("/language/en?next=/posts/offen-antworten")
    assert response.status_code == 302 and response.headers["Location"] == "/posts/offen-antworten"
    html = text(client.get("/posts/offen-antworten", headers={"Accept-Language": "de"}))
    assert '<html lang="en">' in html and "min read" in html
    client.get("/language/de")
    assert '<html lang="de">' in text(client.get("/", headers={"Accept-Language": "en"}))


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:x",
                                    "http:/evil.example"])
def test_language_switch_never_redirects_off_site(client, target):
    response = client.get("/language/en", query_string={"next": target})
    assert response.headers["Location"] == "/"


def test_unknown_language_is_ignored(client, blog):
    response = client.get("/language/fr?next=/")
    assert "Set-Cookie" not in response.headers
    assert '<html lang="de">' in text(client.get("/"))


def test_dates_are_formatted_per_locale(client, make):
    make.post("Datumstest", published_at=datetime(2026, 3, 5, 10, 0, tzinfo=UTC))
    assert "5. März 2026" in text(client.get("/posts/datumstest"))
    assert "March 5, 2026" in text(client.get("/posts/datumstest", headers={"Accept-Language": "en"}))


def test_english_post_is_marked_with_its_language(client, make):
    make.post("In English", lang="en")
    html = text(client.get("/"))
    assert '<article class="card" lang="en">' in html and '<span class="lang-badge" lang="en">EN</span>' in html


def test_static_page_is_served_and_in_the_footer(client, blog):
    html = text(client.get("/impressum"))
    assert "<h1>Impressum</h1>" in html and "Sternwelle GmbH" in html
    assert '<a href="/impressum">Impressum</a>' in text(client.get("/"))


def test_responses_vary_on_language(client, blog):
    response = client.get("/")
    assert "Accept-Language" in response.headers["Vary"] and "Cookie" in response.headers["Vary"]


def test_category_page_has_its_feed_and_description(client, blog):
    html = text(client.get("/category/netzkultur"))
    assert "Leben im Netz." in html and 'href="/category/netzkultur/feed.atom"' in html
    assert 'aria-current="page">Netzkultur' in html


def test_modified_time_is_when_the_content_changed_not_when_the_row_was_saved(client, make):
    post = make.post("Zeiten", published_at=datetime(2026, 3, 5, 10, 0, tzinfo=UTC))  # updated_at: now
    html = text(client.get("/posts/zeiten"))
    assert '<meta property="article:published_time" content="2026-03-05T10:00:00Z">' in html
    assert '<meta property="article:modified_time" content="2026-03-05T10:00:00Z">' in html
    post.content_changed_at = datetime(2026, 4, 1, 7, 15, 30, 123456, tzinfo=UTC)
    db.session.commit()
    assert '<meta property="article:modified_time" content="2026-04-01T07:15:30Z">' in text(client.get("/posts/zeiten"))


def test_legal_page_says_when_its_text_last_changed(client, make):
    db.session.add(Page(slug="datenschutz", title="Datenschutz", body_md="x", body_html="<p>x</p>",
                        content_changed_at=datetime(2026, 3, 5, 10, 0, tzinfo=UTC)))
    db.session.commit()  # updated_at: now, as after a re-import that changed only the footer order
    assert "Zuletzt aktualisiert: 5. März 2026" in text(client.get("/datenschutz"))
