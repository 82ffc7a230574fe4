"""`flask --app wsgi search rebuild|status`: the full-text index."""
import click
from flask.cli import AppGroup

from app import outbox

search = AppGroup("search", help="The full-text search index.")


def rebuild_with_progress(**bar_options):
    """`index.rebuild` with a progress bar (also after a large import: app/cli/imports.py)."""
    from app.search import index

    with click.progressbar(length=1, label="Indexing", show_pos=True, **bar_options) as bar:
        def progress(done: int, total: int) -> None:
            bar.length = max(total, 1)
            bar.update(done - bar.pos)

        try:
            return index.rebuild(progress)
        except index.RebuildRunning as exc:
            raise click.ClickException(str(exc)) from None


@search.command("rebuild")
def rebuild():
    """Build the search index from the database (the live index keeps answering meanwhile)."""
    summary = rebuild_with_progress()
    click.echo(f"Indexed {summary.posts:,} posts and {summary.comments:,} approved comments for readers, "
               f"{summary.staff_comments:,} comments for staff: {summary.documents:,} documents in "
               f"{summary.seconds:.1f} s ({summary.per_second:,.0f} per second), "
               f"{summary.size_bytes / 1_000_000:.1f} MB in {summary.location}.")
    if summary.replayed:
        click.echo(f"Applied {summary.replayed} change(s) made during the rebuild.")


@search.command("status")
def status():
    """Show the live index: documents, size, changes waiting to be applied."""
    from app.search import index

    info = index.status()
    if not info["available"]:
        click.echo(f"No usable search index in {info['location']}"
                   f"{' (a rebuild is running)' if info['rebuilding'] else ''}; "
                   "run: flask --app wsgi search rebuild")
        if info["pending"]:
            click.echo(f"{info['pending']} change(s) wait for it; {outbox.pending()} in the outbox.")
        raise SystemExit(1)
    click.echo(f"{info['generation']} in {info['location']}: {info['reader_documents']:,} reader documents, "
               f"{info['staff_documents']:,} staff documents, {info['size_bytes'] / 1_000_000:.1f} MB"
               f"{', rebuilding' if info['rebuilding'] else ''}; {info['pending']} change(s) queued"
               f" in the index, {outbox.pending()} in the outbox.")
