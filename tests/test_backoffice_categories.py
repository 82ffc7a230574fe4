"""Categories in the browser: create, rename (301), describe, order, merge, targets; audited; and how
posts/categories.yml meets them (the file creates, the browser owns what it changed)."""
import textwrap

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AdminEvent, Category, Comment, CommentStatus, Post, Redirect, ResponseStatus, Role
from tests.comment_helpers import add_comment
from tests.moderation_helpers import login

LIST = "/admin/categories"


@pytest.fixture
def admin(client, make):
    user = login(client, make.user("root", role=Role.ADMIN, display_name="Rita Root"))
    client.get("/language/en")
    return user


def fields(**changes):
    return {"name": "Störungen", "slug": "", "description": "", "target": "4", "unit": "hours", **changes}


def category(slug: str) -> Category | None:
    db.session.expire_all()
    return db.session.scalar(select(Category).where(Category.slug == slug))


def edit(client, c: Category, **changes):
    values = {"name": c.name, "slug": c.slug, "description": c.description, "target": str(c.response_target_minutes),
              "unit": "minutes", **({"business_hours": "1"} if c.business_hours_only else {})}
    values.update(changes)
    return client.post(f"{LIST}/{c.id}", data={k: v for k, v in values.items() if v is not None})


def test_admins_create_a_category_with_its_target_and_others_may_not(app, client, make, admin):
    response = client.post(LIST, data=fields(description="Was gerade nicht geht.", target="1.5", business_hours="1"))
    assert response.status_code == 302
    created = category("stoerungen")
    assert (created.name, created.description, created.response_target_minutes, created.business_hours_only) == (
        "Störungen", "Was gerade nicht geht.", 90, True)
    page = client.get(LIST).get_data(as_text=True)
    assert "Störungen" in page and "90 minutes" in page and "Rita Root" in page
    assert client.get("/category/stoerungen").status_code == 200
    event = db.session.scalar(select(AdminEvent).where(AdminEvent.action == "category.create"))
    assert event.after["response_target_minutes"] == 90 and event.actor_id == admin.id
    for role in (Role.MODERATOR, Role.EDITOR, Role.AUTHOR):
        other = app.test_client()
        login(other, make.user(f"u-{role}", role=role))
        assert other.get(LIST).status_code == 403
        assert other.post(LIST, data=fields(name="Fremd")).status_code == 403
    assert category("fremd") is None


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"name": "   "}, "name", "Please enter a name."),
    ({"name": "Netzkultur"}, "name", "There is already a category named"),
    ({"name": "netzkultur"}, "name", "There is already a category named"),
    ({"slug": "netzkultur"}, "slug", "already has this web address"),
    ({"slug": "Böse Adresse!"}, "slug", "Use only lower-case letters"),
    ({"name": "x" * 81}, "name", "At most 80 characters"),
    ({"target": "-3"}, "target", "at least one minute"),
    ({"target": "0"}, "target", "at least one minute"),
    ({"target": "nan"}, "target", "at least one minute"),
    ({"target": "31", "unit": "hours"}, None, None),  # fine
    ({"target": "721", "unit": "hours"}, "target", "at most 30 days"),
    ({"target": "viel"}, "target", "Please enter a number."),
    ({"unit": "weeks"}, "target", "Please choose minutes or hours."),
])
def test_bad_input_gets_a_message_and_keeps_what_was_typed(client, make, admin, changes, field, message):
    make.category("Netzkultur")
    data = fields(description="Getippter Text bleibt.", **changes)
    response = client.post(LIST, data=data)
    if field is None:
        assert response.status_code == 302
        return
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f'id="{field}-error"' in page and message in page
    assert "Getippter Text bleibt." in page
    assert db.session.scalar(select(AdminEvent)) is None
    assert [c.slug for c in db.session.scalars(select(Category))] == ["netzkultur"]


