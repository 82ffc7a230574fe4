from datetime import timedelta

import click
from flask import current_app
from flask.cli import AppGroup

from app import outbox
from app.comments import service
from app.extensions import db
from app.models import Comment, utcnow
from app.moderation import service as moderation

comments = AppGroup("comments", help="Reader comments.")


@comments.command("approve")
@click.argument("comment_ids", nargs=-1, type=int, required=True)
def approve(comment_ids):
    """Approve comments by id (for scripts; staff use the moderation queue)."""
    if not current_app.config.get("SITE_URL"):
        click.secho("Note: BLOG_SITE_URL is not set; links in notification mails will point to "
                    "http://127.0.0.1:5000.", fg="yellow", err=True)
    failed = False
    for comment_id in comment_ids:
        comment = db.session.get(Comment, comment_id)
        if comment is None:
            click.secho(f"comment {comment_id}: not found", fg="red", err=True)
            failed = True
            continue
        try:
            moderation.approve(comment, reason="approved from the command line")
        except moderation.ModerationError as exc:
            click.secho(f"comment {comment_id}: {exc}", fg="red", err=True)
            failed = True
            continue
        click.echo(f"comment {comment_id}: approved")
    outbox.drain()  # no app server's drainer here: send the notifications the approvals caused now
    if failed:
        raise SystemExit(1)


@comments.command("anonymize")
@click.option("--days", type=int, default=None, help="Retention in days (default: IP_HASH_RETENTION_DAYS).")
def anonymize(days):
    """Clear the IP hashes of comments and reports older than the retention period."""
    days = current_app.config["IP_HASH_RETENTION_DAYS"] if days is None else days
    comments_cleared, reports_cleared = service.anonymize(utcnow() - timedelta(days=days))
    click.echo(f"Cleared the IP hash of {comments_cleared} comment(s) older than {days} days.")
    click.echo(f"Cleared the IP hash of {reports_cleared} report(s) older than {days} days.")
