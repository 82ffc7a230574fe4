"""Benchmark: moving a large WordPress blog in.

    .venv/bin/python bench/imports.py [--posts 2000] [--comments 50000] [--seed 1] [--keep]

Writes a synthetic WXR (bench/wxr_generator.py: 2,000 posts, 50,000 threaded comments, real WXR
shape) into a fresh data dir with an empty search index (as `make run` leaves one), then runs the
real command twice, each in its own process, timed from outside:

1. `flask import wordpress FILE`: the import with its search-index step. Wall time, the import's
   own figure and the index step's (both printed by the command), and the peak resident memory of
   the command and of its largest child process (a worker or an index writer), from getrusage.
2. the same command again: idempotence (nothing created) and how long an unchanged export takes.

Then it checks that the stored comments per status equal the generator's counts. Targets (issue
12): the first run under 2 minutes, memory under 300 MB.
"""
import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))

from bench import wxr_generator  # noqa: E402

FLASK = [str(ROOT / ".venv" / "bin" / "flask"), "--app", "wsgi"]


def _run(args: list[str], env: dict) -> tuple[float, int, str]:
    """(seconds, peak RSS in MB of the largest process it ran, output)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.monotonic()
    done = subprocess.run(FLASK + args, env=env, cwd=ROOT, capture_output=True, text=True)
    seconds = time.monotonic() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if done.returncode not in (0, 1):
        sys.exit(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return seconds, max(peak, before) // 1024, done.stdout


def _figure(pattern: str, text: str) -> str:
    match = re.search(pattern, text)
    return match.group(1) if match else "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--comments", type=int, default=50000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the data dir and the export")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="dialog-import-bench-"))
    export = work / "export.xml"
    started = time.monotonic()
    with export.open("w", encoding="utf-8") as out:
        counts = wxr_generator.write_wxr(out, posts=args.posts, comments=args.comments, seed=args.seed)
    print(f"export: {export.stat().st_size / 1e6:.1f} MB, {counts.posts:,} posts, "
          f"{sum(counts.comments_by_status.values()):,} comments, written in {time.monotonic() - started:.1f} s")

    env = {**os.environ, "BLOG_DATA_DIR": str(work / "data"), "BLOG_SECRET_KEY": "bench-import",
           "BLOG_SITE_URL": "https://blog.example.de"}
    subprocess.run([*FLASK, "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True)
    subprocess.run([*FLASK, "search", "rebuild"], env=env, cwd=ROOT, check=True, capture_output=True)

    seconds, peak, output = _run(["import", "wordpress", str(export)], env)
    imported = _figure(r"Imported in ([\d.]+) s", output)
    indexed = _figure(r"Search index (?:built|updated) in ([\d.]+) s", output)
    print(f"first run:  {seconds:6.1f} s in all (import {imported} s, search index {indexed} s), "
          f"peak memory {peak} MB")
    stored = {m.group(1): int(m.group(2)) for m in re.finditer(r"comment:(\w+): (\d+) created", output)}
    expected = {"approved": counts.comments_by_status.get("approved", 0),
                "pending": counts.comments_by_status.get("pending", 0),
                "spam": counts.comments_by_status.get("spam", 0),
                "deleted": counts.comments_by_status.get("trash", 0)}
    print(f"comments by status: stored {stored}, in the export {expected}: "
          f"{'the same' if stored == {k: v for k, v in expected.items() if v} else 'DIFFERENT'}")

    seconds, _peak, output = _run(["import", "wordpress", str(export)], env)
    created = sum(int(n) for n in re.findall(r": (\d+) created", output))
    print(f"second run: {seconds:6.1f} s, {created} rows created "
          f"({'idempotent' if created == 0 else 'NOT idempotent'})")
    if args.keep:
        print(f"kept in {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
