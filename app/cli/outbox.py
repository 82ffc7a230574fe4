"""`flask --app wsgi outbox drain|status`: the work that follows changes (index updates, mail)."""
import time

import click
from flask.cli import AppGroup

from app import outbox as work
from app.extensions import db

outbox = AppGroup("outbox", help="Index updates and mails that follow changes.")


@outbox.command("drain")
@click.option("--watch", is_flag=True, help="Keep draining every --interval seconds (a drainer process).")
@click.option("--interval", default=1.0, show_default=True, help="Seconds between rounds with --watch.")
def drain(watch, interval):
    """Apply what is due: index updates left by requests or a crash, and mail to send."""
    while True:
        result = work.drain()
        if result.tasks or result.mails_sent or result.mails_failed or not watch:
            click.echo(f"Applied {result.tasks} index task(s); sent {result.mails_sent} mail(s), "
                       f"{result.mails_failed} failed (retried later).")
        if not watch:
            return
        db.session.remove()
        time.sleep(interval)


@outbox.command("status")
def status():
    """How much work waits (index tasks not applied, mails not sent)."""
    from sqlalchemy import func, select

    from app.models import OutboxMail

    mails = db.session.scalar(select(func.count()).select_from(OutboxMail).where(OutboxMail.sent_at.is_(None)))
    click.echo(f"{work.pending()} index task(s) and {mails} unsent mail(s) waiting.")
