"""`flask --app wsgi backup DEST`: a consistent copy of the embedded (SQLite) data dir, taken while the app runs.

What goes in, in this order, into `DEST/dialog-backup-<UTC time>/` (or one `.tar.gz` with `--archive`):

- `dialog.db`: the database through SQLite's online backup API, one step, so it is a snapshot of one
  moment even while app servers commit (WAL: they are not blocked meanwhile); checked with
  `PRAGMA integrity_check` and switched to a rollback journal, so it is one self-contained file.
- `secret_key`: the key kept in the data dir (sessions, CSRF tokens, sign-in and unsubscribe links,
  the keyed IP hashes); not there when BLOG_SECRET_KEY sets it — keep that value with the backup.
- `uploads/`: the images, copied after the database: an image is written before its row is
  committed, so every image the copied database names is there (one deleted during the backup may not be).
- `posts/`: every post as Markdown with front matter (what `posts export` writes), rendered from the
  copied database, so it says what the copy says; the live database is not touched.
- `README.txt`: what is inside and how to restore it.

Not copied: the search index (`search/`), rebuilt from the database with `flask --app wsgi search
rebuild`; the `.eml` files of the mail outbox folder (written only without a mail server) and lock files.

On PostgreSQL the command refuses and names the `pg_dump` command to use instead.
"""
import os
import shutil
import sqlite3
import tarfile
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import create_engine, select
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, selectinload

from app.i18n import site_timezone

DATABASE = "dialog.db"
SKIPPED_NAMES = (".tmp-",)  # the uploads' half-written files (app/content/uploads.py `_write`)

README = """\
Dialog backup taken {taken} from {data_dir}

  dialog.db    the database ({posts} posts, {comments} comments, {uploads} images), integrity checked
  secret_key   the data dir's secret key{secret_note}
  uploads/     the uploaded images ({files} files)
  posts/       every post as Markdown ({exported} files; `flask --app wsgi posts import` reads them)

Not included: the search index (rebuild it, see below).

Restore (the app servers stopped):
  1. copy dialog.db, secret_key and uploads/ into the data dir (BLOG_DATA_DIR),
     and delete dialog.db-wal and dialog.db-shm there if present: they belong to the old database;
  2. flask --app wsgi db upgrade        (only if the release is newer than the backup)
  3. flask --app wsgi search rebuild
  4. start the app servers.
"""


