import click
from flask import current_app
from flask.cli import AppGroup

from app.moderation import digest as digests

moderation = AppGroup("moderation", help="The moderation team: digests, privacy requests, the local classifier.")


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


@moderation.command("train")
@click.option("--min-samples", type=int, default=None,
              help="Labelled comments needed per class (default 20); fewer: that model is not trained.")
def train(min_samples):
    """Train the local classifier (spam score, suggested topic) on the team's decisions, on this server."""
    from app.moderation import classifier

    result = classifier.train(min_samples=min_samples)
    if result.busy:
        raise click.ClickException("Another process is training the classifier right now; try again in a minute.")
    for row in result.trained:
        m = row.metrics
        click.echo(f"{row.kind} model #{row.id}: {row.samples} comments, {m.get('seconds', 0)} s")
        if row.kind == classifier.SPAM:
            click.echo(f"  {m['spam']} spam, {m['not_spam']} not spam; held out {m.get('held_out', 0)}: "
                       f"precision {m.get('precision', 0):.1%}, recall {m.get('recall', 0):.1%}, "
                       f"F1 {m.get('f1', 0):.1%} (score ≥ 0.5)")
            at = m.get("at_threshold") or {}
            if at:
                click.echo(f"  at the threshold {at['threshold']}: precision {at['precision']:.1%}, "
                           f"recall {at['recall']:.1%}")
        else:
            per = ", ".join(f"{t} {n}" for t, n in m.get("per_topic", {}).items())
            click.echo(f"  per topic: {per}; held out {m.get('held_out', 0)}: accuracy {m.get('accuracy', 0):.1%}, "
                       f"macro-F1 {m.get('macro_f1', 0):.1%}")
            recall = ", ".join(f"{t} {v:.0%}" for t, v in m.get("accuracy_per_topic", {}).items())
            if recall:
                click.echo(f"  recognised per topic: {recall}")
            if m.get("left_out"):
                click.echo(f"  left out (too few examples): {', '.join(m['left_out'])}")
    for message in result.too_little.values():
        click.secho(f"Too little data: {message}. Nothing stored for it.", fg="yellow", err=True)
    if not result.ok:
        raise SystemExit(1)
