"""Side effects that must follow a change, through a transactional outbox.

A change writes what has to follow it into the same transaction as itself: `index(...)` adds an
`OutboxTask` (these comments and posts changed), `mail.queue(...)` an `OutboxMail`. Nothing is
lost between the commit and the side effect, whatever crashes in between.

After the commit, `settle()` applies the request's own index tasks once (deferred to the end of
the request, so a bulk action is one index write): whatever readers may see changes before the
response, so the moderator and the reader see their change at once. Tasks that only the staff
index needs (a new pending comment) are left to the drainer, which batches them (within a
second); mail is always left to it, so no request ever waits for a mail server.

The drainer (`drain()`) claims due work with a lease, so several processes can run it: a thread
per app server process (started with the app when `OUTBOX_DRAINER = "thread"`), and
`flask --app wsgi outbox drain [--watch]` for a separate process or cron. It also finishes what
a process left when it died.
"""
import logging
import os
import threading
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

try:  # Unix: one drainer per machine; elsewhere each process drains (leases keep it correct)
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None

from flask import Flask, current_app, g, has_request_context
from sqlalchemy import delete, event, func, inspect as sa_inspect, select, update

from app import mail
from app.extensions import db
from app.models import OutboxTask, utcnow
from app.search import index as search

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)  # a claimed task not finished by then is anybody's again
KEEP_DONE = timedelta(days=1)
_ADDED = "dialog.outbox_added"


def index(*, comments=(), posts=(), urgent: bool = True) -> None:
    """Note that the index must follow these rows (the caller commits). `urgent`: readers may see
    the change, so the request applies it before answering; otherwise the drainer does soon."""
    comments, posts = sorted({int(c) for c in comments}), sorted({int(p) for p in posts})
    if not comments and not posts:
        return
    added = db.session.info.setdefault(_ADDED, {})
    task = added.get(urgent)  # one task per transaction and urgency: a bulk action is one index write
    if task is None or task not in db.session:
        task = added[urgent] = OutboxTask(kind="index", payload={"comments": [], "posts": []}, urgent=urgent)
        db.session.add(task)
    task.payload = {"comments": sorted(set(task.payload["comments"]) | set(comments)),
                    "posts": sorted(set(task.payload["posts"]) | set(posts))}


def settle(*, now: bool = False) -> None:
    """After a commit: apply this transaction's urgent tasks (at the end of the request, once; `now`:
    at once) and wake the drainer if there is mail to send. The rest (the staff index) waits for
    the drainer's next round, within a second, so that many comments make one index write."""
    added = db.session.info.pop(_ADDED, {})
    # The identity key holds the id without a query (the commit expired the object).
    ids = [key[0] for urgent, task in added.items() if urgent and (key := sa_inspect(task).identity)]
    if has_request_context() and not now:
        g.setdefault("outbox_ids", []).extend(ids)
    else:
        _apply(ids + (g.pop("outbox_ids", []) if has_request_context() else []))
    if db.session.info.pop(mail.QUEUED, False):
        _wake()


def after_request(response):
    """The end of a request: its urgent index tasks, in one write."""
    ids = g.pop("outbox_ids", None)
    if ids:
        _apply(ids)
    return response


@dataclass
class Drained:
    tasks: int = 0
    mails_sent: int = 0
    mails_failed: int = 0


def drain(limit: int = 500) -> Drained:
    """Apply every due task and send due mail (what requests left, what a crash left). Never raises."""
    result = Drained()
    try:
        ids = list(db.session.scalars(
            select(OutboxTask.id).where(OutboxTask.done_at.is_(None),
                                        (OutboxTask.lease_until.is_(None)) | (OutboxTask.lease_until < utcnow()))
            .order_by(OutboxTask.id).limit(limit)))
        result.tasks = _apply(ids)
        _tidy()
    except Exception:  # the drainer goes on; the tasks stay for the next round
        db.session.rollback()
        log.exception("outbox: applying tasks failed")
    try:  # response-target warnings and breaches (at most every 30 s per process): mails and webhooks
        from app.moderation import target_alerts  # here: the moderation services import this module

        target_alerts.maybe_check()
    except Exception:
        db.session.rollback()
        log.exception("outbox: checking response targets failed")
    try:
        result.mails_sent, result.mails_failed = mail.send_due(limit)
    except Exception:
        db.session.rollback()
        log.exception("outbox: sending mail failed")
    try:  # webhooks: claimed with a lease, retried with back-off (app/webhooks/service.py)
        from app.webhooks import service as webhooks

        webhooks.deliver_due()
    except Exception:
        db.session.rollback()
        log.exception("outbox: delivering webhooks failed")
    try:  # the local classifier learns again after every CLASSIFIER_RETRAIN_EVERY team decisions
        from app.moderation import classifier  # here: the moderation services import this module

        classifier.retrain_if_due()
    except Exception:
        db.session.rollback()
        log.exception("outbox: retraining the classifier failed")
    return result


