"""Full-text search (issue 5): analyzers, what readers may find, index updates, failures, bad input.

The tests run on the configured backend: Whoosh on SQLite, PostgreSQL search in the PostgreSQL
pass (`tests/databases.settings`). Tests of Whoosh internals (analyzers, pickles, files, its write
lock) use `whoosh_app`, so they run in both passes; what only PostgreSQL search has is in
test_search_postgresql.py.
"""
import ast
import multiprocessing
import pickle
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, text

from app.config import PROJECT_ROOT
from app.content.publishing import apply_post_body
from app.extensions import db
from app.models import Comment, CommentStatus, PostStatus, ResponseStatus, utcnow
from app.search import documents, index
from app.search.whoosh import opening
from app.search.whoosh.schema import reader_schema
from tests.comment_helpers import add_comment
from tests.conftest import make_settings


@pytest.fixture
def search_app(app):
    """The app with the search blueprint (registered here until create_app does it)."""
    if "search" not in app.blueprints:
        from app.search.routes import bp

        app.register_blueprint(bp)
    app.config["SEARCH_REBUILD_PROCESSES"] = 1  # tiny indexes: forking writer processes costs more than it saves
    yield app
    index.close()
    if app.config["SEARCH_BACKEND"] == "postgresql":
        remove_index(app)  # each app has a schema of its own: leave none behind


@pytest.fixture
def whoosh_app(search_app):
    """For tests of Whoosh's own files and locks: Whoosh whatever the database."""
    search_app.config["SEARCH_BACKEND"] = "whoosh"
    return search_app


def remove_index(app) -> None:
    """The index gone as if never built: Whoosh's directory, or PostgreSQL search's schema."""
    if app.config["SEARCH_BACKEND"] == "postgresql":
        from app.search.postgresql.schema import schema_name

        db.session.rollback()
        with db.engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema_name()}" CASCADE'))
    else:
        shutil.rmtree(index.location())


@pytest.fixture
def client(search_app):
    return search_app.test_client()


def found(q, **kw):
    """(kind, id) of every hit on the first page."""
    results = index.search(q, **kw)
    assert results.state == "ok", results
    return {(hit.kind, hit.id) for hit in results.hits}


# --- analyzers -------------------------------------------------------------------------------

def terms(lang, text):
    return [t.text for t in index.ANALYZERS[lang](text)]


@pytest.mark.parametrize("a, b", [
    ("Kommentar", "Kommentare"), ("Datenschutz", "Datenschutzes"), ("Störung", "Störungen"),
    ("Stoerung", "Störung"), ("STOERUNGEN", "störung"), ("Strasse", "Straße"), ("Gruesse", "Grüße"),
    ("Anschlüsse", "Anschluesse"),
])
def test_german_analyzer_stems_and_folds_umlauts(a, b):
    assert terms("de", a) == terms("de", b) != []


@pytest.mark.parametrize("a, b", [("router", "routers"), ("outage", "outages"), ("report", "reporting"),
                                  ("restart", "restarted")])
def test_english_analyzer_stems(a, b):
    assert terms("en", a) == terms("en", b) != []


def test_stop_words_are_dropped_with_and_without_umlauts():
    assert terms("de", "für über fuer ueber die und") == []
    assert terms("en", "the and of") == []


WHOOSH_BACKEND = PROJECT_ROOT / "app/search/whoosh"