def test_a_renamed_category_keeps_its_old_address_as_a_301_without_chains_or_loops(client, make, admin):
    c = make.category("Netzkultur")
    post = make.post("Offen reden", category=c)
    assert edit(client, c, name="Netz & Gesellschaft", slug="netz-und-gesellschaft").status_code == 302
    response = client.get("/category/netzkultur")
    assert response.status_code == 301 and response.headers["Location"].endswith("/category/netz-und-gesellschaft")
    assert post.title in client.get("/category/netz-und-gesellschaft").get_data(as_text=True)

    edit(client, category("netz-und-gesellschaft"), slug="gesellschaft")
    assert client.get("/category/netzkultur").headers["Location"].endswith("/category/gesellschaft")  # no chain
    edit(client, category("gesellschaft"), slug="netzkultur")  # back to the first name
    assert client.get("/category/netzkultur").status_code == 200  # live again, no loop
    assert client.get("/category/gesellschaft").headers["Location"].endswith("/category/netzkultur")
    assert client.get("/category/never-existed").status_code == 404
    paths = {r.old_path: r.new_path for r in db.session.scalars(select(Redirect))}
    assert paths == {"/category/netz-und-gesellschaft": "/category/netzkultur",
                     "/category/gesellschaft": "/category/netzkultur"}
    actions = [e.action for e in db.session.scalars(select(AdminEvent).order_by(AdminEvent.id))]
    assert actions == ["category.update"] * 3


def test_the_feed_of_a_renamed_category_follows_it(client, make, admin):
    """Feed readers subscribed to the old address keep getting the category's posts."""
    c = make.category("Netzkultur")
    make.post("Offen reden", category=c)
    edit(client, c, name="Netz & Gesellschaft", slug="netz-und-gesellschaft")
    response = client.get("/category/netzkultur/feed.atom")
    assert response.status_code == 301
    assert response.headers["Location"].endswith("/category/netz-und-gesellschaft/feed.atom")
    assert "Offen reden" in client.get("/category/netz-und-gesellschaft/feed.atom").get_data(as_text=True)
    assert client.get("/category/never-existed/feed.atom").status_code == 404


def test_order_up_and_down_changes_the_navigation(client, make, admin):
    a, b, c = make.category("Alpha", position=0), make.category("Beta", position=1), make.category("Gamma", position=2)
    client.post(f"{LIST}/{c.id}/move", data={"direction": "up"})
    client.post(f"{LIST}/{a.id}/move", data={"direction": "up"})  # already first: nothing moves
    db.session.expire_all()
    assert [x.name for x in db.session.scalars(select(Category).order_by(Category.position))] == [
        "Alpha", "Gamma", "Beta"]
    home = client.get("/").get_data(as_text=True)
    assert home.index("/category/gamma") < home.index("/category/beta")
    client.post(f"{LIST}/{a.id}/move", data={"direction": "down"})
    db.session.expire_all()
    assert [x.name for x in db.session.scalars(select(Category).order_by(Category.position))] == [
        "Gamma", "Alpha", "Beta"]
    assert b.id


def test_merge_moves_the_posts_keeps_the_comments_and_redirects(client, make, admin):
    source, target = make.category("Tarife"), make.category("Unternehmen")
    moved, stays = make.post("Neue Tarife", category=source), make.post("Jahresbericht", category=target)
    comment = add_comment(moved, body="Gilt das auch für Bestandskunden?")
    response = client.post(f"{LIST}/{source.id}/merge", data={"target": str(target.id)})
    assert response.status_code == 302
    assert category("tarife") is None
    db.session.expire_all()
    assert db.session.get(Post, moved.id).category_id == target.id == db.session.get(Post, stays.id).category_id
    kept = db.session.get(Comment, comment.id)
    assert (kept.post_id, kept.status) == (moved.id, CommentStatus.APPROVED)
    assert client.get("/category/tarife").headers["Location"].endswith("/category/unternehmen")
    listing = client.get("/category/unternehmen").get_data(as_text=True)
    assert "Neue Tarife" in listing and "Jahresbericht" in listing
    event = db.session.scalar(select(AdminEvent).where(AdminEvent.action == "category.merge"))
    assert event.subject == "tarife" and event.after == {"into": "unternehmen", "posts": 1}


def test_merging_into_itself_or_nothing_is_refused(client, make, admin):
    c = make.category("Tarife")
    for target in (str(c.id), "", "abc", "99999999999999999999"):
        response = client.post(f"{LIST}/{c.id}/merge", data={"target": target})
        assert response.status_code == 400, target
        assert "merge-error" in response.get_data(as_text=True)
    assert category("tarife") is not None
    assert client.post(f"{LIST}/424242/merge", data={"target": str(c.id)}).status_code == 404
    assert client.get(f"{LIST}/424242").status_code == 404


