"""`flask import wordpress|disqus` on bad input: a file that cannot be imported is refused with one
clear line and nothing written; a bad item is named by its source id and the rest comes in;
scripts and event handlers never survive; a second run changes nothing."""
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.imports import threads, wordpress
from app.models import (
    Category,
    Comment,
    ImportedItem,
    ModerationEvent,
    Page,
    Post,
    PostStatus,
    Redirect,
    Tag,
    User,
    post_tags,
)

DATA = Path(__file__).parent / "data" / "imports"
FIXTURE = DATA / "wordpress-small.xml"
DISQUS = DATA / "disqus-small.xml"
TABLES = (Post, Page, Comment, ModerationEvent, User, Category, Tag, Redirect, ImportedItem)

JANA = ("<wp:author><wp:author_id>2</wp:author_id><wp:author_login><![CDATA[jana]]></wp:author_login>"
        "<wp:author_email><![CDATA[jana@alt.example.de]]></wp:author_email>"
        "<wp:author_display_name><![CDATA[Jana Körting]]></wp:author_display_name></wp:author>")


def wxr(items: str, *, dtd: str = "", authors: str = JANA, categories: str = "") -> str:
    """A small WXR 1.2 file as WordPress writes it, around the given <item>s."""
    return f"""<?xml version="1.0" encoding="UTF-8" ?>
{dtd}<rss version="2.0"
	xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/"
	xmlns:content="http://purl.org/rss/1.0/modules/content/"
	xmlns:dc="http://purl.org/dc/elements/1.1/"
	xmlns:wp="http://wordpress.org/export/1.2/">
<channel>
	<title>Netzwerk-Blog</title>
	<link>https://alt.example.de</link>
	<language>de-DE</language>
	<wp:wxr_version>1.2</wp:wxr_version>
	<wp:base_site_url>https://alt.example.de</wp:base_site_url>
	<wp:base_blog_url>https://alt.example.de</wp:base_blog_url>
	{authors}
	{categories}
	{items}
</channel>
</rss>
"""


def wp_post(post_id, title: str, content: str = "Ein kurzer Text.", *, comments: str = "", terms: str = "",
            creator: str = "jana", slug: str | None = None) -> str:
    id_tag = f"<wp:post_id>{post_id}</wp:post_id>" if post_id is not None else ""
    return f"""<item>
		<title><![CDATA[{title}]]></title>
		<link>https://alt.example.de/?p={post_id}</link>
		<dc:creator><![CDATA[{creator}]]></dc:creator>
		<content:encoded><![CDATA[{content}]]></content:encoded>
		<excerpt:encoded><![CDATA[]]></excerpt:encoded>
		{id_tag}
		<wp:post_date><![CDATA[2024-02-01 10:00:00]]></wp:post_date>
		<wp:post_date_gmt><![CDATA[2024-02-01 09:00:00]]></wp:post_date_gmt>
		<wp:comment_status><![CDATA[open]]></wp:comment_status>
		<wp:post_name><![CDATA[{slug if slug is not None else f"beitrag-{post_id}"}]]></wp:post_name>
		<wp:status><![CDATA[publish]]></wp:status>
		<wp:post_type><![CDATA[post]]></wp:post_type>
		{terms}{comments}
	</item>"""


def wp_comment(comment_id, text: str, *, parent="0", date_gmt: str = "2024-02-02 09:00:00") -> str:
    return f"""<wp:comment>
			<wp:comment_id>{comment_id}</wp:comment_id>
			<wp:comment_author><![CDATA[Leser {comment_id}]]></wp:comment_author>
			<wp:comment_author_email><![CDATA[leser{comment_id}@example.org]]></wp:comment_author_email>
			<wp:comment_author_IP><![CDATA[192.0.2.{comment_id}]]></wp:comment_author_IP>
			<wp:comment_date><![CDATA[2024-02-02 10:00:00]]></wp:comment_date>
			<wp:comment_date_gmt><![CDATA[{date_gmt}]]></wp:comment_date_gmt>
			<wp:comment_content><![CDATA[{text}]]></wp:comment_content>
			<wp:comment_approved><![CDATA[1]]></wp:comment_approved>
			<wp:comment_type><![CDATA[comment]]></wp:comment_type>
			<wp:comment_parent>{parent}</wp:comment_parent>
		</wp:comment>"""


