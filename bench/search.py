"""Benchmark: full-text search over 20,000 posts and 100,000 comments.

    .venv/bin/python bench/search.py [--posts 20000] [--comments-per-post 5] [--queries 200] [--data DIR]

Generates the corpus like `flask demo generate` (skipped when --data points at a data directory
that already has one), rebuilds the index like `flask search rebuild` (documents per second,
index size), then times 200 mixed reader queries through `index.search` and through
`GET /search` (p50 / p95 ms), a few staff searches and similar-answer lookups, and single-comment
index updates as services make them after a commit (p50 / p95 / max ms).
"""
import argparse
import multiprocessing
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

# bench/queue.py would shadow the standard library's queue module (multiprocessing needs it).
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app import create_app  # noqa: E402
from app.demo.generate import generate  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import Category, Comment, CommentStatus, Post, Role, User  # noqa: E402
from app.search import index  # noqa: E402

WORDS = ["Glasfaser", "Router", "Störung", "Stoerung", "Datenschutz", "Kundenportal", "Techniker", "Termin",
         "WLAN", "Hotline", "Rechnung", "Vertrag", "Netzneutralität", "Netzneutralitaet", "Umzug", "Passwort",
         "Mobilfunk", "Wartungsarbeiten", "Geschwindigkeit", "Anschluss", "Anschlüsse", "Kommentare", "Update",
         "Sicherheit", "Kabel", "Recycling", "Energie", "Latenz", "Streaming", "Phishing", "Roaming", "Abend",
         "langsam", "Kosten", "Familien", "Gästenetz", "Transparenz", "Ausbau", "Gemeinden", "Zahlen"]
PHRASES = ['"Router neu starten"', '"im Kundenportal"', '"Techniker-Termin"', '"volle Geschwindigkeit"',
           '"Glasfaser im Altbau"']
TYPOS = ["Glasfasr", "Ruoter", "Stoerumg", "Datenshutz", "Kundenprotal", "Technikre"]
ODD = ["AND OR NOT", '(("* ? ~ :', "x" * 1000, "東京 インターネット", "router\x00update", "die und der", "zzzqqq",
       "network outages report"]


def queries(rng: random.Random, n: int, categories: list[str]) -> list[tuple[str, dict]]:
    """A mix: single words, pairs, phrases, typos, odd input; some with filters, date order, later pages."""
    out = []
    for i in range(n):
        roll = rng.random()
        if roll < 0.35:
            q = rng.choice(WORDS)
        elif roll < 0.6:
            q = " ".join(rng.sample(WORDS, 2))
        elif roll < 0.72:
            q = rng.choice(PHRASES)
        elif roll < 0.84:
            q = rng.choice(TYPOS)
        elif roll < 0.92:
            q = rng.choice(ODD)
        else:
            q = " ".join(rng.sample(WORDS, 3))
        options = {}
        if i % 5 == 1:
            options["kind"] = rng.choice(["posts", "comments", "official"])
        if i % 7 == 2:
            options["category"] = rng.choice(categories)
        if i % 4 == 3:
            options["sort"] = "date"
        if i % 6 == 4:
            options["page"] = rng.choice([2, 3, 10, 500])
        out.append((q, options))
    return out


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(p / 100 * len(values)) - 1))]