def _imports_whoosh(path: Path) -> bool:
    """True if the module imports the `whoosh` library itself (not our `app.search.whoosh` package)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
            [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else []
        if any(name == "whoosh" or name.startswith("whoosh.") for name in names):
            return True
    return False


FULL_TEXT_SQL = ("to_tsvector", "tsquery", "ts_headline", "ts_rank", "tsvector", "similarity(", "pg_trgm")
POSTGRESQL_BACKEND = PROJECT_ROOT / "app/search/postgresql"


def test_only_the_postgresql_backend_writes_full_text_sql():
    offenders = [str(path.relative_to(PROJECT_ROOT)) for path in [*(PROJECT_ROOT / "app").rglob("*.py"),
                                                                    *(PROJECT_ROOT / "bench").rglob("*.py")]
                 if POSTGRESQL_BACKEND not in path.parents
                 and any(word in path.read_text(encoding="utf-8") for word in FULL_TEXT_SQL)]
    assert offenders == []
    assert "ts_headline" in (POSTGRESQL_BACKEND / "snippets.py").read_text(encoding="utf-8")  # the check sees it
    assert not _imports_whoosh(POSTGRESQL_BACKEND / "searching.py")
    assert not any(_imports_whoosh(path) for path in POSTGRESQL_BACKEND.rglob("*.py"))


def test_only_the_whoosh_backend_imports_whoosh():
    offenders = [str(path.relative_to(PROJECT_ROOT)) for path in [*(PROJECT_ROOT / "app").rglob("*.py"),
                                                                    *(PROJECT_ROOT / "bench").rglob("*.py")]
                 if _imports_whoosh(path) and WHOOSH_BACKEND not in path.parents]
    assert offenders == []
    assert _imports_whoosh(WHOOSH_BACKEND / "analysis.py")  # the check itself sees an import
    assert not _imports_whoosh(PROJECT_ROOT / "app/search/index.py")  # the facade reaches Whoosh only through it


def test_an_index_written_before_the_split_still_opens():
    """Index files hold the analyzers pickled by class path; the old path must still resolve."""
    old = pickle.dumps(reader_schema(), protocol=2).replace(b"app.search.whoosh.analysis", b"app.search.index")
    assert b"app.search.index\nFoldFilter" in old
    loaded = pickle.loads(old)
    assert [t.text for t in loaded["all_de"].analyzer("Störungen")] == terms("de", "Störung")


# --- finding what readers may see --------------------------------------------------------------

@pytest.fixture
def corpus(search_app, make):
    """A few posts and comments in German and English, indexed."""
    cat = make.category("Kundenservice")
    other = make.category("Netz & Technik", position=1)
    de = make.post("Störungen im Netz", body="Hier sammeln wir Kommentare zum Schutz des Datenschutzes. "
                   "Die Straße wird aufgerissen.", category=cat, tags=["Glasfaser"], days_ago=3)
    en = make.post("How we report outages", body="Our routers were restarted after the outages.", lang="en",
                   category=other, days_ago=2)
    question = add_comment(de, body="Wann ist die Störung in Kleinwellingen behoben?", name="Petra",
                           response_status=ResponseStatus.ANSWERED, answered_at=utcnow())
    answer = add_comment(de, parent=question, body="Die Störung ist seit heute Mittag behoben.",
                         name="Sternwelle-Team", is_official=True)
    index.rebuild()
    return {"de": de, "en": en, "question": question, "answer": answer, "category": cat, "other": other}


def test_german_queries_find_inflected_and_respelled_words(corpus):
    for q in ["Kommentar", "Datenschutz", "Störung", "Stoerung", "STÖRUNGEN", "Strasse", "glasfaser",
              "kundenservice"]:
        assert ("post", corpus["de"].id) in found(q), q


def test_english_queries_find_english_posts(corpus):
    for q in ["outage", "router restart", "reporting"]:
        assert ("post", corpus["en"].id) in found(q, lang="en"), q


def test_comments_and_official_answers_are_found(corpus):
    assert {("comment", corpus["question"].id), ("comment", corpus["answer"].id)} <= found("behoben")
    assert found("behoben", kind="official") == {("comment", corpus["answer"].id)}
    assert found("behoben", kind="posts") == set()
    assert found("Störung", kind="posts") == {("post", corpus["de"].id)}


def test_phrases_need_the_words_together(corpus):
    assert found('"Störung in Kleinwellingen"') == {("comment", corpus["question"].id)}
    assert found('"Kleinwellingen Störung"') == set()


def test_every_word_must_match(corpus):
    assert found("Störung Kleinwellingen") == {("comment", corpus["question"].id)}
    assert found("Störung Atlantis") == set()


def test_category_filter_and_date_order(corpus, make):
    newer = make.post("Noch eine Störung", body="Kurz: Störung vorbei.", category=corpus["other"], days_ago=0)
    index.refresh(posts=[newer.id])
    assert found("Störung", category=corpus["other"].slug) == {("post", newer.id)}
    by_date = index.search("Störung", sort="date")
    dates = [hit.date for hit in by_date.hits]
    assert dates == sorted(dates, reverse=True) and by_date.hits[0].id in (newer.id, corpus["answer"].id)


def test_hits_carry_what_links_need(corpus):
    hits = {(h.kind, h.id): h for h in index.search("behoben").hits}
    answer = hits[("comment", corpus["answer"].id)]
    assert answer.endpoint == "comments.permalink"
    assert answer.url_values == {"slug": corpus["de"].slug, "comment_id": corpus["answer"].id}
    assert answer.is_official and answer.title == "Störungen im Netz"
    post = index.search("Datenschutz").hits[0]
    assert (post.endpoint, post.url_values) == ("blog.post", {"slug": corpus["de"].slug})
    assert "<mark>Datenschutzes</mark>" in post.snippet


def test_snippets_escape_everything_but_the_marks(search_app, make):
    post = make.post("Sicherheit")
    add_comment(post, body='Ist <script>alert("x")</script> im Router gefährlich? & <b>fett</b>')
    index.rebuild()
    snippet = str(index.search("Router").hits[0].snippet)
    assert "<mark>Router</mark>" in snippet
    assert "<script>" not in snippet and "<b>" not in snippet and "&lt;script&gt;" in snippet
    assert snippet.replace("<mark>", "").replace("</mark>", "").count("<") == 0


def test_did_you_mean_suggests_a_word_from_the_index(corpus):
    results = index.search("Stoerumg")
    assert results.total == 0 and results.suggestion == "störung"
    assert index.search("Kleinwelingen").suggestion == "kleinwellingen"
    assert index.search("Störung").suggestion is None
    assert index.search("Qwertzuiop").suggestion is None


def test_pages_and_a_page_beyond_the_end(search_app, make):
    post = make.post("Viele Meinungen")
    for n in range(25):
        add_comment(post, body=f"Meinung Nummer {n} zum Glasfaserausbau", commit=False)
    db.session.commit()
    index.rebuild()
    first = index.search("Glasfaserausbau", per_page=10)
    assert (first.total, first.pages, len(first.hits), first.has_next) == (25, 3, 10, True)
    beyond = index.search("Glasfaserausbau", per_page=10, page=99)
    assert (beyond.page, len(beyond.hits), beyond.first, beyond.last) == (3, 5, 21, 25)
    ids = [h.id for p in (1, 2, 3) for h in index.search("Glasfaserausbau", page=p).hits]
    assert len(set(ids)) == 25


def _stale(comments) -> None:
    """Take comments back in the database without telling the index (as when its update failed)."""
    for comment in comments:
        comment.status = CommentStatus.PENDING
    db.session.commit()


@pytest.fixture
def opinions(search_app, make):
    post = make.post("Viele Meinungen")
    comments = [add_comment(post, body=f"Meinung Nummer {n} zum Glasfaserausbau", minutes_ago=1000 - n, commit=False)
                for n in range(75)]  # newest last
    db.session.commit()
    index.rebuild()
    return comments


def test_hidden_hits_are_left_out_before_counting_so_pages_are_full(opinions):
    """Bug: the total was counted before the visibility check, so a reader's page of 10 showed fewer."""
    _stale(opinions[-5:])  # the five newest: all on the first page by date
    first = index.search("Glasfaserausbau", sort="date", per_page=10)
    assert (first.total, first.pages, len(first.hits)) == (70, 7, 10)
    assert [h.id for h in first.hits] == [c.id for c in reversed(opinions[60:70])]
    pages = [index.search("Glasfaserausbau", sort="date", per_page=10, page=n) for n in range(1, 9)]
    assert [len(p.hits) for p in pages] == [10] * 7 + [10]  # page 8 is answered with the last, full one
    assert [p.total for p in pages] == [70] * 8 and pages[-1].page == 7 and not pages[-1].has_next
    assert {h.id for p in pages[:7] for h in p.hits} == {c.id for c in opinions[:70]}