def written(tmp_path, content: str | bytes, name: str = "export.xml") -> Path:
    path = tmp_path / name
    (path.write_bytes if isinstance(content, bytes) else path.write_text)(content)
    return path


def wordpress_import(runner, path, *options):
    return runner.invoke(args=["import", "wordpress", str(path), *options])


def snapshot() -> dict[str, int]:
    """Rows per table. Uncommitted rows are dropped first, as the end of the command's process would."""
    db.session.rollback()
    return {model.__name__: db.session.scalar(select(func.count()).select_from(model)) for model in TABLES}


def assert_no_crash(result) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output, result.output


def assert_refused(result, *phrases: str) -> None:
    """Refused with one line that says why: exit code not 0, no traceback."""
    assert_no_crash(result)
    assert result.exit_code != 0, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.output
    for phrase in phrases:
        assert phrase in errors[0], errors[0]


def lines(result, prefix: str) -> list[str]:
    return [line.strip() for line in result.output.splitlines() if line.strip().startswith(prefix)]


def post(slug: str) -> Post | None:
    return db.session.scalar(select(Post).where(Post.slug == slug))


def imported(kind: str, source_id: str) -> ImportedItem | None:
    return db.session.scalar(select(ImportedItem).where(ImportedItem.kind == kind,
                                                        ImportedItem.source_id == source_id))


def comment_of(source_id: str) -> Comment:
    entry = imported("comment", source_id)
    assert entry is not None, f"comment {source_id} was not imported"
    return db.session.get(Comment, entry.target_id)


# --- files that cannot be imported ------------------------------------------------------------

def fixture_bytes() -> bytes:
    return FIXTURE.read_bytes()


def cut_before(marker: bytes, extra: int = 0):
    return lambda: fixture_bytes()[:fixture_bytes().index(marker) + extra]


BOMB = ('<!DOCTYPE rss [\n <!ENTITY lol "lol">\n <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">\n'
        ' <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">\n'
        ' <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">\n]>\n')
EXTERNAL = '<!DOCTYPE rss [\n <!ENTITY x SYSTEM "file:///etc/passwd">\n]>\n'
PARAMETER = '<!DOCTYPE rss [\n <!ENTITY % x SYSTEM "file:///etc/passwd">\n %x;\n]>\n'
# File-level refusals happen before the database is touched: `embedded` runs them on SQLite in both
# passes (a fresh PostgreSQL database per test would only cost time).
UNREADABLE = [
    pytest.param("wordpress", lambda: bytes(range(256)) * 8, ["not well-formed XML", "nothing imported"], id="binary"),
    pytest.param("wordpress", lambda: b"<!DOCTYPE html>\n<html lang=\"de\"><head><meta charset=\"utf-8\">"
                 b"<title>Netzwerk-Blog</title></head><body><p>Willkommen<br></p></body></html>\n",
                 ["not a WordPress export", "<html>"], id="html"),
    pytest.param("wordpress", lambda: DISQUS.read_bytes(), ["not a WordPress export", "import disqus"],
                 id="disqus-file-to-wordpress"),
    pytest.param("disqus", fixture_bytes, ["not a Disqus export", "import wordpress"], id="wxr-to-disqus"),
    pytest.param("wordpress", lambda: b'<?xml version="1.0"?>\n<rss version="2.0"><channel><title>Netzwerk-Blog'
                 b"</title><item><title>Der neue Router ist da</title></item></channel></rss>\n",
                 ["wp: namespace is missing"], id="rss-feed-not-an-export"),
    pytest.param("wordpress", cut_before(b"<wp:comment_id>104"), ["truncated", "nothing imported"],
                 id="truncated-between-tags"),
    pytest.param("wordpress", cut_before(b"<wp:post_id>15", 5), ["truncated", "nothing imported"],
                 id="truncated-in-a-tag"),
    pytest.param("wordpress", cut_before(b"Muss ich den alten", 10), ["truncated", "nothing imported"],
                 id="truncated-in-cdata"),
    pytest.param("wordpress", cut_before("Körting".encode(), 2), ["truncated", "nothing imported"],
                 id="truncated-in-a-character"),
    pytest.param("disqus", lambda: DISQUS.read_bytes()[:DISQUS.read_bytes().index(b'<post dsq:id="6015550030"')],
                 ["truncated", "nothing imported"], id="disqus-truncated"),
    pytest.param("wordpress", lambda: fixture_bytes().replace(b"/export/1.2/", b"/export/9.9/")
                 .replace(b"<wp:wxr_version>1.2<", b"<wp:wxr_version>9.9<"), ["WXR version 9.9", "1.0, 1.1, 1.2"],
                 id="wxr-9.9"),
    pytest.param("wordpress", lambda: wxr(wp_post(12, "Titel &lol3;"), dtd=BOMB).encode(), ["entities", "refused"],
                 id="billion-laughs"),
    pytest.param("disqus", lambda: DISQUS.read_bytes().replace(b"<disqus ", BOMB.replace("rss", "disqus").encode()
                                                                + b"<disqus ", 1).replace(b"<title>Kontakt",
                                                                                          b"<title>&lol3;"),
                 ["entities", "refused"], id="disqus-billion-laughs"),
    pytest.param("wordpress", lambda: wxr(wp_post(12, "Titel &x;"), dtd=EXTERNAL).encode(), ["entities", "refused"],
                 id="external-entity"),
    pytest.param("wordpress", lambda: wxr(wp_post(12, "Titel"), dtd=PARAMETER).encode(), ["entities", "refused"],
                 id="external-parameter-entity"),
    pytest.param("disqus", lambda: DISQUS.read_bytes().replace(b"<disqus ", EXTERNAL.replace("rss", "disqus").encode()
                                                                + b"<disqus ", 1).replace(b"<title>Kontakt",
                                                                                          b"<title>&x;"),
                 ["entities", "refused"], id="disqus-external-entity"),
]


