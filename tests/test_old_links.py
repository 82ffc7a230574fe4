"""Old links keep working after the move: the imported blog's addresses and ours with a trailing
slash answer 301 to where the content is now, and never reveal a draft."""
from pathlib import Path

import pytest
from sqlalchemy import select

from app.extensions import db
from app.imports import old_links
from app.models import Comment, Post, PostStatus, Redirect

FIXTURE = Path(__file__).parent / "data" / "imports" / "wordpress-small.xml"
ROUTER = "/posts/der-neue-router-ist-da"


@pytest.fixture
def imported(app, runner):
    result = runner.invoke(args=["import", "wordpress", str(FIXTURE)])
    assert result.exit_code == 0, result.output
    return app


OLD_TO_NEW = [
    ("/?p=12", f"{ROUTER}?from=wordpress"),
    ("/?p=12&utm_source=newsletter", f"{ROUTER}?from=wordpress"),
    ("/2023/05/03/der-neue-router-ist-da/", f"{ROUTER}?from=wordpress"),  # the export's own <link>
    ("/2023/05/03/der-neue-router-ist-da", f"{ROUTER}?from=wordpress"),
    ("/2023/05/03/Der-Neue-Router-ist-da/?utm_source=x", f"{ROUTER}?from=wordpress"),
    ("/2023/05/der-neue-router-ist-da/", f"{ROUTER}?from=wordpress"),  # /%year%/%monthnum%/%postname%/
    ("/der-neue-router-ist-da/", f"{ROUTER}?from=wordpress"),  # /%postname%/
    ("/archives/12", f"{ROUTER}?from=wordpress"),  # /archives/%post_id%
    ("/category/router/der-neue-router-ist-da/", f"{ROUTER}?from=wordpress"),
    ("/technik/router/der-neue-router-ist-da/", f"{ROUTER}?from=wordpress"),  # /%category%/%postname%/
    ("/st%C3%B6rung-in-k%C3%B6ln-behoben/", "/posts/stoerung-in-koeln-behoben?from=wordpress"),
    ("/?page_id=2", "/ueber-uns"),
    ("/ueber-uns/", "/ueber-uns"),
    ("/?cat=5", "/category/router"),
    ("/category/technik/router/", "/category/router"),  # WordPress nests category paths
    ("/tag/st%C3%B6rung/", "/tag/stoerung"),
    ("/author/support-team/", "/author/support.team"),
    ("/feed/", "/feed.atom"),
    ("/der-neue-router-ist-da/feed/", f"{ROUTER}/comments.atom"),
    ("/category/technik/feed/", "/category/technik/feed.atom"),
    ("/page/2/", "/?page=2"),
    ("/2023/05/", "/archive/2023/5/"),  # WordPress's month archive
    ("/2023", "/archive/"),
    ("/?s=router", "/search?q=router"),
]


def test_old_addresses_answer_301(imported, client):
    """One import for all the shapes (each case is a request, the import is what costs)."""
    answers = {old: (r.status_code, r.headers.get("Location")) for old in dict(OLD_TO_NEW)
               for r in [client.get(old)]}
    assert answers == {old: (301, new) for old, new in OLD_TO_NEW}


def test_and_the_destinations_answer(imported, client):
    for path in (ROUTER + "?from=wordpress", "/ueber-uns", "/category/router", "/tag/stoerung", "/feed.atom",
                 ROUTER + "/comments.atom"):
        assert client.get(path).status_code == 200, path


def test_a_draft_stays_secret_behind_its_old_address(imported, client):
    """Posts 16 (a draft) and 17 (password-protected, now a draft): 404, no hint of the new slug
    (at most our trailing-slash rule drops the slash first)."""
    for path in ("/?p=16", "/?p=17", "/2023/07/02/nur-fuer-mitglieder/", "/nur-fuer-mitglieder/"):
        response = client.get(path)
        if response.status_code == 301:
            assert response.headers["Location"] == path.rstrip("/")
            response = client.get(response.headers["Location"])
        assert response.status_code == 404 and "Location" not in response.headers, path


