"""`flask import wordpress`: a real-shaped WXR (tests/data/imports/wordpress-small.xml: namespaces,
CDATA, postmeta, terms, block markup, shortcodes, a reply before its parent) and the generator's
files (bench/wxr_generator.py) come in with their threads, statuses and addresses intact."""
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from app.extensions import db
from app.imports import wp_content
from app.models import (
    Category,
    Comment,
    ImportedItem,
    Mention,
    ModerationEvent,
    OutboxMail,
    Page,
    Post,
    PostStatus,
    Redirect,
    Tag,
    User,
    post_tags,
)
from bench import wxr_generator

FIXTURE = Path(__file__).parent / "data" / "imports" / "wordpress-small.xml"


def _import(runner, path=FIXTURE, *args):
    result = runner.invoke(args=["import", "wordpress", str(path), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def _post(slug) -> Post:
    return db.session.scalar(select(Post).where(Post.slug == slug))


def _counts() -> dict:
    return {model.__name__: db.session.scalar(select(func.count()).select_from(model))
            for model in (Post, Page, Comment, ModerationEvent, Redirect, ImportedItem, User, Category, Tag)}


def test_posts_pages_authors_and_terms_arrive_mapped(app, runner):
    result = _import(runner)
    assert result.exit_code == 0, result.output
    with app.app_context():
        post = _post("der-neue-router-ist-da")
        assert post.title == "Der neue Router ist da" and post.status == PostStatus.PUBLISHED
        assert post.published_at == datetime(2023, 5, 3, 8, 15, tzinfo=UTC)  # post_date_gmt
        assert post.summary == "Der neue Router kommt: Wi-Fi 6, vier Anschlüsse."  # the excerpt
        assert post.sticky and post.comments_open
        category = db.session.get(Category, post.category_id)
        assert (category.slug, category.name) == ("router", "Router & WLAN")  # entities decoded
        assert db.session.get(Category, category.parent_id).slug == "technik"  # the hierarchy
        tags = set(db.session.scalars(select(Tag.slug).join(post_tags, post_tags.c.tag_id == Tag.id)
                                      .where(post_tags.c.post_id == post.id)))
        assert {"glasfaser", "technik"} <= tags  # a second category becomes a tag
        author = db.session.get(User, post.author_id)
        assert (author.username, author.display_name, author.active, author.password_hash) == \
            ("jana", "Jana Körting", False, None)  # an account that cannot sign in
        umlaut = _post("stoerung-in-koeln-behoben")  # post_name was percent-encoded UTF-8
        assert umlaut is not None and not umlaut.comments_open
        assert _post("tarifwechsel-entwurf").status == PostStatus.DRAFT
        assert _post("nur-fuer-mitglieder").status == PostStatus.DRAFT  # password-protected
        page = db.session.scalar(select(Page).where(Page.slug == "ueber-uns"))
        assert "Seit 2009 verlegen wir Glasfaser." in page.body_html
        assert db.session.scalar(select(func.count()).select_from(Post).where(Post.title == "Papierkorb")) == 0
    assert "password-protected: imported as a draft" in result.output
    assert "post 18: no title" in result.output and "post 18: invalid date" in result.output
    assert "the address 'der-neue-router-ist-da' is taken" in result.output


def test_content_becomes_markdown_and_keeps_structure_as_html(app, runner):
    _import(runner)
    with app.app_context():
        post = _post("der-neue-router-ist-da")
        assert "Er kann Wi-Fi 6" in post.body_md and "<p>" not in post.body_md.split("\n")[0]  # wpautop → Markdown
        assert "<table>" in post.body_md and "<figure>" in post.body_md  # kept as HTML blocks
        assert '<h2 id="was-ist-neu">' in post.body_html
        assert "<figcaption>So sieht er aus</figcaption>" in post.body_html
        assert "<li>analog</li>" in post.body_html  # the nested list
        for bad in ("<script", "alert(", "onclick", "steal()"):
            assert bad not in post.body_html
        blocks = _post("stoerung-in-koeln-behoben")
        assert "wp:paragraph" not in blocks.body_md and "## Was war los?" in blocks.body_md


def test_threads_statuses_and_answers(app, runner):
    _import(runner)
    with app.app_context():
        post = _post("der-neue-router-ist-da")
        comments = {c.author_name + ":" + c.body_md[:12]: c for c in
                    db.session.scalars(select(Comment).where(Comment.post_id == post.id))}
        by_text = {c.body_md.split()[0]: c for c in comments.values()}
        question = by_text["Muss"]
        answer = next(c for c in comments.values() if c.parent_id == question.id)
        thanks = next(c for c in comments.values() if c.parent_id == answer.id)  # written before its parent
        assert (question.depth, answer.depth, thanks.depth) == (0, 1, 2)
        assert question.root_id == answer.root_id == thanks.root_id == question.id
        assert answer.user_id is not None and answer.is_official  # comment_user_id of the team's account
        assert question.response_status == "answered"
        assert question.answered_at == datetime(2023, 5, 3, 10, 40, tzinfo=UTC)
        assert thanks.response_status == "no_answer_needed"
        statuses = sorted(c.status for c in comments.values())
        assert statuses == ["approved"] * 4 + ["deleted", "pending", "spam"]
        orphan = by_text["Antwort"]
        assert orphan.parent_id is None and orphan.depth == 0  # its parent 999 is not in the export
        lisa = by_text["Bei"]
        assert lisa.created_at == datetime(2023, 5, 5, 7, 0, tzinfo=UTC)  # no GMT date: Berlin time
        assert question.ip_hash and len(question.ip_hash) == 64 and "192.0.2.44" not in question.ip_hash
        spam = next(c for c in comments.values() if c.status == "spam")
        assert "billig" in spam.body_html
        for bad in ("<script", "evil()", "onmouseover"):
            assert bad not in spam.body_html
        events = db.session.scalars(select(ModerationEvent.action).where(ModerationEvent.comment_id == question.id))
        assert list(events) == ["import"]  # through the state machine's audit trail
        assert db.session.scalar(select(func.count()).select_from(OutboxMail)) == 0  # nobody is mailed


def test_pingbacks_are_skipped_or_kept_apart(app, runner):
    result = _import(runner)
    assert "skipped 1 pingback" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Mention)) == 0
    _import(runner, FIXTURE, "--pingbacks")
    with app.app_context():
        mention = db.session.scalar(select(Mention))
        assert (mention.kind, mention.source_url, mention.approved) == \
            ("pingback", "https://technikblog.example/router-test/", True)
        assert db.session.scalar(select(func.count()).select_from(Comment).where(
            Comment.author_name == "Technikblog XY")) == 0