@pytest.mark.embedded
@pytest.mark.parametrize("command, content, phrases", UNREADABLE)
def test_a_file_that_is_no_importable_export_is_refused_and_nothing_written(runner, make, tmp_path, command,
                                                                            content, phrases):
    """Whatever is wrong with the file, the check runs before the first write: no author, category or
    redirect of a half-read export stays behind."""
    make.post("Schon da")  # a blog that is not empty: its rows must stay as they are
    before = snapshot()
    path = written(tmp_path, content())
    result = runner.invoke(args=["import", command, str(path)])
    assert_refused(result, str(path), *phrases)
    assert snapshot() == before


@pytest.mark.embedded
@pytest.mark.parametrize("content", [b"", b"  \n\n"], ids=["empty", "whitespace"])
def test_an_empty_file_is_refused(runner, tmp_path, content):
    before = snapshot()
    result = wordpress_import(runner, written(tmp_path, content))
    assert_refused(result)
    assert snapshot() == before


@pytest.mark.embedded
@pytest.mark.parametrize("command", ["wordpress", "disqus"])
def test_an_empty_file_is_called_empty_not_truncated(runner, tmp_path, command):
    result = runner.invoke(args=["import", command, str(written(tmp_path, b""))])
    assert_refused(result, "empty")
    assert "truncated" not in result.output


def first_line_of_passwd() -> str:
    try:
        return Path("/etc/passwd").read_text().splitlines()[0]
    except (OSError, IndexError):
        return "root:x:0:0:"


def database_text() -> str:
    """Every value of every table, as one string."""
    db.session.rollback()
    values = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(table.select()):
            values += [str(value) for value in row]
    return "\n".join(values)


@pytest.mark.embedded
@pytest.mark.parametrize("dtd, title", [(EXTERNAL, "Titel &x;"), (PARAMETER, "Titel"),
                                        ('<!DOCTYPE rss SYSTEM "file:///etc/passwd">\n', "Titel")],
                         ids=["entity", "parameter-entity", "external-dtd"])
def test_no_external_file_is_read_into_the_database(runner, tmp_path, dtd, title):
    """An external DTD without entities may be imported; what it points at is never fetched."""
    content = wp_comment(1, "Siehe &x;") if "&x;" in title else ""
    result = wordpress_import(runner, written(tmp_path, wxr(wp_post(12, title, "Text &x;" if content else "Text",
                                                                     comments=content), dtd=dtd)))
    assert_no_crash(result)
    assert first_line_of_passwd() not in database_text()


# --- --map-author and other options -------------------------------------------------------------