@click.command("backup")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.option("--archive", is_flag=True, help="Write one DEST/dialog-backup-<time>.tar.gz instead of a folder.")
@with_appcontext
def backup(dest: Path, archive: bool):
    """Copy the SQLite database, secret key, uploads and posts into a new folder under DEST."""
    source = _sqlite_path(current_app.config["SQLALCHEMY_DATABASE_URI"])
    data_dir = Path(current_app.config["DATA_DIR"])
    dest.mkdir(parents=True, exist_ok=True)
    name = "dialog-backup-" + datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    if (dest / name).exists() or (dest / f"{name}.tar.gz").exists():
        raise click.ClickException(f"{dest / name} exists already; try again in a second.")
    # Built under a hidden name and renamed when complete: a folder named dialog-backup-* is a whole backup.
    work = dest / f".{name}.partial"
    work.mkdir(mode=0o700)  # the database holds readers' e-mail addresses, the key signs sessions
    try:
        counts = _copy_database(source, work / DATABASE)
        secret_note = _copy_secret_key(data_dir, work)
        files = _copy_uploads(data_dir / "uploads", work / "uploads")
        exported = _export_posts(work / DATABASE, work / "posts")
        (work / "README.txt").write_text(README.format(
            taken=datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"), data_dir=data_dir, secret_note=secret_note,
            files=files, exported=exported, **counts))
        if archive:
            target = dest / f"{name}.tar.gz"
            _write_archive(work, target, name)
            shutil.rmtree(work)
        else:
            target = dest / name
            work.rename(target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    click.echo(f"Backup written to {target}: {counts['posts']} posts, {counts['comments']} comments, "
               f"{files} upload file(s). The search index is not included (flask --app wsgi search rebuild).")


def _sqlite_path(url: str) -> Path:
    """The database file, or a refusal that says what to do instead (PostgreSQL: pg_dump)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        # libpq's own URL, without the password (which belongs in PGPASSWORD or ~/.pgpass, not in a shell history)
        plain = URL.create("postgresql", username=parsed.username, host=parsed.host, port=parsed.port,
                           database=parsed.database, query=parsed.query).render_as_string()
        raise click.ClickException(
            "The database is PostgreSQL: back it up with pg_dump, e.g.\n"
            f"  pg_dump --format=custom --file=dialog-$(date -u +%Y%m%dT%H%M%SZ).dump '{plain}'\n"
            "(the password from PGPASSWORD or ~/.pgpass), and copy the uploads folder "
            f"{Path(current_app.config['DATA_DIR']) / 'uploads'} with it. See docs/DEPLOYMENT.md."
        )
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        raise click.ClickException(f"Only a SQLite database file can be backed up this way, not {parsed.drivername}.")
    path = Path(parsed.database)
    if not path.is_file():
        raise click.ClickException(f"There is no database at {path} (run: flask --app wsgi db upgrade).")
    return path


def _copy_database(source: Path, target: Path) -> dict:
    """Snapshot the live database into `target` (SQLite's online backup), check it, count what is in it."""
    timeout = current_app.config.get("SQLITE_BUSY_TIMEOUT_MS", 5000) / 1000
    src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True, timeout=timeout)  # never writes there
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)  # all pages in one step: one read transaction, one moment; writers go on (WAL)
    finally:
        src.close()
    try:
        dst.execute("PRAGMA journal_mode=DELETE")  # no -wal file beside it: the copy is one file
        problems = [row[0] for row in dst.execute("PRAGMA integrity_check")]
        if problems != ["ok"]:
            raise click.ClickException(f"The copied database failed its integrity check: {'; '.join(problems[:5])}")
        tables = {row[0] for row in dst.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}

        def count(table: str) -> int:
            return dst.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] if table in tables else 0

        counts = {"posts": count("posts"), "comments": count("comments"), "uploads": count("uploads")}
    finally:
        dst.close()
    target.chmod(0o600)
    return counts


def _copy_secret_key(data_dir: Path, work: Path) -> str:
    """The key file of the data dir; a note for README.txt when the app's key is not (only) that file."""
    key = data_dir / "secret_key"
    if not key.is_file():
        return " is not there: BLOG_SECRET_KEY sets it, keep that value safe"
    shutil.copyfile(key, work / "secret_key")
    (work / "secret_key").chmod(0o600)
    if key.read_text().strip() != current_app.config["SECRET_KEY"]:
        return " (the app uses BLOG_SECRET_KEY instead: keep that value safe too)"
    return ""


def _copy_uploads(source: Path, target: Path) -> int:
    """Every stored image file (originals and their sizes); half-written temporary files left out."""
    target.mkdir()
    if not source.is_dir():
        return 0
    copied = 0
    for path in sorted(source.iterdir()):
        if not path.is_file() or path.name.startswith(SKIPPED_NAMES):
            continue
        try:
            shutil.copy2(path, target / path.name)
        except FileNotFoundError:  # deleted since we listed the folder (its row may be in the copy)
            continue
        copied += 1
    return copied


def _export_posts(database: Path, target: Path) -> int:
    """Every post of the copied database as `posts export` writes it, without marking anything as synced."""
    from app.content.exporter import file_name, render_file
    from app.models import Post

    target.mkdir()
    engine = create_engine(f"sqlite:///{database}")
    tz = site_timezone()
    written = 0
    try:
        with Session(engine) as session:
            posts = session.scalars(
                select(Post).options(selectinload(Post.author), selectinload(Post.category), selectinload(Post.tags))
                .order_by(Post.slug)
            ).all()
            for post in posts:
                (target / file_name(post, target)).write_text(render_file(post, tz), encoding="utf-8")
                written += 1
            session.rollback()  # read only: the copy stays as it was taken
    finally:
        engine.dispose()
    # The engine switched the copy to WAL on connecting (app.extensions); back to one self-contained file.
    with closing(sqlite3.connect(database)) as conn:
        conn.execute("PRAGMA journal_mode=DELETE")
    return written


def _write_archive(folder: Path, target: Path, name: str) -> None:
    """Pack the folder as `name/…` into a .tar.gz readable by the owner only."""
    tmp = target.with_name(f".{target.name}.partial")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            tar.add(folder, arcname=name)
        tmp.rename(target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