def test_a_small_result_with_hidden_hits_counts_exactly(search_app, make):
    post = make.post("Wenige Meinungen")
    comments = [add_comment(post, body=f"Ansicht {n} über Funkmasten", minutes_ago=100 - n) for n in range(12)]
    index.rebuild()
    _stale(comments[:3])  # the oldest: on the last page
    first = index.search("Funkmasten", sort="date", per_page=5)
    assert (first.total, first.pages, len(first.hits)) == (9, 2, 5)
    last = index.search("Funkmasten", sort="date", per_page=5, page=2)
    assert len(last.hits) == 4 and {h.id for h in first.hits + last.hits} == {c.id for c in comments[3:]}


def test_many_hidden_hits_are_looked_past(opinions):
    _stale(opinions[20:])  # 55 of 75 hidden, the best ones by date
    results = index.search("Glasfaserausbau", sort="date", per_page=10, page=2)
    assert (results.total, results.page, len(results.hits)) == (20, 2, 10)
    assert {h.id for h in results.hits} == {c.id for c in opinions[:10]}


def test_staff_search_counts_only_comments_that_still_exist(search_app, make):
    post = make.post("Weg damit")
    comments = [add_comment(post, body=f"Löschwort {n}", status=CommentStatus.PENDING, minutes_ago=50 - n)
                for n in range(6)]
    index.rebuild()
    db.session.execute(delete(Comment).where(Comment.id.in_([comments[-1].id, comments[-2].id])))
    db.session.commit()  # gone from the database, still in the index
    results = index.staff_search("Löschwort", per_page=2, sort="date")
    assert (results.total, results.pages, len(results.hits)) == (4, 2, 2)