@pytest.mark.parametrize("login", ["jana", "support-team"])  # the first author of the export, and the second
def test_map_author_to_a_user_that_does_not_exist_writes_nothing(runner, login):
    before = snapshot()
    result = wordpress_import(runner, FIXTURE, "--map-author", f"{login}=nobody")
    assert_refused(result, f"--map-author {login}=nobody", "there is no user 'nobody'")
    assert snapshot() == before


def test_map_author_for_a_creator_outside_the_author_list_writes_nothing(runner, tmp_path):
    """WXR 1.0 has no author list: a post's dc:creator is all there is."""
    terms = '<category domain="category" nicename="technik"><![CDATA[Technik]]></category>'
    path = written(tmp_path, wxr(wp_post(30, "Neue Glasfaser-Tarife", creator="hans", terms=terms)
                                 + wp_post(31, "Wartung am Dienstag", creator="grete", terms=terms), authors=""))
    before = snapshot()
    result = wordpress_import(runner, path, "--map-author", "hans=nobody")
    assert_refused(result, "there is no user 'nobody'")
    assert snapshot() == before


@pytest.mark.embedded
@pytest.mark.parametrize("value", ["jana", "=jana.berger", "jana=", "jana=  ", "="])
def test_a_malformed_map_author_is_a_usage_error(runner, value):
    before = snapshot()
    result = wordpress_import(runner, FIXTURE, "--map-author", value)
    assert_refused(result, "--map-author", "is not OLD=NEW")
    assert result.exit_code == 2
    assert snapshot() == before


def test_map_author_to_an_existing_user_creates_no_account_for_the_old_login(runner, make):
    """The counterpart of the errors above: a valid mapping is used, not refused."""
    berger = make.user("jana.berger", display_name="Jana Berger")
    result = wordpress_import(runner, FIXTURE, "--map-author", "jana=jana.berger")
    assert result.exit_code == 0, result.output
    assert post("der-neue-router-ist-da").author_id == berger.id
    assert db.session.scalar(select(User).where(User.email == "jana@alt.example.de")) is None


@pytest.mark.embedded
def test_an_unknown_time_zone_is_a_usage_error(runner):
    before = snapshot()
    result = wordpress_import(runner, FIXTURE, "--timezone", "Europa/Köln")
    assert_refused(result, "--timezone", "is not a time zone")
    assert snapshot() == before


# --- bad items: named by their id, the rest imported -------------------------------------------

def test_problems_of_single_items_are_named_by_their_id_and_the_rest_imported(runner):
    """The fixture's post 18 has no title, an impossible date and post 12's slug; comment 108 answers
    comment 999, which the export does not have."""
    result = wordpress_import(runner, FIXTURE)
    assert result.exit_code == 0, result.output
    assert_no_crash(result)
    notes = lines(result, "note:")
    assert "note: post 18: the address 'der-neue-router-ist-da' is taken: now 'der-neue-router-ist-da-2'" in notes
    assert "note: post 18: invalid date '2023-13-45 99:00:00': imported as a draft" in notes
    assert any(n.startswith("note: post 18: no title: now 'Kurze Notiz ohne Titel") for n in notes), notes
    assert "note: comment 108: its parent 999 is not in the export: now a top-level comment" in notes

    untitled = db.session.get(Post, imported("post", "18").target_id)
    assert untitled.slug == "der-neue-router-ist-da-2" and untitled.status == PostStatus.DRAFT
    assert untitled.published_at is None and untitled.title.startswith("Kurze Notiz ohne Titel")
    assert post("der-neue-router-ist-da").title == "Der neue Router ist da"  # the first keeps its address
    assert post("stoerung-in-koeln-behoben").status == PostStatus.PUBLISHED
    orphan = comment_of("108")
    assert (orphan.parent_id, orphan.root_id, orphan.depth) == (None, orphan.id, 0)
    assert orphan.post_id == post("der-neue-router-ist-da").id
    assert comment_of("104").parent_id == comment_of("103").id  # the other threads are intact


def test_a_post_without_title_and_text_gets_a_title_naming_its_id(runner, tmp_path):
    result = wordpress_import(runner, written(tmp_path, wxr(wp_post(40, "", "") + wp_post(41, "   ", "Nur Text."))))
    assert result.exit_code == 0, result.output
    assert "note: post 40: no title: now 'Ohne Titel (40)'" in lines(result, "note:")
    assert db.session.get(Post, imported("post", "40").target_id).title == "Ohne Titel (40)"
    assert db.session.get(Post, imported("post", "41").target_id).title == "Nur Text. …"


