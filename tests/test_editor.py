"""The bloggers' editor in the browser: who may write what, the fields, bad input, drafts, previews, redirects."""
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Post, PostRevision, PostStatus, Redirect, Role, utcnow
from tests.comment_helpers import add_comment
from tests.moderation_helpers import login


def form(**fields) -> dict:
    """A complete editor form; `fields` override."""
    data = {"title": "Über Störungen", "slug": "", "summary": "", "category": "", "tags": "", "lang": "de",
            "comments_open": "y", "status": "draft", "published_at": "", "body": "Ein **kurzer** Text.",
            "version": "", "action": "save"}
    data.update(fields)
    return data


@pytest.fixture
def author(make, client):
    return login(client, make.user("jana", role=Role.AUTHOR, display_name="Jana Berger"))


@pytest.fixture
def editor(make, client):
    return login(client, make.user("erik", role=Role.EDITOR, display_name="Erik Editor"))


def english(client):
    client.get("/language/en")


def created(response) -> Post:
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    post_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    db.session.expire_all()
    return db.session.get(Post, post_id)


# --- who may ---------------------------------------------------------------------------------------

def test_anonymous_visitors_go_to_the_login_and_moderators_are_refused(app, make, client):
    assert client.get("/editor/").headers["Location"].startswith("/login")
    login(client, make.user("mo", role=Role.MODERATOR))
    assert client.get("/editor/").status_code == 403
    assert client.get("/editor/new").status_code == 403
    assert client.post("/editor/preview", data={"body": "x"}).status_code == 403


def test_an_author_writes_a_draft_with_a_transliterated_address_and_a_revision(client, author):
    response = client.post("/editor/new", data=form(tags="Glasfaser, Netz, glasfaser"))
    post = created(response)
    assert post.slug == "ueber-stoerungen"
    assert post.status == PostStatus.DRAFT and post.author_id == author.id
    assert "<strong>kurzer</strong>" in post.body_html
    assert post.version == 1
    revisions = db.session.scalars(select(PostRevision).where(PostRevision.post_id == post.id)).all()
    assert [(r.version, r.author_id, r.source, r.title) for r in revisions] == [
        (1, author.id, "editor", "Über Störungen")]
    assert revisions[0].meta["tags"] == ["Glasfaser", "Netz"]
    assert "<textarea" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_an_author_may_not_publish_but_submits_for_review(app, client, author):
    response = client.post("/editor/new", data=form(status="published"))
    assert response.status_code == 422
    assert db.session.scalar(select(Post)) is None
    assert "Ein **kurzer** Text." in response.get_data(as_text=True)  # the typed text is kept
    post = created(client.post("/editor/new", data=form(status="review")))
    assert post.status == PostStatus.REVIEW
    assert client.get("/posts/ueber-stoerungen").status_code == 200  # the author sees it, with the banner


def test_authors_publish_when_the_site_allows_it(app, client, author):
    app.config["AUTHORS_MAY_PUBLISH"] = True
    post = created(client.post("/editor/new", data=form(status="published")))
    assert post.status == PostStatus.PUBLISHED and post.published_at <= utcnow()
    client.get("/language/en")
    page = client.get("/posts/ueber-stoerungen").get_data(as_text=True)
    assert "unpublished-banner" not in page


def test_authors_edit_only_their_own_posts_editors_all(app, make, client):
    other = make.post("Fremder Beitrag", author=make.user("kai", role=Role.AUTHOR))
    login(client, make.user("jana", role=Role.AUTHOR))
    assert client.get(f"/editor/{other.id}").status_code == 403
    assert client.post(f"/editor/{other.id}", data=form(version="1")).status_code == 403
    assert client.get(f"/editor/{other.id}/revisions").status_code == 403
    assert other.id not in _listed_ids(client.get("/editor/").get_data(as_text=True))
    login(client, make.user("erik", role=Role.EDITOR))
    assert client.get(f"/editor/{other.id}").status_code == 200
    assert other.id in _listed_ids(client.get("/editor/").get_data(as_text=True))


def _listed_ids(page: str) -> list[int]:
    return [int(x) for x in re.findall(r'data-post-id="(\d+)"', page)]