# --- hidden content is never found ------------------------------------------------------------------

@pytest.fixture
def hidden(search_app, make):
    """One visible post and one of each thing readers may not see, each with its own word."""
    visible = make.post("Offen", body="Sichtbarwort steht hier.")
    make.post("Entwurf", body="Entwurfwort steht hier.", status=PostStatus.DRAFT)
    make.post("Geplant", body="Zukunftwort steht hier.", status=PostStatus.SCHEDULED,
              published_at=datetime.now(UTC) + timedelta(days=2))
    draft = make.post("Entwurf mit Kommentar", body="Nichts.", status=PostStatus.DRAFT)
    add_comment(draft, body="Entwurfkommentarwort unter einem Entwurf.")
    for status in (CommentStatus.PENDING, CommentStatus.SPAM, CommentStatus.REJECTED, CommentStatus.DELETED):
        add_comment(visible, body=f"Versteckt{status}wort", status=status)
    index.rebuild()
    return visible


HIDDEN_WORDS = ["Entwurfwort", "Zukunftwort", "Entwurfkommentarwort", "Verstecktpendingwort", "Verstecktspamwort",
                "Verstecktrejectedwort", "Verstecktdeletedwort", "Entwurf"]


def test_hidden_content_is_never_found(hidden, client):
    assert found("Sichtbarwort") == {("post", hidden.id)}
    for word in HIDDEN_WORDS:
        for kind in ("all", "posts", "comments", "official"):
            results = index.search(word, kind=kind)
            assert (results.total, results.hits, results.suggestion) == (0, [], None), (word, kind)
        page = client.get("/search", query_string={"q": word})
        assert page.status_code == 200 and b'class="search-hit' not in page.data, word


def test_a_scheduled_post_is_found_once_due(hidden):
    assert index.search("Zukunftwort").total == 0
    assert index.search("Zukunftwort", now=datetime.now(UTC) + timedelta(days=3)).total == 1


def test_staff_search_finds_every_comment_readers_do_not(hidden):
    for status in (CommentStatus.PENDING, CommentStatus.SPAM, CommentStatus.REJECTED, CommentStatus.DELETED):
        word = f"Versteckt{status}wort"
        assert index.search(word).total == 0
        assert [hit.status for hit in index.staff_search(word).hits] == [status]
    assert index.staff_search("Verstecktpendingwort", status="spam").total == 0
    assert index.staff_search("Sichtbarwort").total == 0  # posts are not in the staff index


# --- the index follows the database --------------------------------------------------------------------

def test_refresh_follows_approve_edit_delete(search_app, make):
    post = make.post("Fragen")
    comment = add_comment(post, body="Wann kommt das Glasfasernetz?", status=CommentStatus.PENDING)
    index.rebuild()
    assert index.search("Glasfasernetz").total == 0

    comment.status = CommentStatus.APPROVED
    db.session.commit()
    index.refresh(comments=[comment.id])
    assert found("Glasfasernetz") == {("comment", comment.id)}  # at once: read-your-writes

    comment.body_html = "<p>Wann kommt das Kupferkabel?</p>"
    db.session.commit()
    index.refresh(comments=[comment.id])
    assert index.search("Glasfasernetz").total == 0 and index.search("Kupferkabel").total == 1

    comment.status = CommentStatus.DELETED
    db.session.commit()
    index.refresh(comments=[comment.id])
    assert index.search("Kupferkabel").total == 0
    assert index.staff_search("Kupferkabel").hits[0].status == CommentStatus.DELETED


