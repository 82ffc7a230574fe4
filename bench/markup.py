"""Benchmark: rendering stays bounded whatever the text contains.

    .venv/bin/python bench/markup.py                 # after: the whole adversarial corpus
    .venv/bin/python bench/markup.py --before REV    # also the review's inputs on app/markup.py of REV

1. Comments of COMMENT_MAX_LENGTH (10,000) characters: ordinary prose, the inputs from the security
   review, and every syntax token repeated (`tests/test_markup_bounds.py`'s corpus). Best of 3, with
   the outcome: rendered, or refused with a reason (never `too_slow`: the budget is the safety net).
2. Posts of 1 MB: ordinary prose (the demo posts repeated) and repeated syntax.
3. With --before: the review's inputs on the old pipeline, each in its own process, killed after
   60 s, for the before/after table in docs/PERFORMANCE.md.
"""
import argparse
import glob
import subprocess
import sys
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)  # not bench/: its queue.py would shadow the standard library's

import frontmatter  # noqa: E402

from app import markup  # noqa: E402
from tests.markup_corpus import COMMENT_LENGTH, REVIEW_FINDINGS, TOKENS, repeat as _repeat  # noqa: E402

POST_TOKENS = ["[", "[a](", "(", "`a``a```a", "<svg ", "# a\n", "| a |\n", "*a* ", "-\n", "> ", "[a](\""]


def timed(render, text, runs=3):
    best, outcome = float("inf"), "ok"
    for _ in range(runs):
        start = time.perf_counter()
        try:
            render(text)
        except markup.RenderError as exc:
            outcome = f"refused: {exc.reason}"
        best = min(best, time.perf_counter() - start)
    return best, outcome


def prose(length: int) -> str:
    bodies = [frontmatter.load(p).content for p in sorted(glob.glob(str(ROOT / "posts" / "*.md")))]
    return _repeat("\n\n".join(bodies) + "\n\n", length)


def comments() -> None:
    print(f"comments of {COMMENT_LENGTH:,} characters (best of 3)")
    rows = [("ordinary prose", prose(COMMENT_LENGTH))]
    rows += [(f"review: {name}", text) for name, text in REVIEW_FINDINGS.items()]
    rows += [(f"repeated {token!r}", _repeat(token, COMMENT_LENGTH)) for token in TOKENS]
    results = [(name, *timed(markup.render_comment, text)) for name, text in rows]
    base = results[0][1]
    for name, seconds, outcome in results[:1 + len(REVIEW_FINDINGS)]:
        print(f"  {name:40} {seconds * 1000:8.1f} ms  {outcome}")
    tokens = sorted(results[1 + len(REVIEW_FINDINGS):], key=lambda r: -r[1])
    print(f"  {len(tokens)} repeated tokens, slowest first:")
    for name, seconds, outcome in tokens[:8]:
        print(f"  {name:40} {seconds * 1000:8.1f} ms  {outcome}")
    worst = max(r[1] for r in results)
    refused = sorted({r[2] for r in results if r[2] != "ok"})
    print(f"  slowest of all {worst * 1000:.1f} ms = {worst / base:.0f}x ordinary prose; refusals: {refused}")


def posts() -> None:
    length = 1_000_000
    print(f"posts of {length:,} characters (best of 2)")
    rows = [("ordinary prose", prose(length))] + [(f"repeated {t!r}", _repeat(t, length)) for t in POST_TOKENS]
    for name, text in rows:
        seconds, outcome = timed(markup.render_post, text, runs=2)
        print(f"  {name:40} {seconds * 1000:8.0f} ms  {outcome}")


BEFORE = textwrap.dedent("""
    import sys, time, types
    source = sys.stdin.read()
    module = types.ModuleType("old_markup"); exec(compile(source, "old_markup", "exec"), module.__dict__)
    text = {text!r}
    start = time.perf_counter()
    try:
        module.render_comment(text); outcome = "ok"
    except Exception as exc:
        outcome = type(exc).__name__
    after = module.render_comment("**fett**")
    print(f"{{time.perf_counter() - start:.3f}} {{outcome}} {{'broken afterwards' if '<strong>' not in after else ''}}")
""")


def before(rev: str) -> None:
    source = subprocess.run(["git", "show", f"{rev}:app/markup.py"], cwd=ROOT, check=True, capture_output=True,
                            text=True).stdout
    print(f"the review's inputs on app/markup.py of {rev} (one process each, killed after 60 s)")
    for name, text in REVIEW_FINDINGS.items():
        try:
            done = subprocess.run([sys.executable, "-c", BEFORE.format(text=text)], input=source, cwd=ROOT,
                                  capture_output=True, text=True, timeout=60)
            line = done.stdout.strip() or done.stderr.strip().splitlines()[-1]
        except subprocess.TimeoutExpired:
            line = "> 60 s (killed)"
        print(f"  {name:40} {line}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", metavar="REV", help="also run the review's inputs on this revision's pipeline")
    parser.add_argument("--no-posts", action="store_true")
    args = parser.parse_args()
    if args.before:
        before(args.before)
    comments()
    if not args.no_posts:
        posts()


if __name__ == "__main__":
    main()