def test_a_comment_with_an_impossible_date_is_dated_like_its_post(runner, tmp_path):
    result = wordpress_import(runner, written(tmp_path, wxr(wp_post(12, "Router", comments=wp_comment(
        7, "Wann kommt der Techniker?", date_gmt="2023-02-30 25:61:00").replace("2024-02-02 10:00:00", "gestern")))))
    assert result.exit_code == 0, result.output
    assert "note: comment 7: invalid date '2023-02-30 25:61:00': dated like its post" in lines(result, "note:")
    assert comment_of("7").created_at == post("beitrag-12").published_at


def test_items_without_an_id_do_not_overwrite_each_other(runner, tmp_path):
    path = written(tmp_path, wxr(wp_post(None, "Erster ohne Nummer", slug="erster")
                                 + wp_post(None, "Zweiter ohne Nummer", slug="zweiter")))
    result = wordpress_import(runner, path)
    assert_no_crash(result)
    assert "1 updated" not in result.output
    titles = set(db.session.scalars(select(Post.title)))
    assert "Erster ohne Nummer" in titles or re.search(r"(skipped|failed): post \?", result.output), result.output


# --- scripts and event handlers ------------------------------------------------------------------

PAYLOAD = """<p>Unser neuer Router im Test.</p>
<script>alert("router")</script>
<img src="https://alt.example.de/wp-content/uploads/router.png" alt="Router" onerror="alert('img')">
<a href="javascript:alert('link')">Zum Angebot</a> <a href=" JaVaScRiPt:alert(2)">Zweiter Link</a>
<iframe src="https://evil.example/"></iframe>
<svg onload="alert('svg')"><circle r="4"/></svg>
<style>body { display: none }</style>
<p onclick="steal()" style="background:url(javascript:alert(3))">Text mit Handler</p>
<img src=javascript:alert(4)>"""


class _Tags(HTMLParser):
    """Every tag and attribute of a fragment."""

    def __init__(self, fragment: str):
        super().__init__()
        self.tags, self.attributes = [], []
        self.feed(fragment)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes += [(name, (value or "").strip().lower()) for name, value in attrs]


def assert_harmless(fragment: str, *, text_may_say_javascript: bool = False) -> None:
    """No script, frame, style or SVG element, no event handler, no javascript: address. As visible text
    (escaped) "javascript:" is harmless: a comment shows an image it may not have as its Markdown."""
    tags = " ".join(re.findall(r"<[^>]*>", fragment)).lower()
    for needle in ("script", "onerror", "onload", "onclick", "javascript:", "iframe", "style", "svg"):
        assert needle not in tags, (needle, fragment)
    for needle in ("<script", "<iframe", "<style", "<svg", "onerror=", "onload=", "onclick="):
        assert needle not in fragment.lower(), (needle, fragment)
    if not text_may_say_javascript:
        assert "script" not in fragment.lower(), fragment
    parsed = _Tags(fragment)
    assert not {"script", "iframe", "svg", "style", "object", "embed"} & set(parsed.tags), fragment
    for name, value in parsed.attributes:
        assert not name.startswith("on") and name != "style", (name, fragment)
        assert "javascript:" not in value, (name, value, fragment)


def test_scripts_and_event_handlers_never_survive_in_posts_or_comments(runner, client, tmp_path):
    path = written(tmp_path, wxr(wp_post(12, '<script>alert("titel")</script> Router im Test', PAYLOAD,
                                         comments=wp_comment(1, PAYLOAD) + wp_comment(2, "Frage dazu?", parent="1"))))
    result = wordpress_import(runner, path)
    assert result.exit_code == 0, result.output
    posts = db.session.scalars(select(Post)).all()
    comments = db.session.scalars(select(Comment).order_by(Comment.id)).all()
    assert len(posts) == 1 and len(comments) == 2
    assert "Unser neuer Router im Test." in posts[0].body_html and "Zum Angebot" in posts[0].body_html
    assert "Unser neuer Router im Test." in comments[0].body_html
    assert_harmless(posts[0].body_html)
    for comment in comments:
        assert_harmless(comment.body_html, text_may_say_javascript=True)
    page = client.get(f"/posts/{posts[0].slug}").get_data(as_text=True)
    assert '<script>alert("titel")' not in page and "alert('img')" not in page and "steal()" not in page