def test_refresh_of_a_post_takes_its_comments_along(search_app, make):
    post = make.post("Bald weg", body="Abschiedswort im Text.")
    comment = add_comment(post, body="Abschiedswort im Kommentar.")
    index.rebuild()
    assert len(found("Abschiedswort")) == 2

    post.status = PostStatus.DRAFT  # unpublished
    db.session.commit()
    index.refresh(posts=[post.id])
    assert index.search("Abschiedswort").total == 0

    post.status = PostStatus.PUBLISHED
    db.session.commit()
    index.refresh(posts=[post.id])
    assert found("Abschiedswort") == {("post", post.id), ("comment", comment.id)}

    db.session.execute(delete(Comment).where(Comment.post_id == post.id))
    db.session.delete(post)
    db.session.commit()
    index.refresh(posts=[post.id])
    assert index.search("Abschiedswort").total == 0 and index.staff_search("Abschiedswort").total == 0


def test_editing_a_post_keeps_its_comments_and_a_new_category_moves_them(search_app, make):
    first, second = make.category("Erste"), make.category("Zweite", position=1)
    post = make.post("Redigiert", body="Tippfehlr im Text.", category=first)
    comment = add_comment(post, body="Ein Kommentar mit Randnotizwort.")
    index.rebuild()

    apply_post_body(post, "Tippfehler behoben.")
    db.session.commit()
    index.refresh(posts=[post.id])
    assert found("Tippfehler") == {("post", post.id)} and index.search("Tippfehlr").total == 0
    assert found("Randnotizwort", category=first.slug) == {("comment", comment.id)}

    post.category = second
    db.session.commit()
    index.refresh(posts=[post.id])
    assert found("Randnotizwort", category=second.slug) == {("comment", comment.id)}
    assert index.search("Randnotizwort", category=first.slug).total == 0


def test_a_stale_index_entry_is_checked_against_the_database(search_app, make):
    post = make.post("Veraltet", body="Altlastwort.")
    index.rebuild()
    post.status = PostStatus.DRAFT
    db.session.commit()  # no refresh: the index still has it, the page must not show it
    assert index.search("Altlastwort").hits == []


def _refresh_in_another_process(settings, ids, barrier, errors):
    from app import create_app

    app = create_app(settings)
    with app.app_context():
        barrier.wait()
        try:
            for cid in ids:
                index.refresh(comments=[cid])
        except Exception as exc:  # noqa: BLE001 – refresh must never raise; report it if it does
            errors.put(repr(exc))
        db.engine.dispose()


def test_concurrent_writers_lose_nothing(search_app, make, tmp_path):
    post = make.post("Viel los")
    index.rebuild()
    workers, per_worker = 4, 8
    ids = [add_comment(post, body=f"Parallelwort{n} gleichzeitig").id for n in range(workers * per_worker)]
    settings = make_settings(tmp_path / "data", SEARCH_BACKEND=search_app.config["SEARCH_BACKEND"],
                             SEARCH_PG_SCHEMA=search_app.config.get("SEARCH_PG_SCHEMA"))  # the same index
    context = multiprocessing.get_context("fork")
    barrier, errors = context.Barrier(workers), context.Queue()
    processes = [context.Process(target=_refresh_in_another_process,
                                 args=(settings, ids[w::workers], barrier, errors)) for w in range(workers)]
    for p in processes:
        p.start()
    for p in processes:
        p.join(60)
    assert [p.exitcode for p in processes] == [0] * workers
    assert errors.empty()
    results = index.search("gleichzeitig", per_page=100)
    assert {hit.id for hit in results.hits} == set(ids)
    assert index.staff_search("gleichzeitig", per_page=100).total == len(ids)
    assert index.status()["pending"] == 0


