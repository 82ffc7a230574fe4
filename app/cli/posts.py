from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from werkzeug.exceptions import MethodNotAllowed, NotFound

from app.content.exporter import export_posts
from app.content.importer import FAILED, SKIPPED, Importer
from app.i18n import site_timezone
from app.urls import internal_hosts

posts = AppGroup("posts", help="Posts and pages from Markdown files.")


def _is_reserved(slug: str) -> bool:
    """True when /<slug> is already answered by another route (feeds, health check …)."""
    adapter = current_app.url_map.bind("localhost")
    try:
        endpoint, _ = adapter.match(f"/{slug}", method="GET")
    except (NotFound, MethodNotAllowed):
        return False
    except Exception:  # noqa: BLE001 – a redirect (e.g. to a trailing slash) means the path is taken
        return True
    return endpoint != "blog.page"


@posts.command("import")
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--prune", is_flag=True, help="Unpublish (make drafts of) posts whose file was deleted.")
@click.option("--force", is_flag=True, help="Also overwrite posts changed in the browser since their last import.")
def import_posts(directory: Path | None, prune: bool, force: bool):
    """Create or update posts from DIRECTORY/*.md and pages from DIRECTORY/pages/*.md (default: posts/)."""
    directory = directory or Path(current_app.config["POSTS_DIR"])
    if not directory.is_dir():
        raise click.ClickException(f"{directory} is not a directory")
    click.echo(f"Importing from {directory}")

    def progress(number: int, total: int, name: str, outcome: str, detail: str) -> None:
        line = f"[{number:>{len(str(total))}}/{total}] {name}: {outcome}"
        if outcome == FAILED:
            click.secho(f"{line} – {detail}", fg="red", err=True)
        elif outcome == SKIPPED:
            click.secho(f"{line} – {detail}", fg="yellow", err=True)
        else:
            click.echo(f"{line} – {detail}" if detail else line)

    report = Importer(
        directory=directory,
        tz=site_timezone(),
        internal_hosts=internal_hosts(),
        is_reserved_path=_is_reserved,
        words_per_minute=current_app.config["WORDS_PER_MINUTE"],
        progress=progress,
        prune=prune,
        force=force,
    ).run()
    for name, reason in report.skipped:
        click.secho(f"Warning: {name} not imported: {reason}", fg="yellow", err=True)
    for name, slug in report.missing:
        click.secho(f"{name} is gone, but /posts/{slug} is still published (--prune makes it a draft)", fg="yellow")
    for name, slug in report.unpublished:
        click.echo(f"{name} is gone: /posts/{slug} is now a draft")
    click.echo(
        f"Done: {len(report.created)} created, {len(report.updated)} updated, "
        f"{len(report.unchanged)} unchanged, {len(report.failed)} failed"
        + (f", {len(report.skipped)} skipped (changed in the browser; --force overwrites)." if report.skipped else ".")
    )
    if not report.ok:
        for name, reason in report.failed:
            click.secho(f"  {name}: {reason}", fg="red", err=True)
        raise SystemExit(1)


@posts.command("export")
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
def export(directory: Path | None):
    """Write every post to DIRECTORY/<slug>.md with front matter that `posts import` reads back (default: posts/)."""
    directory = directory or Path(current_app.config["POSTS_DIR"])
    if directory.exists() and not directory.is_dir():
        raise click.ClickException(f"{directory} is not a directory")
    report = export_posts(directory, site_timezone())
    for name, slug in report.written:
        click.echo(f"wrote {name} (/posts/{slug})")
    click.echo(f"Done: {len(report.written)} written, {len(report.unchanged)} unchanged, in {directory}.")
