"""What an outside review of the import broke, each fixed: a hostile export cannot hang a comment
under another post's thread or pass a guest off as the team, one bad entry never stops the rest,
a crafted address costs one lookup, and running a changed export again keeps every old link."""
from sqlalchemy import func, select

from app.extensions import db
from app.models import Comment, Post, User
from tests.test_import_bad_input import FIXTURE, wordpress_import, wp_comment, wp_post, written, wxr

DISQUS_HEAD = ('<?xml version="1.0" encoding="utf-8"?>\n<disqus xmlns="http://disqus.com" '
               'xmlns:dsq="http://disqus.com/disqus-internals">\n')


def _thread(thread_id: str, link: str) -> str:
    return (f'<thread dsq:id="{thread_id}"><id>{thread_id}</id><forum>altblog</forum><link>{link}</link>'
            f"<title>T</title><createdAt>2024-02-01T09:00:00Z</createdAt></thread>\n")


def _dsq(comment_id: str, thread_id: str, text: str, *, email="leser@example.org", anonymous="false",
         parent: str | None = None, own_id: str = "") -> str:
    parent_tag = f'<parent dsq:id="{parent}"/>' if parent else ""
    return (f'<post dsq:id="{comment_id}"><id>{own_id}</id><message><![CDATA[<p>{text}</p>]]></message>'
            f"<createdAt>2024-02-02T09:00:00Z</createdAt><isDeleted>false</isDeleted><isSpam>false</isSpam>"
            f"<author><email>{email}</email><name>Leserin</name><isAnonymous>{anonymous}</isAnonymous></author>"
            f'<ipAddress>192.0.2.9</ipAddress><thread dsq:id="{thread_id}"/>{parent_tag}</post>\n')


def _disqus(runner, tmp_path, body: str, *options):
    path = written(tmp_path, DISQUS_HEAD + body + "</disqus>\n", "disqus.xml")
    return runner.invoke(args=["import", "disqus", str(path), *options])


def test_a_parent_on_another_post_makes_a_top_level_comment(runner, client, tmp_path):
    export = wxr(wp_post(1, "Post A", slug="post-a", comments=wp_comment(1, "Frage zu A"))
                 + wp_post(2, "Post B", slug="post-b", comments=wp_comment(2, "Antwort auf A?", parent="1")))
    result = wordpress_import(runner, written(tmp_path, export))
    assert "its parent 1 is a comment of another post" in result.output
    stray = db.session.scalar(select(Comment).where(Comment.body_md.startswith("Antwort")))
    assert (stray.parent_id, stray.root_id, stray.depth) == (None, stray.id, 0)
    assert "Antwort auf A?" not in client.get("/posts/post-a").get_data(as_text=True)


def test_a_disqus_guest_with_the_teams_address_is_no_staff_comment(runner, make, tmp_path):
    make.user("anna", display_name="Anna Team").email = "support@alt.example.de"
    db.session.commit()
    assert wordpress_import(runner, FIXTURE).exit_code == 0
    link = "https://alt.example.de/2023/05/03/der-neue-router-ist-da/"
    result = _disqus(runner, tmp_path, _thread("t1", link)
                     + _dsq("d1", "t1", "Bitte hier klicken", email="SUPPORT@alt.example.de", anonymous="true")
                     + _dsq("d2", "t1", "Wir helfen gern", email="support@alt.example.de", anonymous="false"))
    assert result.exit_code == 0, result.output
    guest = db.session.scalar(select(Comment).where(Comment.body_md == "Bitte hier klicken"))
    member = db.session.scalar(select(Comment).where(Comment.body_md == "Wir helfen gern"))
    assert guest.user_id is None and not guest.is_official
    assert member.user_id is not None  # a registered Disqus account with the team's address


def test_one_entry_nested_too_deeply_or_dated_year_one_never_stops_the_rest(runner, tmp_path):
    deep = "<b>" * 600 + "tief" + "</b>" * 600
    year_one = wp_comment(4, "Uralt", date_gmt="0000-00-00 00:00:00").replace(
        "<![CDATA[2024-02-02 10:00:00]]></wp:comment_date>", "<![CDATA[0001-01-01 00:30:00]]></wp:comment_date>")
    export = wxr(wp_post(1, "Tief", content="<blockquote>" * 500 + "x" + "</blockquote>" * 500)
                 + wp_post(2, "Normal", comments=wp_comment(3, deep) + year_one + wp_comment(5, "Alles gut")))
    result = wordpress_import(runner, written(tmp_path, export))
    assert "Traceback" not in result.output
    assert "failed: post 1" in result.output and "skipped: comment 3" in result.output
    assert db.session.scalar(select(Post.id).where(Post.slug == "beitrag-2")) is not None
    bodies = set(db.session.scalars(select(Comment.body_md)))
    assert {"Uralt", "Alles gut"} <= bodies


def test_a_path_of_a_thousand_feeds_is_one_404(app, client):
    assert client.get("/feed" * 800 + "/").status_code == 404
    assert client.get("/page/2" * 580 + "/").status_code == 404