def last_task_id() -> int:
    """The newest task's id (0: none): what a rebuild of the index about to start will cover."""
    return db.session.scalar(select(func.max(OutboxTask.id))) or 0


def covered_by_rebuild(up_to: int) -> int:
    """Mark index tasks up to `up_to` done: a rebuild that started after they were committed read
    their rows from the database (a large import rebuilds instead of applying 2,000 tasks)."""
    done = db.session.execute(
        update(OutboxTask).where(OutboxTask.kind == "index", OutboxTask.id <= up_to, OutboxTask.done_at.is_(None))
        .values(done_at=utcnow(), lease_until=None).execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    return done


def pending() -> int:
    """Tasks not applied yet (for `search status` and monitoring)."""
    return db.session.scalar(select(func.count()).select_from(OutboxTask).where(OutboxTask.done_at.is_(None))) or 0


def _apply(ids: list[int]) -> int:
    """Claim these tasks (a lease: nobody else applies them meanwhile), apply them in one go, mark them done."""
    if not ids:
        return 0
    now = utcnow()
    lease = now + LEASE  # also tells this claim's rows from another process's
    claimed = db.session.execute(
        update(OutboxTask).where(OutboxTask.id.in_(ids), OutboxTask.done_at.is_(None),
                                 (OutboxTask.lease_until.is_(None)) | (OutboxTask.lease_until < now))
        .values(lease_until=lease, attempts=OutboxTask.attempts + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if not claimed:
        return 0
    tasks = db.session.scalars(select(OutboxTask).where(OutboxTask.id.in_(ids), OutboxTask.done_at.is_(None),
                                                        OutboxTask.lease_until == lease)).all()
    comments, posts = set(), set()
    for task in tasks:
        comments.update(task.payload.get("comments", ()))
        posts.update(task.payload.get("posts", ()))
    # refresh() never raises: what it cannot apply it queues in the index's own pending list.
    search.refresh(posts=posts, comments=comments)
    db.session.execute(update(OutboxTask).where(OutboxTask.id.in_([t.id for t in tasks]))
                       .values(done_at=utcnow(), lease_until=None).execution_options(synchronize_session=False))
    db.session.commit()
    return len(tasks)


def _tidy() -> None:
    """Done tasks are kept a day (to look into), then removed."""
    db.session.execute(delete(OutboxTask).where(OutboxTask.done_at < utcnow() - KEEP_DONE)
                       .execution_options(synchronize_session=False))
    db.session.commit()


# --- the drainer thread ---------------------------------------------------------------------------

class _Drainer:
    """A thread in each app server process; one of them at a time (a file lock in the data dir)
    drains, every POLL seconds and at once when woken, so the workers of one machine do not fight
    over the index lock. Should that process die, another takes over at its next round."""

    def __init__(self, app: Flask):
        self.app, self.pid, self.wake = app, os.getpid(), threading.Event()
        self.poll = float(app.config["OUTBOX_POLL_SECONDS"])
        self.lock_path = Path(app.config["DATA_DIR"]) / "outbox.lock"
        self.lock = None
        self.thread = threading.Thread(target=self._run, name="outbox-drainer", daemon=True)
        self.thread.start()

    def alive(self) -> bool:
        return self.pid == os.getpid() and self.thread.is_alive()

    def _leading(self) -> bool:
        if self.lock is not None or fcntl is None:
            return True
        handle = open(self.lock_path, "a")  # noqa: SIM115 – held open for the life of the process
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self.lock = handle
        return True

    def _run(self) -> None:
        while True:
            self.wake.wait(self.poll)
            self.wake.clear()
            if not self._leading():
                continue
            with self.app.app_context():
                try:
                    drain()
                finally:
                    db.session.remove()


@event.listens_for(db.session, "after_rollback")
def _forget_rolled_back(session):
    """Tasks and mails of a transaction that never committed are gone with it."""
    session.info.pop(_ADDED, None)
    session.info.pop(mail.QUEUED, None)


def init_app(app: Flask) -> None:
    """Run the request's own tasks at its end; start the drainer thread when configured."""
    app.after_request(after_request)
    if app.config.get("OUTBOX_DRAINER") == "thread":
        @app.before_request
        def ensure_drainer():  # started lazily, and again in a forked worker (threads do not survive fork)
            drainer = app.extensions.get("dialog.drainer")
            if drainer is None or not drainer.alive():
                app.extensions["dialog.drainer"] = _Drainer(app)


def _wake() -> None:
    drainer = current_app.extensions.get("dialog.drainer")
    if drainer is not None:
        drainer.wake.set()