def test_importing_twice_changes_nothing(app, runner):
    _import(runner)
    with app.app_context():
        before = _counts()
        versions = dict(db.session.execute(select(Post.slug, Post.version)).all())
    result = _import(runner)
    assert result.exit_code == 0
    with app.app_context():
        assert _counts() == before
        assert dict(db.session.execute(select(Post.slug, Post.version)).all()) == versions
    assert "post: 0 created, 0 updated, 5 unchanged" in result.output
    assert "comment: 0 created, 0 updated, 8 unchanged" in result.output


def test_a_changed_export_updates_and_adds_but_never_duplicates(app, runner, tmp_path):
    _import(runner)
    changed = tmp_path / "later.xml"
    text = FIXTURE.read_text(encoding="utf-8").replace("Der neue Router ist da]]></title>",
                                                       "Der neue Router ist endlich da]]></title>")
    new_comment = "".join(f"<wp:{k}><![CDATA[{v}]]></wp:{k}>\n" for k, v in [
        ("comment_id", "120"), ("comment_author", "Nachzügler"), ("comment_author_email", "n@example.org"),
        ("comment_author_IP", ""), ("comment_date", "2023-06-01 10:00:00"),
        ("comment_date_gmt", "2023-06-01 08:00:00"), ("comment_content", "Und was ist mit IPv6?"),
        ("comment_approved", "1"), ("comment_type", "comment"), ("comment_parent", "101"),
        ("comment_user_id", "0")])
    new_comment = f"<wp:comment>{new_comment}</wp:comment>\n"
    changed.write_text(text.replace("\t</item>", new_comment + "\t</item>", 1), encoding="utf-8")
    with app.app_context():
        comments_before = db.session.scalar(select(func.count()).select_from(Comment))
    result = _import(runner, changed)
    assert "post: 0 created, 1 updated, 4 unchanged" in result.output
    with app.app_context():
        post = _post("der-neue-router-ist-da")
        assert post.title == "Der neue Router ist endlich da" and post.version == 2
        assert db.session.scalar(select(func.count()).select_from(Comment)) == comments_before + 1
        late = db.session.scalar(select(Comment).where(Comment.author_name == "Nachzügler"))
        question = db.session.get(Comment, late.parent_id)
        assert question.body_md.startswith("Muss ich") and late.depth == 1  # replies to a comment of the first run