def test_unknown_wordpress_ids_are_404_not_the_home_page(imported, client):
    assert client.get("/?p=999").status_code == 404
    assert client.get("/?utm_source=x").status_code == 200  # other queries are still the home page


@pytest.mark.parametrize(("path", "new"), [
    ("/posts/eintrag/", "/posts/eintrag"),
    ("/posts/eintrag/?order=newest", "/posts/eintrag?order=newest"),
    ("/category/netzkultur/", "/category/netzkultur"),
    ("/search/?q=router", "/search?q=router"),
])
def test_our_own_addresses_with_a_trailing_slash(app, client, make, path, new):
    with app.app_context():
        make.post("Eintrag", slug="eintrag", category=make.category("Netzkultur"))
        db.session.commit()
    response = client.get(path)
    assert (response.status_code, response.headers.get("Location")) == (301, new)


def test_a_trailing_slash_never_loops(app, client):
    assert client.get("/archive/9999/12/").status_code == 404  # our own route ends in a slash
    assert client.get("/nichts/hier/").status_code == 404


def test_a_wordpress_comment_anchor_finds_its_comment(imported, client):
    with imported.app_context():
        question = db.session.scalar(select(Comment).where(Comment.body_md.startswith("Muss ich")))
    response = client.get(f"{ROUTER}/comments/imported/101")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"#comment-{question.id}")
    # a pending or unknown one: the post itself
    assert client.get(f"{ROUTER}/comments/imported/106").headers["Location"] == ROUTER
    assert client.get(f"{ROUTER}/comments/imported/424242").headers["Location"] == ROUTER
    assert client.get("/posts/gibt-es-nicht/comments/imported/101").status_code == 404


def test_the_table_is_listed_and_follows_a_later_slug_change(imported, runner, client):
    result = runner.invoke(args=["redirects", "list"])
    assert f"/?p=12\t{ROUTER}\twordpress:alt.example.de" in result.output
    with imported.app_context():
        post = db.session.scalar(select(Post).where(Post.slug == "der-neue-router-ist-da"))
        from app.content import editing

        editing.move_post_address(post.slug, "router-neu")  # what the editor does when a slug changes
        post.slug = "router-neu"
        db.session.commit()
    assert client.get("/?p=12").headers["Location"] == "/posts/router-neu?from=wordpress"  # no chain


def test_a_cached_home_page_does_not_hide_an_address_imported_later(app, runner, client):
    assert client.get("/?p=12").status_code == 404  # before: nothing of that name
    assert client.get("/?p=12").status_code == 404
    result = runner.invoke(args=["import", "wordpress", str(FIXTURE)])
    assert result.exit_code == 0
    assert client.get("/?p=12").status_code == 301


def test_normalise_keeps_only_what_wordpress_routes_by():
    assert old_links.normalise("https://alt.example.de/2019/05/Router/?utm=1") == "/2019/05/router"
    assert old_links.normalise("/?page_id=3&p=2&x=y") == "/?p=2&page_id=3"
    assert old_links.normalise("/%C3%BCber-uns//") == "/über-uns"


def test_a_lookup_survives_a_database_outage(imported, client, monkeypatch):
    from sqlalchemy.exc import OperationalError

    def broken(*args, **kwargs):
        raise OperationalError("SELECT", {}, Exception("database is locked"))

    monkeypatch.setattr(old_links, "_exact", broken)
    assert client.get("/2023/05/03/der-neue-router-ist-da/").status_code == 404


def test_redirect_rows_of_an_import_name_their_origin(imported):
    with imported.app_context():
        origins = set(db.session.scalars(select(Redirect.origin)))
        assert origins == {"wordpress:alt.example.de"}
        assert db.session.scalar(select(Post.status).where(Post.slug == "tarifwechsel-entwurf")) == PostStatus.DRAFT
