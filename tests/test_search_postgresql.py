"""What only the PostgreSQL search backend has: its tables, configurations, folding, ts_headline, trigrams, locks.

These tests need PostgreSQL in both passes: in the PostgreSQL pass they use the suite's database;
in the SQLite pass they start a cluster of their own (once per session), so nothing is skipped.
The search behaviour both backends share is tested in test_search.py.
"""
import itertools
import tempfile
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text

from app import create_app
from app.extensions import db
from app.models import CommentStatus
from app.search import index
from app.search.postgresql import schema
from app.search.postgresql.schema import LOCK_BUILDING, LOCK_REBUILD, LOCK_WRITE, READER, STAFF, WORDS
from tests import databases, services
from tests.comment_helpers import add_comment
from tests.conftest import IsolatedClient, make_settings

_schemas = itertools.count(1)


def _reachable(path: Path) -> Path:
    path.chmod(0o755)
    return path


@pytest.fixture(scope="session")
def own_postgresql():
    """A database for the SQLite pass (a cluster of our own); None in the PostgreSQL pass."""
    if databases.ON_POSTGRESQL:
        yield None
        return
    # Not under pytest's tmp_path: the cluster's own account (postgres, when we are root) must reach it.
    with tempfile.TemporaryDirectory(prefix="dialog-pgsearch-") as base, \
            services.postgresql(_reachable(Path(base)) / "postgresql") as url:
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
            conn.execute('CREATE DATABASE "dialog_search"')
        yield url.rsplit("/", 1)[0] + "/dialog_search"


@pytest.fixture
def app(tmp_path, own_postgresql):
    """The app on PostgreSQL with PostgreSQL search, in both passes; every table empty."""
    overrides = {"SEARCH_BACKEND": "postgresql", "SEARCH_REBUILD_PROCESSES": 1}
    if own_postgresql:
        overrides.update(DATABASE_URL=own_postgresql, SEARCH_PG_SCHEMA=f"search_own_{next(_schemas)}")
    app = create_app(make_settings(tmp_path / "data", **overrides))
    app.test_client_class = IsolatedClient
    with app.app_context():
        db.create_all()
        names = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
        with db.engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        yield app
        db.session.remove()
        with db.engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema.schema_name()}" CASCADE'))
        db.engine.dispose()


def rows(sql: str, **params):
    with db.engine.connect() as conn:
        return conn.execute(text(sql.format(reader=schema.table(READER), staff=schema.table(STAFF),
                                            words=schema.table(WORDS))), params).all()


def found(q, **kw):
    results = index.search(q, **kw)
    assert results.state == "ok", results
    return {(hit.kind, hit.id) for hit in results.hits}


# --- set-up and the tables -------------------------------------------------------------------------

def test_postgresql_search_on_sqlite_is_an_error_at_start(tmp_path):
    settings = make_settings(tmp_path / "data", SEARCH_BACKEND="postgresql",
                             DATABASE_URL=f"sqlite:///{tmp_path / 'dialog.db'}")
    with pytest.raises(RuntimeError, match="must be PostgreSQL"):
        create_app(settings)
    with pytest.raises(RuntimeError, match="SEARCH_BACKEND must be one of"):
        create_app(make_settings(tmp_path / "data", SEARCH_BACKEND="elastic"))


def test_the_tables_are_not_models_and_live_in_their_own_schema(app, make):
    assert not any(name.startswith(("reader_v", "staff_v", "words_v")) for name in db.metadata.tables)
    assert index.search("Irgendwas").unavailable and not index.status()["available"]
    make.post("Tabellen", body="Ein Tabellenwort.")
    summary = index.rebuild()
    assert summary.location == f"PostgreSQL schema {schema.schema_name()}" and summary.size_bytes > 0
    tables = {name for (name,) in rows("SELECT tablename FROM pg_tables WHERE schemaname = :s",
                                       s=schema.schema_name())}
    assert tables == {READER, STAFF, WORDS, "pending", "meta"}
    info = index.status()
    assert info["available"] and (info["reader_documents"], info["staff_documents"]) == (1, 0)
    assert rows("SELECT count(*) FROM pg_extension WHERE extname = 'pg_trgm'") == [(1,)]


def test_a_bad_schema_setting_is_refused(app):
    app.config["SEARCH_PG_SCHEMA"] = 'x"; DROP TABLE posts; --'
    with pytest.raises(ValueError, match="SEARCH_PG_SCHEMA"):
        schema.schema_name()
    assert index.search("Wort").unavailable  # logged, never a 500
    app.config["SEARCH_PG_SCHEMA"] = "dialog_search_ok"
    assert schema.schema_name() == "dialog_search_ok"


# --- configurations and folding -------------------------------------------------------------------