def test_a_post_edited_in_dialog_is_left_alone_unless_forced(app, runner, tmp_path):
    _import(runner)
    with app.app_context():
        post = _post("der-neue-router-ist-da")
        post.title, post.version = "Von der Redaktion überarbeitet", post.version + 1
        db.session.commit()
    changed = tmp_path / "later.xml"
    changed.write_text(FIXTURE.read_text(encoding="utf-8").replace("Seit heute", "Ab heute"), encoding="utf-8")
    result = _import(runner, changed)
    assert "changed in Dialog since its import (--force overwrites)" in result.output
    with app.app_context():
        assert _post("der-neue-router-ist-da").title == "Von der Redaktion überarbeitet"
    _import(runner, changed, "--force")
    with app.app_context():
        assert "Ab heute" in _post("der-neue-router-ist-da").body_md


def test_map_author_puts_posts_and_answers_under_an_existing_account(app, runner, make):
    with app.app_context():
        make.user("anna", display_name="Anna Team")
        db.session.commit()
    result = _import(runner, FIXTURE, "--map-author", "jana=anna", "--map-author", "support-team=anna")
    assert result.exit_code == 0, result.output
    with app.app_context():
        anna = db.session.scalar(select(User).where(User.username == "anna"))
        assert _post("der-neue-router-ist-da").author_id == anna.id
        assert db.session.scalar(select(func.count()).select_from(User).where(User.username == "jana")) == 0
        answer = db.session.scalar(select(Comment).where(Comment.is_official.is_(True)))
        assert answer.user_id == anna.id


def test_media_copies_images_into_the_library_and_rewrites_links(app, runner, tmp_path):
    from PIL import Image

    media = tmp_path / "uploads" / "2023" / "05"
    media.mkdir(parents=True)
    Image.new("RGB", (600, 400), (20, 90, 160)).save(media / "router.png")  # the original of router-300x200.png
    result = _import(runner, FIXTURE, "--media", str(tmp_path / "uploads"))
    assert result.exit_code == 0, result.output
    with app.app_context():
        html = _post("der-neue-router-ist-da").body_html
        assert "alt.example.de/wp-content" not in html and 'src="/uploads/' in html
        assert "alt.example.de/wp-content" not in _post("stoerung-in-koeln-behoben").body_html
    assert "image links still point at the old site" not in result.output
    assert "attachments: 1 in the export, 1 images copied into the library" in result.output


def test_imported_comments_reach_readers_search_and_the_queue(app, runner, client):
    _import(runner)
    page = client.get("/posts/der-neue-router-ist-da").get_data(as_text=True)
    assert "Muss ich den alten Router zurückschicken?" in page and "Bei mir blinkt die LED rot" not in page
    assert "billig" not in page
    from app.search import index

    with app.app_context():
        hits = {(h.kind, h.id) for h in index.search("zurückschicken").hits}
        question = db.session.scalar(select(Comment.id).where(Comment.body_md.startswith("Muss ich")))
        assert ("comment", question) in hits
        assert not index.search("blinkt").hits  # a pending comment is not findable by readers


def test_the_generators_export_imports_with_the_same_counts(app, runner, tmp_path):
    path = tmp_path / "gen.xml"
    with path.open("w", encoding="utf-8") as out:
        counts = wxr_generator.write_wxr(out, posts=30, comments=400, seed=7)
    result = _import(runner, path)
    assert result.exit_code == 0, result.output
    with app.app_context():
        stored = dict(db.session.execute(select(Comment.status, func.count()).group_by(Comment.status)).all())
        expected = {"approved": counts.comments_by_status.get("approved", 0),
                    "pending": counts.comments_by_status.get("pending", 0),
                    "spam": counts.comments_by_status.get("spam", 0),
                    "deleted": counts.comments_by_status.get("trash", 0)}
        assert stored == {k: v for k, v in expected.items() if v}
        depth = db.session.scalar(select(func.max(Comment.depth)))
        assert depth == counts.max_depth - 1 or depth == counts.max_depth
        parent = aliased(Comment)
        replies = db.session.execute(select(Comment.post_id, Comment.depth, Comment.root_id, parent.post_id,
                                            parent.depth, parent.root_id)
                                     .join(parent, parent.id == Comment.parent_id)).all()
        assert len(replies) == db.session.scalar(select(func.count()).select_from(Comment)
                                                 .where(Comment.parent_id.is_not(None))) > 0
        for post_id, depth, root, parent_post, parent_depth, parent_root in replies:
            assert (post_id, depth, root) == (parent_post, parent_depth + 1, parent_root)


