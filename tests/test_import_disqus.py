"""`flask import disqus`: the comments of a blog that used Disqus land on the right posts, threads
intact, in the status they had, staff recognised, IPs only as keyed hashes, readers see them and
search finds them; running it again changes nothing.

The threads of tests/data/imports/disqus-small.xml point at the WordPress fixture's posts by links
as readers arrived (http without slash, www. with a tracking query), by the identifier only (a
preview link), by the blog's former domain (only with --map-url), and one at a page we lack.
"""
import hashlib
import re
import shutil
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from app.comments.service import hash_ip
from app.extensions import db
from app.imports import threads
from app.models import Comment, CommentStatus, ImportedItem, ModerationEvent, Post, Redirect, User
from app.search import index

DATA = Path(__file__).parent / "data" / "imports"
WORDPRESS = DATA / "wordpress-small.xml"
DISQUS = DATA / "disqus-small.xml"
ORIGIN = "disqus:alt-example-de"
OLD_DOMAIN = ("--map-url", "https://blog.altefirma.de=https://alt.example.de")
NS, DSQ = "{http://disqus.com}", "{http://disqus.com/disqus-internals}id"


# Where each comment of the file belongs (with --map-url): Disqus id → our post's slug.
POST_OF = {
    "6015550001": "der-neue-router-ist-da", "6015550002": "der-neue-router-ist-da",
    "6015550003": "der-neue-router-ist-da", "6015550004": "der-neue-router-ist-da",
    "6015550005": "der-neue-router-ist-da", "6015550006": "der-neue-router-ist-da",
    "6015550010": "nur-fuer-mitglieder",  # www. and ?utm_source=x
    "6015550020": "tarifwechsel-entwurf",  # a preview link: by the identifier "16 https://alt.example.de/?p=16"
    "6015550030": "stoerung-in-koeln-behoben", "6015550031": "stoerung-in-koeln-behoben",  # the old domain
    "6015550032": "stoerung-in-koeln-behoben",
}


@pytest.fixture
def search(app):
    """Search on the configured backend, cleaned up after the test as in test_search.py."""
    yield index
    index.close()
    if app.config["SEARCH_BACKEND"] == "postgresql":
        from app.search.postgresql.schema import schema_name

        db.session.rollback()
        with db.engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema_name()}" CASCADE'))
    else:
        shutil.rmtree(index.location(), ignore_errors=True)


@pytest.fixture
def wordpress_first(runner, search):
    result = runner.invoke(args=["import", "wordpress", str(WORDPRESS)])
    assert result.exit_code == 0, result.output


def disqus_import(runner, *options, path=DISQUS):
    return runner.invoke(args=["import", "disqus", str(path), *options])


def lines(result, prefix: str) -> list[str]:
    return [line.strip() for line in result.output.splitlines() if line.strip().startswith(prefix)]


def imported() -> dict[str, Comment]:
    """The comments this Disqus export became, by their Disqus id."""
    db.session.expire_all()
    rows = db.session.execute(select(ImportedItem.source_id, Comment)
                              .join(Comment, Comment.id == ImportedItem.target_id)
                              .where(ImportedItem.origin == ORIGIN, ImportedItem.kind == "comment"))
    return {source_id: comment for source_id, comment in rows}


def slug_of(comment: Comment) -> str:
    return db.session.scalar(select(Post.slug).where(Post.id == comment.post_id))


def source_posts() -> list[ET.Element]:
    return ET.parse(DISQUS).getroot().findall(NS + "post")


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_comments_land_on_their_posts_with_threads_intact(runner, wordpress_first):
    result = disqus_import(runner, *OLD_DOMAIN)
    assert result.exit_code == 0, result.output
    comments = imported()
    assert {source_id: slug_of(c) for source_id, c in comments.items()} == POST_OF

    def parent(source_id):
        return comments[source_id].parent_id

    # Replies come before what they answer in the file; here each points at its parent's new id.
    question, answer, thanks = comments["6015550001"], comments["6015550004"], comments["6015550006"]
    assert (question.parent_id, question.root_id, question.depth) == (None, question.id, 0)
    assert (answer.parent_id, answer.root_id, answer.depth) == (question.id, question.id, 1)
    assert (thanks.parent_id, thanks.root_id, thanks.depth) == (answer.id, question.id, 2)
    assert parent("6015550005") == comments["6015550002"].id
    assert parent("6015550031") == comments["6015550030"].id and parent("6015550032") == comments["6015550031"].id
    assert comments["6015550032"].root_id == comments["6015550030"].id and comments["6015550032"].depth == 2
    for source_id in ("6015550002", "6015550003", "6015550010", "6015550020", "6015550030"):
        assert parent(source_id) is None and comments[source_id].root_id == comments[source_id].id
    assert question.body_html == "<p>Bekommen auch Bestandskunden den neuen Router, oder nur wer jetzt neu bucht?</p>"
    assert question.author_name == "Sabine Krause" and question.author_email == "sabine.krause@example.org"
    assert lines(result, "skipped: comment") == [
        "skipped: comment 6015550040: its thread matches no post: thread 7310442005"]