# --- threads that are not trees, texts that are too long ------------------------------------------

def ancestors(comment: Comment) -> list[int]:
    seen = []
    while comment.parent_id is not None:
        assert comment.parent_id not in seen and comment.parent_id != comment.id, "a loop was stored"
        seen.append(comment.parent_id)
        comment = db.session.get(Comment, comment.parent_id)
    return seen


def test_a_loop_of_parents_and_a_comment_answering_itself_become_top_level_with_a_note(runner, tmp_path):
    comments = (wp_comment(1, "A antwortet B", parent="2") + wp_comment(2, "B antwortet A", parent="1")
                + wp_comment(3, "Ich antworte mir selbst", parent="3") + wp_comment(4, "Antwort auf 3", parent="3"))
    result = wordpress_import(runner, written(tmp_path, wxr(wp_post(12, "Router", comments=comments))))
    assert result.exit_code == 0, result.output
    notes = lines(result, "note:")
    loop_notes = [n for n in notes if "loop" in n]
    assert len(loop_notes) == 1 and re.match(r"note: comment [12]: ", loop_notes[0]), notes
    cut = loop_notes[0].split()[2].rstrip(":")
    other = "2" if cut == "1" else "1"
    assert any(n.startswith("note: comment 3: ") and "top-level" in n for n in notes), notes

    assert comment_of(cut).parent_id is None and comment_of(other).parent_id == comment_of(cut).id
    assert comment_of("3").parent_id is None and comment_of("4").parent_id == comment_of("3").id
    for source_id in "1234":
        comment = comment_of(source_id)
        chain = ancestors(comment)
        assert comment.depth == len(chain)
        assert comment.root_id == (chain[-1] if chain else comment.id)


def test_a_comment_over_twenty_thousand_characters_is_skipped_by_id_or_stored(runner, tmp_path):
    long = "Seit dem Umstieg auf Glasfaser bricht das WLAN abends ständig ab. " * 400  # ~26,000 characters
    comments = wp_comment(5, long) + wp_comment(6, "Bei mir auch!", parent="5") + wp_comment(7, "Kurz und gut.")
    result = wordpress_import(runner, written(tmp_path, wxr(wp_post(12, "WLAN-Probleme", comments=comments))))
    assert_no_crash(result)
    assert result.exit_code == 0, result.output
    entry = imported("comment", "5")
    if entry is None:
        assert any(s.startswith("skipped: comment 5: ") for s in lines(result, "skipped:")), result.output
    else:
        assert db.session.get(Comment, entry.target_id).body_md.count("Glasfaser") == 400
    assert comment_of("7").body_md == "Kurz und gut."
    reply = comment_of("6")  # its parent skipped or not, the reply is there and in a sound thread
    assert reply.depth == len(ancestors(reply))


# --- a database error in one post ----------------------------------------------------------------

def fail_comments_of(monkeypatch, title: str) -> None:
    """The INSERT of the moderation events of `title`'s comments fails (after the comments went in)."""
    real = threads.admit_imported

    def admit_imported(rows, states, *, origin):
        ids = real(rows, states, origin=origin)
        if db.session.get(Post, rows[0]["post_id"]).title == title:
            raise IntegrityError("INSERT INTO moderation_events (comment_id, actor_id, action) VALUES (?, ?, ?)",
                                 {}, Exception("UNIQUE constraint failed: moderation_events.id"))
        return ids

    monkeypatch.setattr(threads, "admit_imported", admit_imported)


def test_a_database_error_fails_only_its_post_and_leaves_no_part_of_it(runner, monkeypatch):
    fail_comments_of(monkeypatch, "Störung in Köln behoben")
    result = wordpress_import(runner, FIXTURE)
    assert_no_crash(result)
    assert result.exit_code == 1
    assert lines(result, "failed:") == [
        "failed: post 15: 'Störung in Köln behoben': UNIQUE constraint failed: moderation_events.id"]
    assert post("stoerung-in-koeln-behoben") is None
    assert imported("post", "15") is None and imported("comment", "110") is None
    assert db.session.scalar(select(func.count()).select_from(Comment).where(Comment.author_name == "Ömer")) == 0
    assert db.session.scalar(select(func.count()).select_from(Redirect)
                             .where(Redirect.new_path == "/posts/stoerung-in-koeln-behoben")) == 0
    router = post("der-neue-router-ist-da")  # before and after it, everything came in
    assert db.session.scalar(select(func.count()).select_from(Comment).where(Comment.post_id == router.id)) == 7
    assert imported("post", "18") is not None and imported("page", "2") is not None

    monkeypatch.undo()
    again = wordpress_import(runner, FIXTURE)
    assert again.exit_code == 0, again.output
    assert post("stoerung-in-koeln-behoben") is not None and comment_of("110").author_name == "Ömer"


