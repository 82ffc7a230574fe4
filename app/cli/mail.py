import click
from flask.cli import AppGroup

from app import mail as outbox

mail = AppGroup("mail", help="The outgoing mail queue.")


@mail.command("send-pending")
@click.option("--limit", default=500, show_default=True, help="At most this many mails per run.")
def send_pending(limit):
    """Send what is still in the outbox (run it from cron every few minutes)."""
    sent, failed = outbox.send_pending(limit)
    click.echo(f"Sent {sent} mail(s); {failed} failed and will be retried.")
    if failed:
        raise SystemExit(1)