def test_the_staff_bar_leads_writers_to_the_editor(make, client):
    login(client, make.user("jana", role=Role.AUTHOR))
    english(client)
    assert 'href="/editor/"' in client.get("/").get_data(as_text=True)
    login(client, make.user("mo", role=Role.MODERATOR))
    assert 'href="/editor/"' not in client.get("/").get_data(as_text=True)


# --- the list ---------------------------------------------------------------------------------------

def test_the_list_shows_status_category_and_comment_counts_filtered(make, client, editor):
    english(client)
    net = make.category("Netz")
    live = make.post("Glasfaser im Dorf", category=net)
    make.post("Entwurf zum Router", status=PostStatus.DRAFT)
    add_comment(live)
    add_comment(live, status="pending")
    add_comment(live, status="pending")
    page = client.get("/editor/").get_data(as_text=True)
    row = page.split(f'data-post-id="{live.id}"')[1].split("</tr>")[0]
    assert "Netz" in row and "status-published" in row
    assert 'data-label="Comments">1</td>' in row and "<strong>2</strong>" in row
    assert _listed_ids(client.get("/editor/?status=draft").get_data(as_text=True)) != []
    assert live.id not in _listed_ids(client.get("/editor/?status=draft").get_data(as_text=True))
    assert _listed_ids(client.get(f"/editor/?category={net.id}").get_data(as_text=True)) == [live.id]
    assert _listed_ids(client.get("/editor/?q=glasfaser").get_data(as_text=True)) == [live.id]
    assert client.get("/editor/?q=%25&status=nonsense&category=abc&page=-3").status_code == 200


def test_the_list_costs_the_same_number_of_queries_for_more_posts(make, client, editor, count_queries):
    def statements() -> int:
        with count_queries() as counter:
            assert client.get("/editor/").status_code == 200
        return counter.n

    for n in range(2):
        add_comment(make.post(f"Erster {n}", tags=["a"], category=make.category(f"K{n}")))
    few = statements()
    for n in range(8):
        add_comment(make.post(f"Weiterer {n}", tags=["b"], category=make.category(f"L{n}")), status="pending")
    assert statements() == few


# --- the fields ---------------------------------------------------------------------------------------

def test_bad_input_gets_a_message_and_keeps_the_typed_text(make, client, author):
    english(client)
    make.post("Vergeben", slug="vergeben")
    cases = {
        "title": (form(title="  "), "Please give the post a title."),
        "duplicate": (form(slug="vergeben"), "Another post already has the address"),
        "characters": (form(slug="Über uns!"), "may only have lowercase letters"),
        "date": (form(published_at="morgen früh"), "is not a date and time we can read"),
        "scheduled": (form(status="scheduled"), "You may not choose this status"),
    }
    for name, (data, message) in cases.items():
        data["body"] = f"Mein Text für {name}, nicht verlieren."
        response = client.post("/editor/new", data=data)
        page = response.get_data(as_text=True)
        assert response.status_code == 422, name
        assert message in page, name
        assert data["body"] in page, name
    assert db.session.scalars(select(Post.slug)).all() == ["vergeben"]


def test_a_one_megabyte_body_is_refused_with_a_message_not_a_500(client, author):
    english(client)
    body = "Wort " * 220_000  # 1.1 MB: longer than a post may be (and than the site's request limit)
    response = client.post("/editor/new", data=form(body=body))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "The text is too long to be formatted" in page
    assert body.strip() in page
    assert db.session.scalar(select(Post)) is None
    preview = client.post("/editor/preview", data={"body": body})
    assert preview.status_code == 422 and "too long" in preview.get_data(as_text=True)


def test_a_future_date_in_the_site_time_zone_schedules_the_post(app, client, editor):
    local = (datetime.now(UTC) + timedelta(days=2)).astimezone(ZoneInfo("Europe/Berlin"))
    typed = local.strftime("%Y-%m-%dT%H:%M")
    post = created(client.post("/editor/new", data=form(title="Bald", status="published", published_at=typed)))
    assert post.status == PostStatus.SCHEDULED
    assert post.published_at == local.replace(second=0, microsecond=0).astimezone(UTC)


def test_summer_time_is_converted_to_utc(client, editor):
    post = created(client.post("/editor/new", data=form(title="Sommer", status="published",
                                                        published_at="2026-07-01T10:00")))
    assert post.published_at == datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
    assert post.status == PostStatus.PUBLISHED
    german = created(client.post("/editor/new", data=form(title="Winter", status="published",
                                                          published_at="01.12.2025 10:00")))
    assert german.published_at == datetime(2025, 12, 1, 9, 0, tzinfo=UTC)


