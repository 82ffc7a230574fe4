import click
from flask.cli import AppGroup

from app import mail as outbox

mail = AppGroup("mail", help="The outgoing mail queue.")


@mail.command("send-pending")
@click.option("--limit", default=500, show_default=True, help="At most this many mails per run.")
@click.option("--retry-interrupted", is_flag=True,
              help="Also send mails whose sending was interrupted (they may arrive twice).")
def send_pending(limit, retry_interrupted):
    """Send what is due in the outbox (the app server's drainer does it too; cron for safety)."""
    sent, failed = outbox.send_pending(limit, retry_interrupted=retry_interrupted)
    click.echo(f"Sent {sent} mail(s); {failed} failed and will be retried.")
    if failed:
        raise SystemExit(1)