@pytest.mark.parametrize("version", ["1.0", "1.1"])
def test_older_wxr_versions_import(app, runner, tmp_path, version):
    path = tmp_path / f"wxr-{version}.xml"
    with path.open("w", encoding="utf-8") as out:
        wxr_generator.write_wxr(out, posts=5, comments=20, seed=3, version=version)
    result = _import(runner, path)
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Post)) >= 4


def test_wpautop_and_shortcodes_by_hand():
    assert wp_content.wpautop("eins\nzwei\n\ndrei") == "<p>eins<br />\nzwei</p>\n\n<p>drei</p>"
    assert wp_content.wpautop("<pre>a\n\nb</pre>") == "<pre>a\n\nb</pre>"
    html = wp_content.expand_shortcodes('[caption id="a" width="3"]<img src="x.jpg" alt="X"> Bildtext[/caption]', {})
    assert html.startswith("<figure><img") and "<figcaption>Bildtext</figcaption>" in html
    assert wp_content.expand_shortcodes("[[gallery]]", {}) == "[gallery]"  # WordPress's escape
    assert 'href="https://v.example/1"' in wp_content.expand_shortcodes("[embed]https://v.example/1[/embed]", {})
    assert wp_content.expand_shortcodes("[embed]javascript:alert(1)[/embed]", {}) == ""
    assert wp_content.original_upload("/2019/05/bild-300x200.jpg") == "/2019/05/bild.jpg"


@pytest.mark.parametrize(("text", "shown"), [
    ("1. Punkt und *Sterne*", "1. Punkt und *Sterne*"),
    ("# keine Überschrift", "# keine Überschrift"),
    ("- kein Listenpunkt", "- kein Listenpunkt"),
    ("Preis: 5 € & mehr = gut | sehr", "Preis: 5 € &amp; mehr = gut | sehr"),
    ("a_b_c [x] `y` > z", "a_b_c [x] `y` &gt; z"),
])
def test_comment_text_shows_as_written_in_wordpress(text, shown):
    from app import markup

    html = markup.render_comment(wp_content.comment_to_markdown(text))
    assert markup.plain_text(html) == markup.plain_text(f"<p>{shown}</p>")
    assert "\\" not in html


def test_recent_imported_comments_count_in_the_queue_and_the_statistics(app, runner, client, make, tmp_path):
    """Imported comments are comments like any other: the queue shows the waiting one, the
    statistics and their CSV count the answered question with its response time."""
    from datetime import timedelta

    from app.models import utcnow
    from tests.moderation_helpers import moderator

    asked = (utcnow() - timedelta(days=3)).replace(microsecond=0)
    answered, later = asked + timedelta(minutes=42), asked + timedelta(hours=5)
    text = FIXTURE.read_text(encoding="utf-8")
    # Post 12's question (101) and the team's answer (103) three days ago, Lisa's pending one (106) after.
    for old, new in (("2023-05-03 09:02:00", asked), ("2023-05-03 10:40:00", answered),
                     ("2023-05-05 09:00:00", later), ("2023-05-03 11:00:00", answered + timedelta(minutes=5))):
        text = text.replace(f"<![CDATA[{old}]]></wp:comment_date_gmt>",
                            f"<![CDATA[{new:%Y-%m-%d %H:%M:%S}]]></wp:comment_date_gmt>")
    text = text.replace("<wp:comment_date_gmt><![CDATA[0000-00-00 00:00:00]]>",
                        f"<wp:comment_date_gmt><![CDATA[{later:%Y-%m-%d %H:%M:%S}]]>")
    path = tmp_path / "recent.xml"
    path.write_text(text, encoding="utf-8")
    assert _import(runner, path).exit_code == 0
    with app.app_context():
        moderator(make, client)
        db.session.commit()
    queue = client.get("/moderation/").get_data(as_text=True)
    assert "Bei mir blinkt die LED rot" in queue  # waiting for a decision, like a new comment
    assert client.get("/moderation/stats").status_code == 200
    rows = client.get("/moderation/export.csv").get_data(as_text=True)
    question = next(line.split(",") for line in rows.splitlines() if "Peter M." in line and ",answered," in line)
    assert question[-2] == "42"  # minutes to the first answer: the team's reply 42 minutes after the question