def line(label: str, times: list[float]) -> str:
    return (f"{label:<40}{len(times):>6}{statistics.median(times):>10.1f}{pct(times, 95):>10.1f}"
            f"{max(times):>10.1f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=20_000)
    parser.add_argument("--comments-per-post", type=int, default=5)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--data", help="data directory to use (and keep); a generated corpus there is reused")
    args = parser.parse_args()
    data = Path(args.data) if args.data else Path(tempfile.mkdtemp(prefix="dialog-search-"))
    try:
        run(args, data)
    finally:
        if not args.data:  # a temporary corpus (about 300 MB with its index) is not kept
            shutil.rmtree(data, ignore_errors=True)


def run(args, data: Path) -> None:
    app = create_app({"DATA_DIR": str(data), "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False})
    if "search" not in app.blueprints:  # until the owner registers it in create_app
        from app.search.routes import bp

        app.register_blueprint(bp)
    rng = random.Random(5)
    with app.app_context():
        db.create_all()
        if not db.session.scalar(select(func.count()).select_from(Post)):
            # A moderator, so that the generator writes official answers (about 6 % of comments).
            db.session.add(User(username="anna", display_name="Anna Seidel", role=Role.MODERATOR,
                                email="anna@example.org"))
            db.session.commit()
            started = time.perf_counter()
            generate(posts=args.posts, comments_per_post=args.comments_per_post, pending=args.posts // 20, seed=5)
            print(f"generated in {time.perf_counter() - started:.0f} s")
        posts = db.session.scalar(select(func.count()).select_from(Post))
        comments = db.session.scalar(select(func.count()).select_from(Comment))
        print(f"corpus: {posts:,} posts, {comments:,} comments, data in {data}")

        summary = index.rebuild()
        print(f"rebuild: {summary.documents:,} documents ({summary.posts:,} posts, {summary.comments:,} approved "
              f"comments, {summary.staff_comments:,} in the staff index) in {summary.seconds:.1f} s = "
              f"{summary.per_second:,.0f} documents/s; index size {summary.size_bytes / 1e6:.1f} MB")

        categories = list(db.session.scalars(select(Category.slug)))
        mix = queries(rng, args.queries, categories)
        index.search("Glasfaser")  # open the searcher once, as a running worker has
        print(f"{'':<40}{'n':>6}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}")
        times, found = [], 0
        for q, options in mix:
            started = time.perf_counter()
            results = index.search(q, lang="de", **options)
            times.append((time.perf_counter() - started) * 1000)
            assert results.state == "ok", (q, results.state)
            found += bool(results.total)
        print(line("index.search, mixed queries", times) + f"   ({found} of {len(mix)} found something)")

        client = app.test_client()
        times = []
        for q, options in mix:
            started = time.perf_counter()
            response = client.get("/search", query_string={"q": q, **options})
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == (400 if "\x00" in q else 200), (q, response.status_code)
        print(line("GET /search, same queries", times))

        times = []
        for q in rng.sample(WORDS, 20):
            started = time.perf_counter()
            index.staff_search(q)
            times.append((time.perf_counter() - started) * 1000)
        print(line("staff_search", times))

        pending = list(db.session.scalars(
            select(Comment.id).where(Comment.status == CommentStatus.PENDING).limit(20)))
        times = []
        for cid in pending:
            started = time.perf_counter()
            index.similar_answered(cid)
            times.append((time.perf_counter() - started) * 1000)
        print(line("similar_answered (pending comments)", times))

        approved = list(db.session.scalars(select(Comment.id).where(Comment.status == CommentStatus.APPROVED)
                                           .order_by(func.random()).limit(110)))
        times, after = [], []
        for cid in approved[:50]:
            started = time.perf_counter()
            index.refresh(comments=[cid])
            times.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            index.search("Router Termin")  # the first search after a change opens the index afresh
            after.append((time.perf_counter() - started) * 1000)
        print(line("refresh, one comment (commit)", times))
        print(line("first search after a refresh", after))
        post_ids = list(db.session.scalars(select(Post.id).order_by(func.random()).limit(20)))
        times = []
        for pid in post_ids:
            started = time.perf_counter()
            index.refresh(posts=[pid])
            times.append((time.perf_counter() - started) * 1000)
        print(line("refresh, one post (text unchanged)", times))
        print(f"index after updates: {index.status()['size_bytes'] / 1e6:.1f} MB")

        # Two processes (like two gunicorn workers) each refreshing 30 comments at the same time.
        context = multiprocessing.get_context("fork")
        barrier, errors = context.Barrier(2), context.Queue()
        started = time.perf_counter()
        workers = [context.Process(target=_worker, args=(data, approved[50 + 30 * w:80 + 30 * w], barrier, errors))
                   for w in range(2)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        seconds = time.perf_counter() - started
        problems = []
        while not errors.empty():
            problems.append(errors.get())
        print(f"2 processes x 30 concurrent single-comment refreshes: {seconds:.1f} s, exit codes "
              f"{[w.exitcode for w in workers]}, errors {len(problems)}, still queued {index.status()['pending']}")


def _worker(data: Path, ids: list[int], barrier, errors) -> None:
    import logging

    class Collect(logging.Handler):
        def emit(self, record):
            if record.levelno >= logging.WARNING:
                errors.put(record.getMessage())

    logging.getLogger("app.search").addHandler(Collect())
    app = create_app({"DATA_DIR": str(data), "SECRET_KEY": "bench"})
    with app.app_context():
        barrier.wait()
        for cid in ids:
            index.refresh(comments=[cid])


if __name__ == "__main__":
    main()