def test_each_document_is_indexed_with_its_languages_configuration(app, make):
    de = make.post("Störungen im Netz", body="Die Kommentare wurden gelesen.")
    en = make.post("How we report outages", body="The routers were restarted.", lang="en")
    add_comment(en, body="Reporting outages quickly helps.", lang="en")  # as the comment service sets it
    index.rebuild()
    lexemes = {doc_id: set(tsv.split()) for doc_id, tsv in rows("SELECT doc_id, CAST(tsv AS text) FROM {reader}")}
    assert any(w.startswith("'stoerung'") for w in lexemes[f"p{de.id}"])  # folded, then German stems
    assert any(w.startswith("'kommentar'") for w in lexemes[f"p{de.id}"])
    assert any(w.startswith("'outag'") for w in lexemes[f"p{en.id}"])  # English stems
    assert not any(w.startswith("'the'") for w in lexemes[f"p{en.id}"])  # an English stop word
    assert rows("SELECT lang FROM {reader} WHERE kind = 'comment'") == [("en",)]
    assert found("routers restart", lang="en") == {("post", en.id)}


@pytest.mark.parametrize("q", ["Stoerung", "Störung", "STÖRUNGEN", "störungen", "STOERUNG"])
def test_umlauts_fold_on_both_sides(app, make, q):
    written = make.post("Eine Störung", body="Heute.")
    respelt = make.post("Noch eine Stoerung", body="Gestern.")
    capitals = make.post("STÖRUNGEN", body="Vorgestern.")
    index.rebuild()
    assert found(q) == {("post", written.id), ("post", respelt.id), ("post", capitals.id)}


def test_sharp_s_and_other_umlauts(app, make):
    street = make.post("Straße gesperrt", body="Grüße und Anschlüsse.")
    index.rebuild()
    for q in ["Strasse", "Straße", "STRASSE", "Gruesse", "Grüße", "Anschluesse", "anschlüsse"]:
        assert found(q) == {("post", street.id)}, q


def test_stop_words_are_left_out_before_folding(app, make):
    post = make.post("Router für Kinder", body="Ein Text über Router.")
    index.rebuild()
    assert found("Router für") == {("post", post.id)}  # "für" is a stop word: it is not required
    assert "no_terms" in index.search("für über die").notices or index.search("für über die").total == 0


# --- snippets --------------------------------------------------------------------------------------

def test_ts_headline_output_is_escaped_before_the_marks_are_added(app, make):
    post = make.post("Sicherheit")
    add_comment(post, body='Der Router zeigt `<mark>fett</mark>` an & <script>alert("x")</script> '
                           "danach \ue000wieder\ue001 normal")
    index.rebuild()
    snippet = str(index.search("Router").hits[0].snippet)
    assert snippet.count("<mark>") == 1 and "<mark>Router</mark>" in snippet
    assert "&lt;mark&gt;fett&lt;/mark&gt;" in snippet  # the comment's own <mark> is text
    assert "<script>" not in snippet and "&amp;" in snippet
    assert "\ue000" not in snippet and "\ue001" not in snippet  # the private markers cannot be smuggled in
    assert snippet.replace("<mark>", "").replace("</mark>", "").count("<") == 0


def test_titles_are_marked_whole_and_long_texts_cut_to_a_passage(app, make):
    words = " ".join(f"Füllwort{n}" for n in range(120))  # the match within SEARCH_SNIPPET_SCAN_CHARS
    post = make.post("Der Glasfaser-Ausbau", body=f"{words} Hier kommt der Glasfaserkern. {words}")
    index.rebuild()
    hit = index.search("Glasfaserkern").hits[0]
    assert "<mark>Glasfaserkern</mark>" in hit.snippet and len(str(hit.snippet)) < 600
    assert str(hit.snippet).startswith("… ") and str(hit.snippet).endswith(" …")
    assert str(index.search("Ausbau").hits[0].title_html) == "Der Glasfaser-<mark>Ausbau</mark>"
    assert post.id == hit.id


# --- did you mean ----------------------------------------------------------------------------------

def test_trigram_suggestions_follow_the_words_table(app, make):
    post = make.post("Netz", body="Die Störung ist behoben.")
    comment = add_comment(post, body="Kleinwellingen hat wieder Netz.")
    index.rebuild()
    assert rows("SELECT folded, ndoc FROM {words} WHERE word = 'störung'") == [("stoerung", 1)]
    assert index.search("Stoerumg").suggestion == "störung"
    assert index.search("Kleinwelingen").suggestion == "kleinwellingen"
    assert index.search("Qwertzuiop").suggestion is None

    comment.status = CommentStatus.REJECTED
    db.session.commit()
    index.refresh(comments=[comment.id])
    assert rows("SELECT word FROM {words} WHERE word = 'kleinwellingen'") == []  # no document holds it now
    assert index.search("Kleinwelingen").suggestion is None
    assert index.staff_search("Kleinwellingen").total == 1