def test_a_busy_lock_queues_the_change_and_the_next_update_applies_it(whoosh_app, make):
    post = make.post("Gesperrt")
    first = add_comment(post, body="Wartewort eins", status=CommentStatus.APPROVED)
    index.rebuild()
    second = add_comment(post, body="Wartewort zwei")
    whoosh_app.config.update(SEARCH_WRITE_TIMEOUT=0.2, SEARCH_WRITE_ATTEMPTS=1)
    blocker = opening.open_index(opening.live(index.location()) / index.READER).writer()  # another worker writing
    try:
        index.refresh(comments=[second.id])  # must not raise or hang
    finally:
        blocker.cancel()
    assert index.status()["pending"] == 1
    index.refresh(comments=[first.id])
    assert found("Wartewort") == {("comment", first.id), ("comment", second.id)}
    assert index.status()["pending"] == 0


# --- a missing or broken index -------------------------------------------------------------------------

def test_a_missing_index_makes_search_unavailable_until_rebuilt(search_app, make, client):
    post = make.post("Ohne Index", body="Suchwort im Text.")
    assert index.search("Suchwort").unavailable  # never built
    index.rebuild()
    assert index.search("Suchwort").total == 1
    remove_index(search_app)

    results = index.search("Suchwort")
    assert results.unavailable and results.hits == []
    assert index.staff_search("Suchwort").unavailable and index.similar_answered(1) == []
    comment = add_comment(post, body="Suchwort im Kommentar.")
    index.refresh(comments=[comment.id], posts=[post.id])  # does not raise
    page = client.get("/search?q=Suchwort")
    assert page.status_code == 503 and b'class="flash flash-warning search-unavailable"' in page.data
    assert client.get(f"/posts/{post.slug}").status_code == 200  # the rest of the site works

    index.rebuild()
    assert found("Suchwort") == {("post", post.id), ("comment", comment.id)}
    assert client.get("/search?q=Suchwort").status_code == 200


@pytest.mark.parametrize("target", ["files", "pointer"])
def test_a_corrupt_index_makes_search_unavailable_until_rebuilt(whoosh_app, make, target):
    post = make.post("Kaputt", body="Bruchwort im Text.")
    index.rebuild()
    assert index.search("Bruchwort").total == 1
    root = index.location()
    index.close()  # a fresh worker meets the broken files
    if target == "pointer":
        (root / "CURRENT").write_bytes(b"\x00\xffnot a generation")
    else:
        for path in root.rglob("*"):
            if path.is_file() and path.parent.parent != root.parent and path.name != "CURRENT":
                path.write_bytes(b"garbage" * 10)
    assert index.search("Bruchwort").unavailable
    index.refresh(posts=[post.id])  # logs, queues, does not raise
    assert index.status()["available"] is False
    index.rebuild()
    assert found("Bruchwort") == {("post", post.id)}


def test_a_rebuild_with_several_writer_processes(search_app, make):
    search_app.config["SEARCH_REBUILD_PROCESSES"] = 2
    post = make.post("Zwei Kerne", body="Mehrkernwort.")
    for n in range(30):
        add_comment(post, body=f"Mehrkernwort Nummer {n}", commit=False)
    db.session.commit()
    summary = index.rebuild()
    assert (summary.posts, summary.comments, summary.staff_comments) == (1, 30, 30)
    assert index.search("Mehrkernwort", per_page=50).total == 31
    assert index.staff_search("Mehrkernwort").total == 30


def test_changes_during_a_rebuild_are_replayed_into_the_new_index(search_app, make, monkeypatch):
    post = make.post("Umbau")
    late = add_comment(post, body="Nachzüglerwort", status=CommentStatus.PENDING)
    index.rebuild()
    original = documents.all_staff_comments

    def approve_meanwhile(conn):
        # Another worker approves a comment while the staff index is being built.
        from app.extensions import db as _db

        _db.session.get(Comment, late.id).status = CommentStatus.APPROVED
        _db.session.commit()
        index.refresh(comments=[late.id])
        yield from original(conn)

    monkeypatch.setattr(documents, "all_staff_comments", approve_meanwhile)
    summary = index.rebuild()
    assert summary.replayed == 1
    assert found("Nachzüglerwort") == {("comment", late.id)}


# --- bad input -------------------------------------------------------------------------------------------

