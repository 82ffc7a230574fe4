"""`flask --app wsgi import wordpress|disqus FILE.xml`: moving in from another blog, and
`flask --app wsgi redirects list`: the old addresses that lead to the new ones."""
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click
from flask import current_app
from flask.cli import AppGroup

from app import outbox
from app.cli.posts import _is_reserved
from app.cli.search import rebuild_with_progress
from app.i18n import site_timezone
from app.imports import disqus, old_links, wordpress, wxr
from app.imports.report import Report
from app.urls import internal_hosts

imports = AppGroup("import", help="Move in from another blog: a WordPress (WXR) or Disqus export.")
redirects = AppGroup("redirects", help="Old addresses that answer 301 to where their content is now.")


def _pairs(values: tuple[str, ...], option: str) -> dict[str, str]:
    pairs = {}
    for value in values:
        old, sep, new = value.partition("=")
        if not sep or not old.strip() or not new.strip():
            raise click.BadParameter(f"{value!r} is not OLD=NEW", param_hint=option)
        pairs[old.strip()] = new.strip()
    return pairs


def _bar(path: Path, label: str):
    return click.progressbar(length=max(path.stat().st_size, 1), label=label, show_percent=True, show_eta=True,
                             file=sys.stderr)


NO_INDEX = click.option("--no-index", "no_index", is_flag=True,
                        help="Leave the search index to the outbox drainer (e.g. a Disqus import follows).")


def _finish(report: Report, started: float, no_index: bool = False) -> None:
    click.echo(f"Imported in {time.monotonic() - started:.1f} s.")
    for line in report.lines():
        click.echo(f"  {line}")
    for kind, source_id, what in report.warnings[:200]:
        click.secho(f"  note: {kind} {source_id}: {what}", fg="yellow", err=True)
    if len(report.warnings) > 200:
        click.secho(f"  … and {len(report.warnings) - 200} more notes", fg="yellow", err=True)
    shown = [s for s in report.skipped if not s[2].startswith(("pingbacks", "post type"))]
    for kind, source_id, reason in shown[:200]:
        click.secho(f"  skipped: {kind} {source_id}: {reason}", fg="yellow", err=True)
    for kind, source_id, reason in report.failed:
        click.secho(f"  failed: {kind} {source_id}: {reason}", fg="red", err=True)
    if no_index:
        click.echo(f"Search index: {outbox.pending()} task(s) wait for the drainer "
                   "(the running site, or `flask --app wsgi outbox drain`).")
    else:
        _index(report)

    if not report.ok:
        raise SystemExit(1)


REBUILD_ABOVE = 5_000  # rows imported: above, building the index anew is faster than applying each change
# Per writer process during the import's rebuild: the whole command stays under 300 MB (the default,
# 256 MB per writer, makes a 94,000-document rebuild peak at 440 MB, and it is no faster).
INDEX_MEMORY_MB = 96


def _index(report: Report) -> None:
    """Search follows the import: the outbox's index tasks applied now; after a large import (or
    without a usable index, e.g. a new install) the index is built anew from the database instead."""
    from app.search import index

    started = time.monotonic()
    imported = sum(n for kind, n in (report.created + report.updated).items() if kind.split(":")[0] in
                   ("post", "page", "comment"))
    info = index.status()
    if imported > REBUILD_ABOVE or not info.get("available") or info.get("pending"):
        up_to = outbox.last_task_id()
        config, key = current_app.config, "SEARCH_REBUILD_MEMORY_MB"
        before = config.get(key)
        config[key] = min(int(before or INDEX_MEMORY_MB), INDEX_MEMORY_MB)
        try:
            summary = rebuild_with_progress(file=sys.stderr)
        finally:
            if before is None:
                config.pop(key)
            else:
                config[key] = before
        outbox.covered_by_rebuild(up_to)
        click.echo(f"Search index built in {time.monotonic() - started:.1f} s ({summary.documents:,} documents).")
        return
    tasks = 0
    while done := outbox.drain(limit=200).tasks:
        tasks += done
    click.echo(f"Search index updated in {time.monotonic() - started:.1f} s ({tasks} tasks).")


@imports.command("wordpress")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--map-author", "map_author", multiple=True, metavar="OLD=NEW",
              help="Posts and comments of WordPress user OLD belong to our user NEW (repeatable).")
@click.option("--media", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="A copy of wp-content/uploads: images are copied into our library and links rewritten.")
@click.option("--pingbacks", is_flag=True, help="Keep pingbacks and trackbacks (as mentions, not comments).")
@click.option("--force", is_flag=True, help="Also overwrite posts changed in Dialog since their import.")
@click.option("--timezone", "tz_name", metavar="ZONE", help="The old site's time zone (default: the site's).")
@click.option("--jobs", type=click.IntRange(1, 16), help="Processes that prepare comments (default: by size).")
@NO_INDEX
def import_wordpress(file: Path, map_author, media, pingbacks, force, tz_name, jobs, no_index):
    """Import a WordPress export (Tools › Export › All content): authors, categories, tags, posts,
    pages, comments with their threads, and the old addresses."""
    options = wordpress.Options(
        tz=_zone(tz_name), secret=current_app.config["SECRET_KEY"], internal_hosts=internal_hosts(),
        map_author=_pairs(map_author, "--map-author"), media=media, pingbacks=pingbacks, force=force,
        words_per_minute=current_app.config["WORDS_PER_MINUTE"], is_reserved_path=_is_reserved, jobs=jobs)
    started = time.monotonic()
    with _bar(file, "Importing") as bar:
        try:
            report = wordpress.WordPressImport(file, options, progress=bar.update).run()
        except wxr.ExportError as exc:
            raise click.ClickException(f"{file}: {exc}") from None
    _finish(report, started, no_index)


@imports.command("disqus")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--map-url", "map_url", multiple=True, metavar="OLD_PREFIX=NEW_PREFIX",
              help="Read thread links starting with OLD_PREFIX as starting with NEW_PREFIX (a changed domain).")
@NO_INDEX
def import_disqus(file: Path, map_url, no_index):
    """Import a Disqus export: threads are matched to posts by their link or identifier."""
    started = time.monotonic()
    with _bar(file, "Importing") as bar:
        try:
            report = disqus.DisqusImport(file, secret=current_app.config["SECRET_KEY"],
                                         internal_hosts=internal_hosts(), map_url=_pairs(map_url, "--map-url"),
                                         progress=bar.update).run()
        except wxr.ExportError as exc:
            raise click.ClickException(f"{file}: {exc}") from None
    _finish(report, started, no_index)


def _zone(name: str | None):
    if not name:
        return site_timezone()
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise click.BadParameter(f"{name!r} is not a time zone (e.g. Europe/Berlin)", param_hint="--timezone") from None


@redirects.command("list")
@click.option("--origin", help="Only those of one import (e.g. wordpress:alt.example.de).")
def list_redirects(origin: str | None):
    """Every old path and where it leads (imported from WordPress, or a slug changed here)."""
    rows = old_links.listing(origin)
    for old, new, source in rows:
        click.echo(f"{old}\t{new}\t{source or 'dialog'}")
    click.echo(f"{len(rows)} redirects.", err=True)