def test_a_stale_row_never_becomes_a_suggestion(app, make):
    post = make.post("Alt")
    comment = add_comment(post, body="Geheimniswort steht hier")
    index.rebuild()
    comment.status = CommentStatus.REJECTED
    db.session.commit()  # no refresh: the row is still in the reader table
    assert index.search("Geheimniswort").total == 0
    assert index.search("Geheimniswrt").suggestion is None


# --- readers' and staff's tables -------------------------------------------------------------------

def test_the_reader_table_holds_only_what_readers_may_see(app, make):
    post = make.post("Offen")
    kept = add_comment(post, body="Freigegeben")
    for status in (CommentStatus.PENDING, CommentStatus.SPAM, CommentStatus.REJECTED, CommentStatus.DELETED):
        add_comment(post, body=f"Versteckt {status}", status=status)
    index.rebuild()
    assert rows("SELECT doc_id FROM {reader} ORDER BY doc_id") == [(f"c{kept.id}",), (f"p{post.id}",)]
    assert len(rows("SELECT doc_id FROM {staff}")) == 5


def test_purge_deletes_the_rows_and_their_words(app, make):
    post = make.post("Löschen")
    hers = add_comment(post, body="Einzigartigeswort von ihr")
    index.rebuild()
    assert index.purge([hers.id]) is True
    assert rows("SELECT doc_id FROM {reader} WHERE doc_id = :d", d=f"c{hers.id}") == []
    assert rows("SELECT doc_id FROM {staff} WHERE doc_id = :d", d=f"c{hers.id}") == []
    assert rows("SELECT word FROM {words} WHERE word = 'einzigartigeswort'") == []


def test_similar_answered_ranks_by_shared_rare_words(app, make):
    from app.models import ResponseStatus, utcnow

    post = make.post("WLAN")
    close = add_comment(post, body="Mein Router verliert die WLAN-Verbindung", response_status=ResponseStatus.ANSWERED,
                        answered_at=utcnow(), minutes_ago=100)
    add_comment(post, parent=close, body="Router neu starten.", is_official=True, minutes_ago=90)
    new = add_comment(post, body="Router verliert WLAN-Verbindung", status=CommentStatus.PENDING)
    index.rebuild()
    similar = index.similar_answered(new.id)
    assert [s.comment_id for s in similar] == [close.id] and similar[0].score > 0


# --- locks -----------------------------------------------------------------------------------------

@contextmanager
def holding(kind: int):
    """Another process holding one of the backend's advisory locks."""
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(schema.lock(kind, "pg_advisory_lock"))
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock_all()"))  # session locks outlive a return to the pool


def test_a_busy_write_lock_queues_the_change_and_the_next_update_applies_it(app, make):
    post = make.post("Gesperrt")
    first = add_comment(post, body="Wartewort eins")
    index.rebuild()
    second = add_comment(post, body="Wartewort zwei")
    app.config.update(SEARCH_WRITE_TIMEOUT=0.2, SEARCH_WRITE_ATTEMPTS=1)
    with holding(LOCK_WRITE):  # another worker writing
        index.refresh(comments=[second.id])  # must not raise or hang
    assert index.status()["pending"] == 1
    index.refresh(comments=[first.id])
    assert found("Wartewort") == {("comment", first.id), ("comment", second.id)}
    assert index.status()["pending"] == 0


def test_one_rebuild_at_a_time_and_refreshes_queue_while_one_runs(app, make):
    post = make.post("Umbau", body="Umbauwort.")
    index.rebuild()
    with holding(LOCK_REBUILD), pytest.raises(index.RebuildRunning):
        index.rebuild()
    comment = add_comment(post, body="Umbauwort im Kommentar")
    with holding(LOCK_BUILDING):  # a rebuild is filling its new tables
        index.refresh(comments=[comment.id])
        assert index.status()["rebuilding"] and index.status()["pending"] == 1
    summary = index.rebuild()  # the queued change is included (and the queue emptied)
    assert summary.comments == 1 and index.status()["pending"] == 0
    assert found("Umbauwort") == {("post", post.id), ("comment", comment.id)}


def test_the_cli_reports_the_tables(app, make):
    make.post("Kommandozeile", body="Ein Text.")
    runner = app.test_cli_runner()
    assert runner.invoke(args=["search", "status"]).exit_code == 1
    result = runner.invoke(args=["search", "rebuild"])
    assert result.exit_code == 0 and "in PostgreSQL schema" in result.output, result.output
    status = runner.invoke(args=["search", "status"])
    assert status.exit_code == 0 and "search tables v1" in status.output and "1 reader documents" in status.output
    assert Path(app.config["DATA_DIR"]).joinpath("search").exists() is False  # no Whoosh files
