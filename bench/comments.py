"""Benchmark: bulk generation and reading long threads.

    .venv/bin/python bench/comments.py [--comments 100000]

1. `demo generate`-style bulk load of N comments (default 100,000 on 2,000 posts) into a fresh
   SQLite database, timed.
2. The post page, the JSON API and the comment feed of a post with 10 and with 1,000 approved
   comments: SQL statements per request and median time over 30 requests, in one run, so the
   ratio (not the absolute figure on a shared machine) is what to compare.
"""
import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import event, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app import create_app
from app.demo.generate import generate
from app.extensions import db
from app.models import Post


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--comments", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="dialog-bench-"))
    app = create_app({"DATA_DIR": str(data), "SECRET_KEY": "bench", "COMMENT_RATE_LIMIT": ""})
    with app.app_context():
        db.create_all()
        posts = max(1, args.comments // 50)
        started = time.perf_counter()
        generate(posts=posts, comments_per_post=50, pending=min(1000, args.comments // 100), seed=1)
        bulk = time.perf_counter() - started
        print(f"bulk generate: {args.comments:,} comments on {posts:,} posts in {bulk:.1f} s "
              f"({args.comments / bulk:,.0f} comments/s)")
        small = _post_with(10, seed=2)
        large = _post_with(1000, seed=3)

    client = app.test_client()
    print(f"{'request':<34}{'comments':>9}{'queries':>9}{'median ms':>11}")
    results = {}
    for label, path in [("post page", "/posts/{slug}"), ("JSON API", "/api/v1/posts/{slug}/comments"),
                        ("comment feed", "/posts/{slug}/comments.atom")]:
        for n, slug in ((10, small), (1000, large)):
            url = path.format(slug=slug)
            queries = _count_queries(app, client, url)
            times = []
            for _ in range(args.runs):
                t = time.perf_counter()
                assert client.get(url).status_code == 200
                times.append((time.perf_counter() - t) * 1000)
            results[(label, n)] = statistics.median(times)
            print(f"{label:<34}{n:>9}{queries:>9}{results[(label, n)]:>11.1f}")
    for label in ("post page", "JSON API"):
        print(f"{label}: 1,000 vs 10 comments = {results[(label, 1000)] / results[(label, 10)]:.1f}x the time")


def _post_with(comments: int, seed: int) -> str:
    generate(posts=1, comments_per_post=comments, pending=0, seed=seed)
    return db.session.scalar(select(Post.slug).order_by(Post.id.desc()).limit(1))


def _count_queries(app, client, url: str) -> int:
    count = 0

    def before(*_args):
        nonlocal count
        count += 1

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", before)
    return count


if __name__ == "__main__":
    main()