def test_each_status_is_counted_as_often_as_in_the_source(runner, wordpress_first):
    """Deleted stays deleted, spam stays spam, all else was published there: approved."""
    disqus_import(runner, *OLD_DOMAIN)
    matched = [p for p in source_posts() if p.find(NS + "thread").get(DSQ) != "7310442005"]
    source = Counter("deleted" if p.findtext(NS + "isDeleted") == "true" else
                     "spam" if p.findtext(NS + "isSpam") == "true" else "approved" for p in matched)
    ours = Counter(c.status for c in imported().values())
    assert ours == source == {CommentStatus.APPROVED: 9, CommentStatus.SPAM: 1, CommentStatus.DELETED: 1}
    assert imported()["6015550003"].status == CommentStatus.SPAM
    assert imported()["6015550005"].status == CommentStatus.DELETED
    events = db.session.scalars(select(ModerationEvent).where(ModerationEvent.reason == f"imported from {ORIGIN}"))
    assert Counter(e.to_status for e in events) == source


def test_a_comment_from_a_staff_address_is_a_staff_comment(runner, wordpress_first):
    disqus_import(runner, *OLD_DOMAIN)
    comments = imported()
    support = db.session.scalar(select(User).where(User.email == "support@alt.example.de"))
    jana = db.session.scalar(select(User).where(User.email == "jana@alt.example.de"))
    answer, question = comments["6015550004"], comments["6015550001"]
    assert answer.user_id == support.id and answer.is_official and answer.response_status is None
    assert question.response_status == "answered" and question.answered_at == answer.created_at
    assert comments["6015550031"].user_id == support.id and comments["6015550031"].is_official
    assert comments["6015550020"].user_id == jana.id  # written Jana@Alt.Example.de: addresses ignore case
    readers = set(POST_OF) - {"6015550004", "6015550031", "6015550020"}
    assert all(comments[s].user_id is None and not comments[s].is_official for s in readers)


def test_ip_addresses_are_kept_only_as_keyed_hashes(app, runner, wordpress_first):
    disqus_import(runner, *OLD_DOMAIN)
    comments = imported()
    ips = {p.get(DSQ): p.findtext(NS + "ipAddress") for p in source_posts()}
    assert len(comments) == len(POST_OF)
    for source_id, comment in comments.items():
        ip = ips[source_id]
        assert re.fullmatch(r"[0-9a-f]{64}", comment.ip_hash)
        assert comment.ip_hash == hash_ip(ip, app.config["SECRET_KEY"])
        assert comment.ip_hash != hashlib.sha256(ip.encode()).hexdigest()  # keyed, not a plain hash
        row = db.session.execute(select(Comment.__table__).where(Comment.id == comment.id)).one()
        assert not any(ip in str(value) for value in row), (source_id, row)


def test_a_thread_on_the_old_domain_matches_with_map_url(runner, wordpress_first):
    result = disqus_import(runner, *OLD_DOMAIN)
    on_outage = [s for s, c in imported().items() if slug_of(c) == "stoerung-in-koeln-behoben"]
    assert sorted(on_outage) == ["6015550030", "6015550031", "6015550032"]
    assert "7310442004" not in result.output


def test_a_thread_on_the_old_domain_does_not_match_without_map_url(runner, wordpress_first):
    result = disqus_import(runner)
    assert ("skipped: thread 7310442004: no post matches its link or identifier: https://blog.altefirma.de/2023/06/10/stoerung-in-koeln-behoben/"
            in lines(result, "skipped: thread")), result.output
    assert not [s for s, c in imported().items() if slug_of(c) == "stoerung-in-koeln-behoben"]