BAD_QUERIES = ["", "   ", "x" * 1000, "wort " * 200, "AND", "OR NOT", "NOT", '"', '"unbalanced', '""', "*", "?", "~",
               ":", "title:foo", "doc_id:p1", "((", "a)", "(Störung", "Stör*", "St?rung", "Störung~2", "[a TO z]",
               "東京", "Привет мир", "مرحبا", "\x00", "a\x00b", "\x1b[31mrot", "a\u200bb", "\x7f", "-",
               "'; DROP TABLE posts; --", "<script>alert(1)</script>"]


def test_bad_queries_give_results_or_a_message(corpus, client):
    for q in BAD_QUERIES:
        assert index.search(q).state in ("ok", "empty"), repr(q)
        assert index.staff_search(q).state in ("ok", "empty"), repr(q)
        page = client.get("/search", query_string={"q": q})
        assert page.status_code == (400 if "\x00" in q else 200), repr(q)  # the app answers NUL with 400 everywhere
        assert b"<script>alert" not in page.data, repr(q)


def test_a_lone_surrogate_is_no_problem(corpus):
    assert index.search("\ud800Störung").state == "ok"


def test_bad_parameters_give_results(corpus, client):
    for params in [{"page": "99999"}, {"page": "-3"}, {"page": "abc"}, {"page": "1e9"}, {"page": "9" * 40},
                   {"kind": "bogus"}, {"sort": "sideways"}, {"category": "<b>nope</b>"}, {"category": "x" * 500},
                   {"q": ["Störung", "zweimal"]}]:
        page = client.get("/search", query_string={"q": "Störung", **params})
        assert page.status_code == 200, params
        assert b"<b>nope</b>" not in page.data
    assert index.search("Störung", page=10**30).page == 1


def test_long_and_stop_word_queries_say_so(corpus):
    assert "shortened" in index.search("x" * 1000).notices
    assert "shortened" in index.search(" ".join(f"w{n}" for n in range(30))).notices
    assert "no_terms" in index.search("in an was").notices  # stop words in German and English
    assert "no_terms" not in index.search("die und der").notices  # "die" is an English word
    assert index.search("").state == "empty"


# --- the page ------------------------------------------------------------------------------------------------

def test_the_page_shows_highlighted_results_with_links(corpus, client):
    page = client.get("/search?q=behoben", headers={"Accept-Language": "en"})
    html = page.data.decode()
    assert page.status_code == 200
    assert 'value="behoben"' in html  # the query stays in the box
    assert f'/posts/{corpus["de"].slug}/comments/{corpus["answer"].id}' in html
    assert "<mark>behoben</mark>" in html and "2 results" in html
    assert 'name="robots" content="noindex' in html
    post_page = client.get("/search?q=Datenschutz&kind=posts").data.decode()
    assert f'href="/posts/{corpus["de"].slug}"' in post_page


def test_the_page_without_a_query_invites_one(search_app, client):
    page = client.get("/search")
    assert page.status_code == 200 and b'<p class="empty">' in page.data and b'class="search-hit' not in page.data


def test_the_page_offers_a_correction_and_keeps_filters_in_links(corpus, client):
    html = client.get("/search?q=Stoerumg&sort=date").data.decode()
    assert 'class="did-you-mean"' in html and "q=st%C3%B6rung" in html and "sort=date" in html


@pytest.mark.parametrize("language, title", [("de", "<h1>Suche</h1>"), ("en", "<h1>Search</h1>")])
def test_the_page_speaks_german_and_english(corpus, client, language, title):
    page = client.get("/search?q=Störung", headers={"Accept-Language": language})
    assert page.status_code == 200 and f'<html lang="{language}">' in page.data.decode()
    assert title in page.data.decode()


# --- similar answered comments ---------------------------------------------------------------------------------