def test_the_queue_follows_a_target_changed_in_the_browser(app, client, make, admin):
    c = make.category("Kundenservice")
    c.response_target_minutes = 240
    db.session.commit()
    post = make.post("Hotline", category=c)
    add_comment(post, name="Wartende Leserin", status=CommentStatus.PENDING, minutes_ago=90,
                response_status=ResponseStatus.NEEDS_ANSWER, body="Wann ruft jemand zurück?")
    moderator = app.test_client()
    login(moderator, make.user("mod", role=Role.MODERATOR))
    breaching = "/moderation/?view=needs_answer&breaching=1"
    assert "Wartende Leserin" not in moderator.get(breaching).get_data(as_text=True)  # 90 min of 4 h
    assert edit(client, category("kundenservice"), target="1", unit="hours").status_code == 302
    assert category("kundenservice").response_target_minutes == 60
    assert "Wartende Leserin" in moderator.get(breaching).get_data(as_text=True)  # now overdue


# --- the file and the browser ------------------------------------------------------------------

def write_posts(directory, categories: str, post_category: str = "Netzkultur"):
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "categories.yml").write_text(textwrap.dedent(categories), encoding="utf-8")
    (directory / "erster.md").write_text(
        f"---\ntitle: Erster\ncategory: {post_category}\ndate: 2026-03-01 09:30\n---\nText.\n", encoding="utf-8")


def test_the_file_creates_new_categories_and_never_overwrites_one_changed_in_the_browser(
        runner, client, admin, tmp_path):
    posts = tmp_path / "posts"
    write_posts(posts, """
        - name: Netzkultur
          response_target_hours: 4
          description: Aus der Datei.
        - name: Kundenservice
          response_target_hours: 2
    """)
    assert runner.invoke(args=["posts", "import", str(posts)]).exit_code == 0
    netz = category("netzkultur")
    assert netz.response_target_minutes == 240
    # The browser renames Netzkultur and changes its target and description.
    edit(client, netz, name="Netz & Kultur", slug="netz-und-kultur", target="30", description="Aus dem Browser.")

    write_posts(posts, """
        - name: Netzkultur
          response_target_hours: 8
          description: Die Datei, geändert.
        - name: Kundenservice
          response_target_hours: 3
        - name: Neu aus der Datei
    """)
    (posts / "zweiter.md").write_text("---\ntitle: Zweiter\ncategory: Netzkultur\ndate: 2026-03-02\n---\nText.\n",
                                      encoding="utf-8")
    db.session.expire_all()  # the browser's change came from another session, as a real CLI run would read it
    result = runner.invoke(args=["posts", "import", str(posts)])
    assert result.exit_code == 0, result.output
    assert "changed in the browser, kept as they are there: Netz & Kultur" in result.output, result.output
    browser = category("netz-und-kultur")
    assert (browser.name, browser.response_target_minutes, browser.description) == (
        "Netz & Kultur", 30, "Aus dem Browser.")
    assert category("netzkultur") is None  # the old slug was not brought back
    assert category("kundenservice").response_target_minutes == 180  # untouched in the browser: the file's
    assert category("neu-aus-der-datei") is not None  # new in the file: created
    second = db.session.scalar(select(Post).where(Post.slug == "zweiter"))
    assert second.category_id == browser.id  # "category: Netzkultur" follows the rename


def test_the_category_pages_are_valid_html_with_and_without_errors(client, make, admin):
    from tests.test_html_validity import problems

    a, b = make.category("Netzkultur"), make.category("Technik")
    edit(client, a, target="90")
    client.post(f"{LIST}/{b.id}/move", data={"direction": "up"})
    pages = [client.get(LIST), client.post(LIST, data=fields(name="", target="-1")), client.get(f"{LIST}/{a.id}"),
             edit(client, category("netzkultur"), slug="Technik!"),
             client.post(f"{LIST}/{a.id}/merge", data={"target": str(a.id)})]
    for response in pages:
        assert problems(response.get_data(as_text=True)) == [], response.request.path