def test_the_thread_of_a_page_we_do_not_have_is_reported(runner, wordpress_first):
    result = disqus_import(runner, *OLD_DOMAIN)
    assert result.exit_code == 0, result.output
    assert lines(result, "skipped: thread") == ["skipped: thread 7310442005: no post matches its link or identifier: https://alt.example.de/kontakt/"]
    assert not db.session.scalar(select(func.count()).select_from(Comment).where(Comment.author_name == "Gast"))


def test_the_summary_line_of_an_unmatched_thread_is_not_cut_at_its_address(runner, wordpress_first):
    result = disqus_import(runner, *OLD_DOMAIN)
    assert not [line for line in lines(result, "skipped 1 thread") if line.endswith("https")], result.output


def test_running_it_again_changes_nothing(runner, wordpress_first):
    first = disqus_import(runner, *OLD_DOMAIN)
    assert "comment:approved: 9 created" in first.output, first.output
    before = [count(m) for m in (Comment, ModerationEvent, ImportedItem, Redirect, Post)]
    states = {s: (c.id, c.post_id, c.parent_id, c.status, c.body_html) for s, c in imported().items()}
    again = disqus_import(runner, *OLD_DOMAIN)
    assert again.exit_code == 0, again.output
    assert "comment: 0 created, 0 updated, 11 unchanged" in again.output
    assert not re.search(r"\b[1-9]\d* created", again.output), again.output
    assert [count(m) for m in (Comment, ModerationEvent, ImportedItem, Redirect, Post)] == before
    assert {s: (c.id, c.post_id, c.parent_id, c.status, c.body_html) for s, c in imported().items()} == states


def test_readers_see_the_approved_comments_on_the_post(runner, client, wordpress_first):
    disqus_import(runner, *OLD_DOMAIN)
    page = client.get("/posts/der-neue-router-ist-da")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Bekommen auch Bestandskunden den neuen Router" in html
    assert "Bestandskunden mit Glasfaser 500 bekommen den neuen Router ohne Aufpreis" in html
    assert "hab ihn gerade im Kundenportal bestellt" in html and "Das Gerät ist von 2012." in html
    assert "Router zum Sonderpreis" not in html  # spam
    assert "Das würde mich auch interessieren" not in html  # deleted
    outage = client.get("/posts/stoerung-in-koeln-behoben").get_data(as_text=True)
    assert "Bei uns in Nippes ist das Internet immer noch weg" in outage


def test_search_finds_the_imported_comments_after_the_import(runner, wordpress_first, search):
    disqus_import(runner, *OLD_DOMAIN)
    comments = imported()

    def found(q):
        results = search.search(q)
        assert results.state == "ok", results
        return {(hit.kind, hit.id) for hit in results.hits}

    assert {("comment", comments["6015550030"].id), ("comment", comments["6015550031"].id)} <= found("Nippes")
    assert ("comment", comments["6015550001"].id) in found("Bestandskunden")
    assert ("comment", comments["6015550003"].id) not in found("Sonderpreis")  # spam is not for readers
    assert ("comment", comments["6015550010"].id) not in found("Mitgliederbereich")  # on a draft


def test_a_database_error_fails_only_its_thread_and_names_it(runner, wordpress_first, monkeypatch):
    real = threads.admit_imported

    def admit_imported(rows, states, *, origin):
        ids = real(rows, states, origin=origin)
        if db.session.get(Post, rows[0]["post_id"]).slug == "stoerung-in-koeln-behoben":
            raise IntegrityError("INSERT INTO moderation_events (comment_id, actor_id, action) VALUES (?, ?, ?)",
                                 {}, Exception("UNIQUE constraint failed: moderation_events.id"))
        return ids

    monkeypatch.setattr(threads, "admit_imported", admit_imported)
    result = disqus_import(runner, *OLD_DOMAIN)
    assert result.exit_code == 1
    failed = lines(result, "failed:")
    assert len(failed) == 1 and "7310442004" in failed[0] and "UNIQUE constraint failed" in failed[0], failed
    assert not [s for s, c in imported().items() if slug_of(c) == "stoerung-in-koeln-behoben"]
    assert len(imported()) == 8  # the other threads are in
    monkeypatch.undo()
    assert disqus_import(runner, *OLD_DOMAIN).exit_code == 0
    assert len(imported()) == 11