def test_similar_answered_finds_an_answered_question_like_this_one(search_app, make):
    post = make.post("WLAN-Probleme")
    answered = add_comment(post, body="Mein Router verliert abends ständig die WLAN-Verbindung, was kann ich tun?",
                           minutes_ago=600, response_status=ResponseStatus.ANSWERED, answered_at=utcnow())
    answer = add_comment(post, parent=answered, body="Bitte stellen Sie den Router frei auf, nicht in den Schrank.",
                         is_official=True, minutes_ago=500)
    unanswered = add_comment(post, body="Auch mein Router verliert abends die WLAN-Verbindung.", minutes_ago=400,
                             response_status=ResponseStatus.NEEDS_ANSWER)
    unrelated = add_comment(post, body="Wann kommt endlich die neue Rechnung per Post?", minutes_ago=300,
                            response_status=ResponseStatus.ANSWERED, answered_at=utcnow())
    add_comment(post, parent=unrelated, body="Die Rechnung kommt am Monatsanfang.", is_official=True, minutes_ago=200)
    new = add_comment(post, body="Router verliert WLAN-Verbindung am Abend – Hilfe!", status=CommentStatus.PENDING)
    index.rebuild()

    similar = index.similar_answered(new.id)
    assert [s.comment_id for s in similar] == [answered.id]
    assert similar[0].answer_id == answer.id and "Schrank" in similar[0].answer_body_md
    assert unanswered.id not in {s.comment_id for s in similar}
    assert index.similar_answered(999_999) == []


def test_similar_answered_partial_renders(search_app, make):
    from flask import render_template

    post = make.post("WLAN")
    q = add_comment(post, body="Router verliert WLAN", response_status=ResponseStatus.ANSWERED, answered_at=utcnow(),
                    minutes_ago=100)
    add_comment(post, parent=q, body="Router <b>neu</b> starten.", is_official=True, minutes_ago=90)
    new = add_comment(post, body="Router verliert WLAN schon wieder", status=CommentStatus.PENDING)
    index.rebuild()
    with search_app.test_request_context():
        html = render_template("search/_similar.html", similar=index.similar_answered(new.id), comment=new)
    assert "data-canned=" in html and f"/comments/{q.id}" in html and "<b>neu" not in html


def test_staff_results_partial_renders_pending_comments(search_app, make):
    from flask import render_template

    post = make.post("Warteschlange")
    add_comment(post, body="Wartet <b>noch</b> auf Freigabe: Routerfrage", status=CommentStatus.PENDING, name="Eva")
    index.rebuild()
    with search_app.test_request_context():
        html = render_template("search/_staff_results.html", staff_results=index.staff_search("Routerfrage"))
    assert "/moderation/comments/1" in html and "status-pending" in html and "<mark>Routerfrage</mark>" in html
    assert "<b>noch" not in html


def test_header_box_keeps_the_query_on_the_results_page(search_app):
    from flask import render_template

    with search_app.test_request_context("/search?q=Glas%22faser"):
        html = render_template("search/_header_box.html")
    assert 'action="/search"' in html and 'value="Glas&#34;faser"' in html
    with search_app.test_request_context("/posts/x"):
        assert 'value=""' in render_template("search/_header_box.html")


# --- the command ----------------------------------------------------------------------------------------------

def test_cli_rebuild_and_status(search_app, make):
    from app.cli.search import search

    if "search" not in search_app.cli.commands:
        search_app.cli.add_command(search)
    make.post("Kommandozeile", body="Ein Text.")
    runner = search_app.test_cli_runner()
    assert runner.invoke(args=["search", "status"]).exit_code == 1
    result = runner.invoke(args=["search", "rebuild"])
    assert result.exit_code == 0, result.output
    assert "Indexed 1 posts and 0 approved comments" in result.output and "per second" in result.output
    status = runner.invoke(args=["search", "status"])
    assert status.exit_code == 0 and "1 reader documents" in status.output
    if search_app.config["SEARCH_BACKEND"] == "whoosh":
        assert Path(index.status()["location"]).name == "search"
    else:
        assert index.status()["location"].startswith("PostgreSQL schema ")


def test_similar_answered_never_suggests_the_comment_itself(app, make):
    """Bug found by looking at the moderation page: an answered comment listed itself as similar."""
    from app.extensions import db
    from app.models import Comment, ResponseStatus, Role
    from app.moderation import service as moderation
    from app.search import index
    from tests.comment_helpers import add_comment

    anna = make.user("anna", role=Role.MODERATOR)
    post = make.post("Router und WLAN")
    question = add_comment(post, body="Mein Router verliert nachts das WLAN, was kann ich tun?",
                           response_status=ResponseStatus.NEEDS_ANSWER)
    moderation.reply(db.session.get(Comment, question.id), anna, "Bitte Firmware aktualisieren.", team_name="Team")
    index.rebuild()
    assert [s.comment_id for s in index.similar_answered(question.id)] == []