def test_a_slug_changed_in_wordpress_keeps_every_old_address(runner, client, tmp_path):
    assert wordpress_import(runner, FIXTURE).exit_code == 0
    changed = written(tmp_path, FIXTURE.read_text(encoding="utf-8").replace(
        "<wp:post_name><![CDATA[der-neue-router-ist-da]]></wp:post_name>\n\t\t<wp:status><![CDATA[publish]]>",
        "<wp:post_name><![CDATA[neuer-router]]></wp:post_name>\n\t\t<wp:status><![CDATA[publish]]>", 1))
    assert wordpress_import(runner, changed).exit_code == 0
    assert client.get("/posts/neuer-router").status_code == 200
    for old in ("/posts/der-neue-router-ist-da", "/2023/05/03/der-neue-router-ist-da/",
                "/category/router/der-neue-router-ist-da/", "/der-neue-router-ist-da/", "/?p=12"):
        response = client.get(old)
        assert response.status_code == 301 and response.headers["Location"].startswith("/posts/neuer-router"), old


def test_force_overwrites_a_dialog_edit_even_when_the_export_is_the_same(runner):
    wordpress_import(runner, FIXTURE)
    post = db.session.scalar(select(Post).where(Post.slug == "der-neue-router-ist-da"))
    post.title, post.version = "In Dialog bearbeitet", post.version + 1
    db.session.commit()
    wordpress_import(runner, FIXTURE, "--force")
    db.session.expire_all()
    assert db.session.scalar(select(Post.title).where(Post.id == post.id)) == "Der neue Router ist da"
    assert "changed in Dialog" not in wordpress_import(runner, FIXTURE).output


def test_comments_the_disqus_plugin_copied_into_wordpress_come_once(runner, tmp_path):
    assert wordpress_import(runner, FIXTURE).exit_code == 0
    before = db.session.scalar(select(func.count()).select_from(Comment))
    link = "https://alt.example.de/2023/05/03/der-neue-router-ist-da/"
    result = _disqus(runner, tmp_path, _thread("t1", link)
                     + _dsq("d101", "t1", "Muss ich den alten Router zurückschicken?", own_id="wp_id=101")
                     + _dsq("d200", "t1", "Neu aus Disqus, Antwort auf Peter", parent="d101"))
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(func.count()).select_from(Comment)) == before + 1
    reply = db.session.scalar(select(Comment).where(Comment.body_md.startswith("Neu aus Disqus")))
    question = db.session.get(Comment, reply.parent_id)
    assert question.body_md.startswith("Muss ich")  # the WordPress import's comment


def test_the_same_blog_exported_over_http_is_not_imported_twice(runner, tmp_path):
    wordpress_import(runner, FIXTURE)
    counts = (db.session.scalar(select(func.count()).select_from(Post)),
              db.session.scalar(select(func.count()).select_from(Comment)),
              db.session.scalar(select(func.count()).select_from(User)))
    http = written(tmp_path, FIXTURE.read_text(encoding="utf-8").replace(
        "<wp:base_site_url>https://alt.example.de", "<wp:base_site_url>http://www.alt.example.de").replace(
        "<wp:base_blog_url>https://alt.example.de", "<wp:base_blog_url>http://www.alt.example.de"))
    result = wordpress_import(runner, http)
    assert "0 created" in result.output and (
        db.session.scalar(select(func.count()).select_from(Post)),
        db.session.scalar(select(func.count()).select_from(Comment)),
        db.session.scalar(select(func.count()).select_from(User))) == counts


def test_more_wordpress_shapes_and_no_guessing_inside_our_own_paths(runner, client):
    wordpress_import(runner, FIXTURE)
    router = "/posts/der-neue-router-ist-da?from=wordpress"
    for old, new in (("/index.php?p=12", router), ("/index.php/2023/05/03/der-neue-router-ist-da/", router),
                     ("/2023/05/03/der-neue-router-ist-da/comment-page-2/", router),
                     ("/?author=2", "/author/jana")):
        response = client.get(old)
        assert (response.status_code, response.headers.get("Location")) == (301, new), old
    for ours in ("/posts/x/comments/15", "/uploads/15", "/moderation/comments/15"):
        assert "stoerung" not in client.get(ours).headers.get("Location", ""), ours  # WordPress post 15


def test_map_url_takes_a_trailing_slash_and_matches_whole_prefixes(runner, tmp_path):
    assert wordpress_import(runner, FIXTURE).exit_code == 0
    body = (_thread("t1", "https://blog.altefirma.de/2023/06/10/stoerung-in-koeln-behoben/")
            + _thread("t2", "https://blog.altefirma.deutsch.example/2023/06/10/stoerung-in-koeln-behoben/")
            + _dsq("d1", "t1", "Über die alte Domain") + _dsq("d2", "t2", "Fremde Domain"))
    result = _disqus(runner, tmp_path, body, "--map-url", "https://blog.altefirma.de/=https://alt.example.de/")
    assert result.exit_code == 0, result.output
    bodies = set(db.session.scalars(select(Comment.body_md)))
    assert "Über die alte Domain" in bodies and "Fremde Domain" not in bodies

