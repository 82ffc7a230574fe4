"""`flask --app wsgi backup DEST`: a consistent copy of the embedded data dir while it is written to, and
a restore by copying it back. Always on SQLite (the command's subject), also in the PostgreSQL pass."""
import io
import shutil
import sqlite3
import tarfile
import threading
from contextlib import closing
from pathlib import Path

import pytest
from PIL import Image

from app import create_app, markup
from app.content import uploads
from app.extensions import db
from app.models import Comment, CommentStatus, Role
from tests.conftest import IsolatedClient, make_settings


def _embedded_app(data_dir: Path):
    # SQLite in the data dir and a key kept there, whatever database the suite runs on.
    app = create_app(make_settings(data_dir, DATABASE_URL=None, REDIS_URL=None, SEARCH_BACKEND="whoosh",
                                   SECRET_KEY=None))
    app.test_client_class = IsolatedClient
    return app


@pytest.fixture
def app(tmp_path):
    app = _embedded_app(tmp_path / "data")
    with app.app_context():
        db.create_all()
        yield app
        db.session.remove()
        db.engine.dispose()


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 60)).save(out, "PNG")
    return out.getvalue()


def _write_pairs(app, post_id: int, stop: threading.Event, committed: list[int], errors: list) -> None:
    """Commit a question and its reply per transaction until told to stop (another app server, in effect)."""
    try:
        with app.app_context():
            n = 0
            while not stop.is_set():
                n += 1
                question = Comment(post_id=post_id, depth=0, author_name="Leser", author_email="l@example.org",
                                   body_md=f"Frage {n}", body_html=markup.render_comment(f"Frage {n}"),
                                   status=CommentStatus.APPROVED)
                db.session.add(question)
                db.session.flush()
                question.root_id = question.id
                answer = Comment(post_id=post_id, parent_id=question.id, root_id=question.id, depth=1,
                                 author_name="Team", author_email="t@example.org", body_md=f"Antwort {n}",
                                 body_html=markup.render_comment(f"Antwort {n}"), status=CommentStatus.APPROVED)
                db.session.add(answer)
                db.session.commit()
                committed.append(n)
            db.session.remove()
    except Exception as exc:  # noqa: BLE001 – reported by the test, not lost in the thread
        errors.append(exc)


def _comment_pairs(database: Path) -> tuple[int, int, int]:
    with closing(sqlite3.connect(database)) as conn:
        questions = conn.execute("SELECT count(*) FROM comments WHERE parent_id IS NULL").fetchone()[0]
        answers = conn.execute("SELECT count(*) FROM comments WHERE parent_id IS NOT NULL").fetchone()[0]
        orphans = conn.execute("SELECT count(*) FROM comments c WHERE parent_id IS NOT NULL AND NOT EXISTS "
                               "(SELECT 1 FROM comments p WHERE p.id = c.parent_id)").fetchone()[0]
    return questions, answers, orphans


