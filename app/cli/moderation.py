import click
from flask import current_app
from flask.cli import AppGroup

from app.moderation import digest as digests

moderation = AppGroup("moderation", help="The moderation team: digests and privacy requests.")


@moderation.command("digest")
@click.option("--dry-run", is_flag=True, help="Show what would be sent; send nothing, change nothing.")
def digest(dry_run):
    """Mail the queue digest to every moderator whose hourly or daily digest is due (run it from cron)."""
    if not current_app.config.get("SITE_URL"):
        click.secho("Note: BLOG_SITE_URL is not set; links in the digests will point to http://127.0.0.1:5000.",
                    fg="yellow", err=True)
    outcomes = digests.run(dry_run=dry_run)
    counts = {}
    for outcome in outcomes:
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
        user = outcome.user
        if outcome.status == "dry_run":
            if outcome.subject:
                click.echo(f"Would send to {user.email} ({user.username}): {outcome.subject}")
                click.echo("\n".join("    " + line if line else "" for line in outcome.body.splitlines()))
            else:
                click.echo(f"Nothing to report for {user.username}; no mail.")
        elif outcome.status == "sent":
            click.echo(f"Sent to {user.email} ({user.username}): {outcome.subject}")
        elif outcome.status == "queued":
            click.secho(f"Not delivered yet to {user.email} ({user.username}); it stays in the outbox for "
                        "`flask mail send-pending`.", fg="yellow", err=True)
        elif outcome.status == "nothing":
            click.echo(f"Nothing to report for {user.username}; no mail.")
        elif outcome.status == "no_address":
            click.secho(f"{user.username} has no e-mail address; no digest.", fg="yellow", err=True)
    if dry_run:
        would = sum(1 for o in outcomes if o.status == "dry_run" and o.subject)
        click.echo(f"Dry run: {would} digest(s) would be sent, {counts.get('dry_run', 0) - would} with nothing to "
                   f"report, {counts.get('not_due', 0)} not due. Nothing was changed.")
    else:
        click.echo(f"Digests: {counts.get('sent', 0)} sent, {counts.get('queued', 0)} waiting in the outbox, "
                   f"{counts.get('nothing', 0)} with nothing to report, {counts.get('not_due', 0)} not due.")
