"""Benchmark: the moderation queue with a long backlog.

    .venv/bin/python bench/queue.py [--pending 10000] [--runs 20]

Generates 100,000 comments of which N are pending (and about half the readers' comments wait
for an answer), then times the queue views a moderator uses, with their SQL statement counts.
"""
import argparse
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import event, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app import create_app
from app.demo.generate import generate
from app.extensions import db
from app.models import Role, User
from app.users import sessions


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pending", type=int, default=10_000)
    parser.add_argument("--comments", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="dialog-queue-"))
    app = create_app({"DATA_DIR": str(data), "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False})
    with app.app_context():
        db.create_all()
        moderator = User(username="anna", display_name="Anna Seidel", role=Role.MODERATOR, email="anna@example.org")
        db.session.add(moderator)
        db.session.commit()
        generate(posts=args.comments // 50, comments_per_post=50, pending=args.pending, seed=5)
        user = db.session.scalar(select(User).where(User.username == "anna"))
        cookie_id = f"{user.id}:{sessions.start(user, lifetime=timedelta(hours=1))}"  # as after the login form
        db.session.commit()
        engine = db.engine
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = cookie_id
        session["_fresh"] = True

    print(f"{args.comments:,} comments, {args.pending:,} pending")
    print(f"{'view':<44}{'queries':>8}{'median ms':>11}{'p95 ms':>9}")
    for label, url in [
        ("pending, oldest first (page 1)", "/moderation/"),
        ("pending, page 200", "/moderation/?page=200"),
        ("needs answer", "/moderation/?view=needs_answer"),
        ("over the response target", "/moderation/?view=needs_answer&breaching=1"),
        ("grouped by post", "/moderation/?view=needs_answer&group=1"),
        ("search 'router'", "/moderation/?view=all&q=router"),
        ("stats, 8 weeks", "/moderation/stats"),
    ]:
        count = 0

        def before(*_a):
            nonlocal count
            count += 1

        event.listen(engine, "before_cursor_execute", before)
        first = client.get(url)
        assert first.status_code == 200, (url, first.status_code, first.headers.get("Location"))
        event.remove(engine, "before_cursor_execute", before)
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        print(f"{label:<44}{count:>8}{statistics.median(times):>11.1f}{times[int(len(times) * 0.95) - 1]:>9.1f}")


if __name__ == "__main__":
    main()