def test_a_scheduled_post_stays_hidden_until_due_on_pages_feeds_and_in_search(app, make, client, editor):
    from app.search import index

    index.rebuild()
    future = (datetime.now(UTC) + timedelta(hours=3)).astimezone(ZoneInfo("Europe/Berlin"))
    post = created(client.post("/editor/new", data=form(
        title="Geplanter Beitrag", status="scheduled", published_at=future.strftime("%Y-%m-%dT%H:%M"),
        body="Das Zauberwort heißt Quasselstrippe.")))
    reader = app.test_client()
    assert reader.get("/posts/geplanter-beitrag").status_code == 404
    assert "geplanter-beitrag" not in reader.get("/").get_data(as_text=True)
    searched = reader.get("/search?q=Quasselstrippe")
    assert searched.status_code == 200
    assert "/posts/geplanter-beitrag" not in searched.get_data(as_text=True)
    for address in ("/feed.atom", "/sitemap.xml"):
        assert "geplanter-beitrag" not in reader.get(address).get_data(as_text=True)
    # Its time comes: no job runs, the same rows are simply due now.
    db.session.get(Post, post.id).published_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert reader.get("/posts/geplanter-beitrag").status_code == 200
    assert "geplanter-beitrag" in reader.get("/").get_data(as_text=True)
    assert "/posts/geplanter-beitrag" in reader.get("/search?q=Quasselstrippe").get_data(as_text=True)
    for address in ("/feed.atom", "/sitemap.xml"):
        assert "/posts/geplanter-beitrag" in reader.get(address).get_data(as_text=True)


def test_changing_the_address_of_a_published_post_keeps_a_301(make, client, editor):
    post = make.post("Alter Titel", slug="alter-titel")
    page = client.get(f"/editor/{post.id}")
    assert page.status_code == 200
    response = client.post(f"/editor/{post.id}", data=form(title="Neuer Titel", slug="neuer-titel",
                                                          status="published", version=str(post.version)))
    assert response.status_code == 302
    assert db.session.scalar(select(Redirect.new_path).where(Redirect.old_path == "/posts/alter-titel")) == \
        "/posts/neuer-titel"
    reader = client.application.test_client()
    moved = reader.get("/posts/alter-titel")
    assert moved.status_code == 301 and moved.headers["Location"].endswith("/posts/neuer-titel")
    assert reader.get("/posts/neuer-titel").status_code == 200


def test_a_draft_shows_its_staff_a_banner_and_readers_nothing(app, make, client, author):
    post = created(client.post("/editor/new", data=form(title="Geheimer Entwurf")))
    english(client)
    page = client.get(f"/posts/{post.slug}")
    assert page.status_code == 200
    assert "unpublished-banner" in page.get_data(as_text=True) and "Not published" in page.get_data(as_text=True)
    assert app.test_client().get(f"/posts/{post.slug}").status_code == 404
    login(client, make.user("kai", role=Role.AUTHOR))
    assert client.get(f"/posts/{post.slug}").status_code == 404


def test_a_preview_link_opens_the_draft_for_anyone_until_revoked(app, client, author):
    post = created(client.post("/editor/new", data=form(title="Zur Ansicht")))
    assert client.post(f"/editor/{post.id}/preview-link").status_code == 302
    db.session.expire_all()
    token = db.session.get(Post, post.id).preview_token
    assert token and len(token) >= 32
    reader = app.test_client()
    shared = reader.get(f"/preview/{token}")
    assert shared.status_code == 200
    assert "unpublished-banner" in shared.get_data(as_text=True)
    assert "noindex" in shared.headers["X-Robots-Tag"]
    assert '<meta name="robots" content="noindex, nofollow">' in shared.get_data(as_text=True)
    assert reader.get(f"/preview/{token[:-1]}x").status_code == 404
    assert client.post(f"/editor/{post.id}/preview-link/revoke").status_code == 302
    assert reader.get(f"/preview/{token}").status_code == 404