def test_a_backup_taken_while_a_writer_commits_is_a_whole_database_and_restores(app, make, tmp_path):
    post = make.post("Glasfaser für alle", author=make.user("jana", role=Role.AUTHOR))
    image = uploads.store(_png(), "bild.png", "Ein rotes Rechteck", None)
    key = app.config["SECRET_KEY"]
    stop, committed, errors = threading.Event(), [], []
    writer = threading.Thread(target=_write_pairs, args=(app, post.id, stop, committed, errors), daemon=True)
    writer.start()
    try:
        while len(committed) < 20 and writer.is_alive():
            threading.Event().wait(0.01)
        before = len(committed)
        result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "backups")])
        during = len(committed)
    finally:
        stop.set()
        writer.join(timeout=30)
    assert not errors, errors
    assert result.exit_code == 0, result.output
    assert during > before, "the writer was not committing while the backup ran"

    (folder,) = (tmp_path / "backups").iterdir()
    assert folder.name.startswith("dialog-backup-") and str(folder) in result.output
    assert sorted(p.name for p in folder.iterdir()) == ["README.txt", "dialog.db", "posts", "secret_key", "uploads"]
    assert not (folder / "search").exists()  # rebuildable, so left out
    assert "search rebuild" in (folder / "README.txt").read_text()
    # One moment of the database: whole transactions only (each answer with its question), at least
    # what was committed before the backup began, one self-contained file in good order.
    questions, answers, orphans = _comment_pairs(folder / "dialog.db")
    assert questions == answers and orphans == 0
    assert before <= questions <= len(committed)
    with closing(sqlite3.connect(folder / "dialog.db")) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert not list(folder.glob("dialog.db-*"))
    assert (folder / "secret_key").read_text().strip() == key
    assert (folder / "secret_key").stat().st_mode & 0o077 == 0
    assert folder.stat().st_mode & 0o077 == 0
    assert (folder / "uploads" / image.name).read_bytes() == (Path(app.config["DATA_DIR"]) / "uploads" /
                                                              image.name).read_bytes()
    assert "title: Glasfaser für alle" in (folder / "posts" / f"{post.slug}.md").read_text()

    # Restore: copy it into an empty data dir; that app serves the posts, comments and images, same key.
    restored_dir = tmp_path / "restored"
    restored_dir.mkdir()
    for name in ("dialog.db", "secret_key"):
        shutil.copy2(folder / name, restored_dir / name)
    shutil.copytree(folder / "uploads", restored_dir / "uploads")
    restored = _embedded_app(restored_dir)
    assert restored.config["SECRET_KEY"] == key
    client = restored.test_client()
    page = client.get(f"/posts/{post.slug}")
    assert page.status_code == 200
    assert "Glasfaser für alle" in page.text and "Frage 1" in page.text and "Antwort 1" in page.text
    assert "Glasfaser für alle" in client.get("/").text
    assert client.get(f"/uploads/{image.name}").data == (folder / "uploads" / image.name).read_bytes()
    with restored.app_context():
        db.engine.dispose()


def test_the_archive_holds_the_same_backup_in_one_private_file(app, make, tmp_path):
    make.post("Router im Keller")
    result = app.test_cli_runner().invoke(args=["backup", "--archive", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    (archive,) = (tmp_path / "out").iterdir()
    assert archive.name.startswith("dialog-backup-") and archive.name.endswith(".tar.gz")
    assert archive.stat().st_mode & 0o077 == 0
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
        top = archive.name.removesuffix(".tar.gz")
        assert {f"{top}/dialog.db", f"{top}/secret_key", f"{top}/uploads", f"{top}/README.txt"} <= names
        assert any(name.startswith(f"{top}/posts/") and name.endswith(".md") for name in names)
        tar.extractall(tmp_path / "unpacked", filter="data")
    with closing(sqlite3.connect(tmp_path / "unpacked" / top / "dialog.db")) as conn:
        assert conn.execute("SELECT title FROM posts").fetchall() == [("Router im Keller",)]


def test_the_live_database_is_not_changed_by_the_posts_export(app, make, tmp_path):
    post = make.post("Ein Beitrag")
    before = (post.source_path, post.source_hash, post.synced_version)
    assert app.test_cli_runner().invoke(args=["backup", str(tmp_path / "b")]).exit_code == 0
    db.session.expire_all()
    assert (post.source_path, post.source_hash, post.synced_version) == before


def test_postgresql_is_refused_with_the_pg_dump_command_and_no_password(tmp_path):
    app = create_app(make_settings(tmp_path / "data", REDIS_URL=None,
                                   DATABASE_URL="postgresql+psycopg://dialog:geheim@db.example.org:5433/blog"))
    result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "pg_dump --format=custom" in result.output
    assert "postgresql://dialog@db.example.org:5433/blog" in result.output
    assert "geheim" not in result.output
    assert "uploads" in result.output
    assert not (tmp_path / "out").exists()