def test_the_summary_counts_only_what_was_written(runner, monkeypatch):
    fail_comments_of(monkeypatch, "Störung in Köln behoben")
    result = wordpress_import(runner, FIXTURE)
    assert db.session.scalar(select(func.count()).select_from(Post)) == 4
    assert "post: 4 created, 0 updated, 0 unchanged" in result.output, result.output


def test_a_failed_post_does_not_let_a_later_duplicate_take_an_earlier_posts_address(runner, monkeypatch):
    fail_comments_of(monkeypatch, "Störung in Köln behoben")
    wordpress_import(runner, FIXTURE)
    assert db.session.scalar(select(Redirect.new_path).where(Redirect.old_path == "/der-neue-router-ist-da")) \
        == "/posts/der-neue-router-ist-da"


@pytest.mark.parametrize("creator, terms", [
    ("hans", ""),
    ("jana", '<category domain="category" nicename="netz"><![CDATA[Netz]]></category>'),
    ("jana", '<category domain="post_tag" nicename="glasfaser"><![CDATA[Glasfaser]]></category>'),
], ids=["author-outside-the-list", "category-outside-the-list", "tag-outside-the-list"])
def test_what_a_failed_post_created_is_created_again_for_the_next(runner, monkeypatch, tmp_path, creator, terms):
    real = wordpress.editing.record_revision

    def record_revision(post, *args, **kwargs):
        if post.title == "Neue Tarife":
            raise IntegrityError("INSERT INTO post_revisions (post_id, title) VALUES (?, ?)", {},
                                 Exception("UNIQUE constraint failed: post_revisions.id"))
        return real(post, *args, **kwargs)

    monkeypatch.setattr(wordpress.editing, "record_revision", record_revision)
    path = written(tmp_path, wxr(wp_post(30, "Neue Tarife", creator=creator, terms=terms)
                                 + wp_post(31, "Wartung am Dienstag", creator=creator, terms=terms)))
    result = wordpress_import(runner, path)
    assert [line.split(":")[1].strip() for line in lines(result, "failed:")] == ["post 30"], result.output
    maintenance = post("beitrag-31")
    assert maintenance is not None
    assert db.session.get(User, maintenance.author_id).username == creator
    if "netz" in terms:
        assert db.session.get(Category, maintenance.category_id).slug == "netz"
    if "glasfaser" in terms:
        tags = db.session.scalars(select(Tag.slug).join(post_tags, post_tags.c.tag_id == Tag.id)
                                  .where(post_tags.c.post_id == maintenance.id))
        assert list(tags) == ["glasfaser"]


# --- the same export twice ---------------------------------------------------------------------------

def test_importing_the_same_export_twice_creates_nothing_the_second_time(runner):
    first = wordpress_import(runner, FIXTURE)
    assert first.exit_code == 0, first.output
    before = snapshot()
    assert before["Post"] == 5 and before["Comment"] == 8 and before["Redirect"] > 0

    second = wordpress_import(runner, FIXTURE)
    assert second.exit_code == 0, second.output
    assert snapshot() == before
    summary = second.output
    assert "post: 0 created, 0 updated, 5 unchanged" in summary
    assert "comment: 0 created, 0 updated, 8 unchanged" in summary
    assert "page: 0 created, 0 updated, 1 unchanged" in summary
    assert not re.search(r"\b[1-9]\d* (created|updated)", summary), summary


def test_importing_the_same_export_twice_leaves_the_old_addresses_alone(runner):
    wordpress_import(runner, FIXTURE)
    before = set(db.session.execute(select(Redirect.old_path, Redirect.new_path)).all())
    wordpress_import(runner, FIXTURE)
    db.session.expire_all()
    assert set(db.session.execute(select(Redirect.old_path, Redirect.new_path)).all()) == before