def test_the_preview_renders_through_the_post_pipeline_and_sanitises(client, author):
    response = client.post("/editor/preview", data={"body": "## Titel\n\n**fett** <script>alert(1)</script>"
                                                            "\n\n[x](javascript:alert(1))"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<strong>fett</strong>" in html and 'id="titel"' in html
    assert "<script>" not in html and "javascript:" not in html


def test_the_preview_button_works_without_javascript(client, author):
    response = client.post("/editor/new", data=form(action="preview", body="*schräg*"))
    assert response.status_code == 200
    assert "<em>schräg</em>" in response.get_data(as_text=True)
    assert db.session.scalar(select(Post)) is None


def test_comments_are_closed_and_opened_from_the_editor(make, client, author):
    post = created(client.post("/editor/new", data=form()))
    response = client.post(f"/editor/{post.id}/comments", data={"open": "0", "version": "1"})
    assert response.status_code == 302
    db.session.expire_all()
    post = db.session.get(Post, post.id)
    assert post.comments_open is False and post.version == 2
    # a button from an older page changes nothing
    client.post(f"/editor/{post.id}/comments", data={"open": "1", "version": "1"})
    db.session.expire_all()
    assert db.session.get(Post, post.id).comments_open is False


def test_tag_suggestions_list_the_existing_tags(make, client, author):
    make.post("Mit Tags", tags=["Glasfaser", "Router"])
    page = client.get("/editor/new").get_data(as_text=True)
    assert '<datalist id="tag-suggestions">' in page
    assert '<option value="Glasfaser">' in page and '<option value="Router">' in page


def test_a_stale_edit_is_shown_never_saved(make, client, author):
    post = created(client.post("/editor/new", data=form(body="Erste Fassung.")))
    # Someone (here: an editor) saves in between.
    editor_client = client.application.test_client()
    login(editor_client, make.user("erik", role=Role.EDITOR, display_name="Erik Editor"))
    assert editor_client.post(f"/editor/{post.id}", data=form(body="Fassung von Erik.", version="1")).status_code == 302
    english(client)
    response = client.post(f"/editor/{post.id}", data=form(body="Meine Fassung.", version="1"))
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Erik Editor saved it on" in page
    assert "Meine Fassung." in page  # the typed text
    assert "Fassung von Erik." in page  # in the diff
    assert 'class="diff-line diff-add"' in page
    db.session.expire_all()
    assert db.session.get(Post, post.id).body_md == "Fassung von Erik."
    # The form now carries their version: saving again is a choice, made knowingly.
    assert 'name="version" type="hidden" value="2"' in page or 'value="2"' in page


def test_a_summary_made_from_the_text_follows_the_text(client, author):
    post = created(client.post("/editor/new", data=form(body="Der erste Satz.")))
    assert post.summary == "Der erste Satz."
    page = client.get(f"/editor/{post.id}").get_data(as_text=True)
    assert re.search(r'<textarea[^>]*name="summary"[^>]*>\s*</textarea>', page)  # empty: made from the text
    client.post(f"/editor/{post.id}", data=form(body="Ein neuer Anfang.", version="1"))
    db.session.expire_all()
    assert db.session.get(Post, post.id).summary == "Ein neuer Anfang."
    client.post(f"/editor/{post.id}", data=form(body="Noch einmal.", summary="Von Hand.", version="2"))
    db.session.expire_all()
    assert db.session.get(Post, post.id).summary == "Von Hand."
    assert "Von Hand." in client.get(f"/editor/{post.id}").get_data(as_text=True)


def test_the_editor_pages_are_valid_html(make, client, author):
    from tests.test_html_validity import problems

    post = created(client.post("/editor/new", data=form(title="Gültig", body="Eins.")))
    client.post(f"/editor/{post.id}", data=form(title="Gültig", body="Zwei.", version="1"))
    client.post(f"/editor/{post.id}/preview-link")
    stale = client.post(f"/editor/{post.id}", data=form(title="Gültig", body="Drei.", version="1"))
    invalid = client.post("/editor/new", data=form(title="", published_at="nie"))
    pages = {
        "list": client.get("/editor/"), "new": client.get("/editor/new"), "edit": client.get(f"/editor/{post.id}"),
        "stale": stale, "invalid": invalid, "revisions": client.get(f"/editor/{post.id}/revisions"),
        "diff": client.get(f"/editor/{post.id}/diff"), "draft": client.get(f"/posts/{post.slug}"),
    }
    for name, response in pages.items():
        assert response.status_code in (200, 409, 422), name
        assert problems(response.get_data(as_text=True)) == [], name