OWN_POSTS = """<?xml version="1.0" encoding="utf-8"?>
<disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals">
  <thread dsq:id="88001">
    <id />
    <forum>sternwelle-blog</forum>
    <category dsq:id="501" />
    <link>https://blog.example.de/posts/glasfaser-fuer-alle/</link>
    <title>Glasfaser für alle</title>
    <createdAt>2026-01-10T09:00:00Z</createdAt>
    <isClosed>false</isClosed>
    <isDeleted>false</isDeleted>
  </thread>
  <thread dsq:id="88002">
    <id />
    <forum>sternwelle-blog</forum>
    <category dsq:id="501" />
    <link>http://www.blog.example.de/posts/neue-tarife-ab-juli?utm_source=newsletter&amp;utm_medium=email</link>
    <title>Neue Tarife ab Juli</title>
    <createdAt>2026-01-11T09:00:00Z</createdAt>
    <isClosed>false</isClosed>
    <isDeleted>false</isDeleted>
  </thread>
  <thread dsq:id="88003">
    <id />
    <forum>sternwelle-blog</forum>
    <category dsq:id="501" />
    <link>https://blog.example.de/posts/gibt-es-nicht-mehr/</link>
    <title>Alt</title>
    <createdAt>2025-01-11T09:00:00Z</createdAt>
    <isClosed>false</isClosed>
    <isDeleted>false</isDeleted>
  </thread>
  <post dsq:id="99002">
    <id />
    <message><![CDATA[<p>Und wann ist meine Straße dran?</p>]]></message>
    <createdAt>2026-01-10T12:00:00Z</createdAt>
    <isDeleted>false</isDeleted>
    <isSpam>false</isSpam>
    <author><email>anna@example.org</email><name>Anna</name><isAnonymous>true</isAnonymous></author>
    <ipAddress>192.0.2.80</ipAddress>
    <thread dsq:id="88001" />
    <parent dsq:id="99001" />
  </post>
  <post dsq:id="99001">
    <id />
    <message><![CDATA[<p>Gilt der Ausbau auch für Nippes?</p>]]></message>
    <createdAt>2026-01-10T11:00:00Z</createdAt>
    <isDeleted>false</isDeleted>
    <isSpam>false</isSpam>
    <author><email>bernd@example.org</email><name>Bernd</name><isAnonymous>true</isAnonymous></author>
    <ipAddress>192.0.2.81</ipAddress>
    <thread dsq:id="88001" />
  </post>
  <post dsq:id="99003">
    <id />
    <message><![CDATA[<p>Wird der Grundpreis teurer?</p>]]></message>
    <createdAt>2026-01-11T10:00:00Z</createdAt>
    <isDeleted>false</isDeleted>
    <isSpam>false</isSpam>
    <author><email>carla@example.org</email><name>Carla</name><isAnonymous>true</isAnonymous></author>
    <ipAddress>192.0.2.82</ipAddress>
    <thread dsq:id="88002" />
  </post>
  <post dsq:id="99004">
    <id />
    <message><![CDATA[<p>Wo ist der Beitrag hin?</p>]]></message>
    <createdAt>2025-01-11T10:00:00Z</createdAt>
    <isDeleted>false</isDeleted>
    <isSpam>false</isSpam>
    <author><email>dora@example.org</email><name>Dora</name><isAnonymous>true</isAnonymous></author>
    <ipAddress>192.0.2.83</ipAddress>
    <thread dsq:id="88003" />
  </post>
</disqus>
"""


def test_without_a_wordpress_import_links_to_our_own_posts_match(app, runner, make, tmp_path, search):
    """A blog that ran on Dialog with Disqus: the thread links are our own /posts/<slug> addresses."""
    app.config["SITE_URL"] = "https://blog.example.de"
    fiber = make.post("Glasfaser für alle")
    prices = make.post("Neue Tarife ab Juli")
    path = tmp_path / "disqus.xml"
    path.write_text(OWN_POSTS, encoding="utf-8")
    result = disqus_import(runner, path=path)
    assert result.exit_code == 0, result.output
    assert lines(result, "skipped: thread") == [
        "skipped: thread 88003: no post matches its link or identifier: https://blog.example.de/posts/gibt-es-nicht-mehr/"]
    rows = db.session.execute(select(ImportedItem.source_id, Comment.post_id, Comment.parent_id, Comment.id)
                              .join(Comment, Comment.id == ImportedItem.target_id)
                              .where(ImportedItem.origin == "disqus:sternwelle-blog")).all()
    by_source = {r.source_id: r for r in rows}
    assert set(by_source) == {"99001", "99002", "99003"}
    assert by_source["99001"].post_id == by_source["99002"].post_id == fiber.id
    assert by_source["99002"].parent_id == by_source["99001"].id
    assert by_source["99003"].post_id == prices.id
