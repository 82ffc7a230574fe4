"""Benchmark: the whole site under load, each figure also as a share of what a bare Flask app makes.

    .venv/bin/python bench/run.py [--db sqlite|postgresql] [--seconds 10] [--cases a,b] [--json PATH]
                                  [--compare OTHER.json]

Needs `wrk` (Debian: apt-get install wrk). Everything on this machine in one go:

1. A fresh data dir: `flask db upgrade`, a moderator, `flask demo generate` twice (one post with
   1,000 threaded comments, all approved; then 400 posts × 50 comments of which 10,000 wait in
   the queue), `flask search rebuild`. With `--db postgresql` a throwaway PostgreSQL cluster
   (tests/services.py) holds the database (BLOG_DATABASE_URL); the search index stays Whoosh.
2. gunicorn, 2 sync workers, serving Dialog (`wsgi:app`) and, beside it, bench/ceiling.py (one
   route answering a static 10 KB page) under the same settings.
3. wrk with `--latency` and a Lua script that tallies the answers by status, on 127.0.0.1, for
   every case in CASES: requests/s, p50 and p99 latency, statuses. The ceiling is measured the
   same way (at each connection count used) before and after the cases; the mean of the two is
   what the shares are computed from, so figures compare across noisy machines.

"Uncached" requests carry the cookies of a reader whose own comment waits for review (sent with
the post's form, the redirect after it followed as a browser does): the page cache cannot serve
them, their page is made for them (app/comments/thread_html.py). "Signed-in moderator" ones a
moderator's (the page shows the moderation controls); "cached" ones are anonymous, the same URL
repeated; "304" ones send `If-None-Match` with
the ETag of a first anonymous GET. The status tally shows what was really answered: a 304 case
answered with 200s did not get what it asked for.
"""
import argparse
import json
import math
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if sys.path[0] == str(ROOT / "bench"):  # run as a script: not bench/ (its queue.py shadows the standard library's)
    sys.path[0] = str(ROOT)
elif str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import COMMENT_POST_LUA, FLASK, Browser, csrf, free_port, gunicorn, run, stop, wait_until_up  # noqa: E402

SECRET = "bench-secret-" + secrets.token_hex(8)
MODERATOR, PASSWORD = "mona", "bench password 123"
BIG_THREAD = 1000  # comments on the post that is read
PENDING = 10_000  # comments in the moderation queue
OTHER_POSTS, PER_POST = 400, 50  # where the pending comments are (20,000 comments)
SEARCH_WORD = "router"  # in the demo phrases: found in posts and comments

# Every wrk run: tally the answers by status (the thread id is for the comment POST script).
TALLY_LUA = r"""
local threads, created = {}, 0
function setup(thread)
  thread:set("id", created)
  created = created + 1
  table.insert(threads, thread)
end
statuses = {}
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    for code, n in pairs(t:get("statuses")) do total[code] = (total[code] or 0) + n end
  end
  for code, n in pairs(total) do io.write(string.format("status %d %d\n", code, n)) end
end
"""



@dataclass(frozen=True)
class Case:
    name: str
    label: str
    path: str  # with {post}, {category}, {small} filled in from the seeded data
    who: str = "anonymous"  # "anonymous", "reader" (a reader's session cookie) or "moderator" (signed in)
    conditional: bool = False  # If-None-Match with the ETag of a first anonymous GET
    connections: int = 8
    expect: int = 200
    min_share: float | None = None  # target: requests/s at least this % of the ceiling
    max_p99_ms: float | None = None  # target: p99 under this many ms


CASES = [
    Case("home", "home page", "/"),
    # A reader whose own comment waits for review: the page is rendered for them (their comment
    # in it), past the page cache. The moderator's page carries the staff controls on every comment.
    Case("post-uncached", "post, 1,000 comments, uncached (reader, own comment waiting)", "/posts/{post}",
         who="reader", min_share=5),
    Case("post-staff", "post, 1,000 comments, signed-in moderator", "/posts/{post}", who="moderator"),
    Case("post-cached", "post, 1,000 comments, cached (anonymous)", "/posts/{post}", min_share=50),
    Case("post-304", "post, 1,000 comments, If-None-Match", "/posts/{post}", conditional=True, expect=304),
    Case("category", "category page", "/category/{category}"),
    Case("search", f"search ?q={SEARCH_WORD}", f"/search?q={SEARCH_WORD}"),
    Case("api-uncached", "comments API, 1,000, uncached (reader, own comment waiting)", "/api/v1/posts/{post}/comments",
         who="reader", min_share=5),
    Case("api-304", "comments API, 1,000, If-None-Match", "/api/v1/posts/{post}/comments", conditional=True,
         expect=304, min_share=50),
    # Two moderators at once, one per worker: the p99 is the page's own time, not a wait for a worker.
    Case("queue", f"moderation queue, {PENDING:,} pending (moderator)", "/moderation/", who="moderator",
         connections=2, max_p99_ms=100),
    # Last: the comments it stores go to the queue.
    Case("comment-post", "comment POST (the write path)", "/posts/{small}/comments", expect=302),
]
CASE_NAMES = [case.name for case in CASES]


# ---------------------------------------------------------------- pure parts (tests/test_bench_run.py)

@dataclass
class Result:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0  # socket errors (connect, read, write, timeout) together
    connections: int = 0


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def duration_ms(text: str) -> float:
    """A wrk duration ("812.00us", "5.21ms", "1.02s", "2.00m") in milliseconds."""
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text.strip())
    if not match:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * _UNITS_MS[match.group(2)]


def parse_wrk(output: str) -> Result:
    """The figures of one `wrk --latency` run with TALLY_LUA: requests/s, p50, p99, statuses, errors."""
    total = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m|h)", output)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"^\s*50(?:\.000)?%\s+(\S+)", output, re.M)
    p99 = re.search(r"^\s*99(?:\.000)?%\s+(\S+)", output, re.M)
    if not (total and rps and p50 and p99):
        raise ValueError("not the output of wrk --latency:\n" + output)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    return Result(
        requests=int(total.group(1)), seconds=duration_ms(total.group(2) + total.group(3)) / 1000,
        rps=float(rps.group(1)), p50_ms=duration_ms(p50.group(1)), p99_ms=duration_ms(p99.group(1)),
        statuses={int(code): int(n) for code, n in re.findall(r"^status (\d+) (\d+)$", output, re.M)},
        errors=sum(map(int, errors.groups())) if errors else 0,
    )


def share(value: float, ceiling: float) -> float | None:
    """`value` as a percentage of the ceiling's figure (None without a ceiling)."""
    if not ceiling or math.isnan(ceiling):
        return None
    return value / ceiling * 100


def mean_result(runs: list[Result]) -> Result:
    """The ceiling measured before and after: the mean of each figure, statuses summed."""
    statuses: dict[int, int] = {}
    for r in runs:
        for code, n in r.statuses.items():
            statuses[code] = statuses.get(code, 0) + n
    n = len(runs)
    return Result(requests=sum(r.requests for r in runs), seconds=sum(r.seconds for r in runs),
                  rps=sum(r.rps for r in runs) / n, p50_ms=sum(r.p50_ms for r in runs) / n,
                  p99_ms=sum(r.p99_ms for r in runs) / n, statuses=statuses,
                  errors=sum(r.errors for r in runs), connections=runs[0].connections)


def verdict(case: Case, result: Result, ceiling: Result | None) -> str:
    """The case's target and whether this run met it ("" for cases without a target)."""
    parts = []
    if case.min_share is not None:
        got = share(result.rps, ceiling.rps) if ceiling else None
        ok = got is not None and got >= case.min_share and _mostly(result, case.expect)
        parts.append(f">= {case.min_share:g}% of ceiling: {'met' if ok else 'MISSED'}")
    if case.max_p99_ms is not None:
        ok = result.p99_ms < case.max_p99_ms and _mostly(result, case.expect)
        parts.append(f"p99 < {case.max_p99_ms:g} ms: {'met' if ok else 'MISSED'}")
    if case.expect == 304 and not _mostly(result, 304):
        parts.append("no 304s")
    return "; ".join(parts)


def _mostly(result: Result, status: int) -> bool:
    """At least 99% of the answers had the status the case is about."""
    answered = sum(result.statuses.values())
    return answered > 0 and result.statuses.get(status, 0) >= 0.99 * answered


def statuses_text(statuses: dict[int, int]) -> str:
    return " ".join(f"{code}×{n}" for code, n in sorted(statuses.items())) or "-"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}%" if value >= 10 else f"{value:.1f}%"


def table(rows: list[tuple[Case, Result]], ceilings: dict[int, Result]) -> str:
    """Requests/s, p50 and p99 with each as % of the ceiling at the same connection count."""
    head = (f"{'case':<44}{'conns':>6}{'req/s':>9}{'%ceil':>7}{'p50 ms':>9}{'%ceil':>7}{'p99 ms':>9}"
            f"{'%ceil':>7}  {'statuses':<22} target")
    lines = [head, "-" * len(head)]
    for case, r in rows:
        c = ceilings.get(r.connections)
        lines.append(
            f"{case.label:<44}{r.connections:>6}{r.rps:>9.1f}{_pct(share(r.rps, c.rps) if c else None):>7}"
            f"{r.p50_ms:>9.1f}{_pct(share(r.p50_ms, c.p50_ms) if c else None):>7}"
            f"{r.p99_ms:>9.1f}{_pct(share(r.p99_ms, c.p99_ms) if c else None):>7}"
            f"  {statuses_text(r.statuses) + (f' err×{r.errors}' if r.errors else ''):<22} "
            f"{verdict(case, r, c)}".rstrip())
    return "\n".join(lines)


def compare(mine: dict, other: dict, factor: float = 1.5) -> list[str]:
    """This run against one on the other database: per case the ratio of the shares of the ceiling
    (machine speed cancels out); target: PostgreSQL within `factor` of SQLite."""
    lines = [f"{mine['db']} vs {other['db']} (share of the ceiling in each run; target: PostgreSQL within "
             f"a factor {factor:g} of SQLite)"]
    by_db = {mine["db"]: mine, other["db"]: other}
    if set(by_db) != {"sqlite", "postgresql"}:
        return [*lines, "  (compare needs one sqlite and one postgresql run)"]
    sqlite, pg = by_db["sqlite"], by_db["postgresql"]
    for name in CASE_NAMES:
        a, b = sqlite["cases"].get(name), pg["cases"].get(name)
        if not a or not b or not a.get("share") or not b.get("share"):
            continue
        ratio = a["share"] / b["share"]
        lines.append(f"  {name:<16} sqlite {a['share']:6.1f}%  postgresql {b['share']:6.1f}%  "
                     f"sqlite/postgresql {ratio:4.2f}  {'met' if ratio <= factor else 'MISSED'}")
    return lines


# ---------------------------------------------------------------- running it

def wrk(url: str, seconds: int, connections: int, script: Path, headers: dict | None = None,
        args: list[str] | None = None) -> Result:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s", "-s", str(script)]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    command.append(url)
    if args:
        command += ["--", *args]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    result = parse_wrk(output)
    result.connections = connections
    return result


def seed(env: dict, log) -> None:
    steps = [
        ["db", "upgrade"],
        ["users", "create", MODERATOR, "--role", "moderator", "--email", "mona@example.org", "--display-name",
         "Mona Berger", "--password-stdin"],
        ["demo", "generate", "--posts", "1", "--comments-per-post", str(BIG_THREAD), "--pending", "0", "--seed", "3"],
        ["demo", "generate", "--posts", str(OTHER_POSTS), "--comments-per-post", str(PER_POST), "--pending",
         str(PENDING), "--seed", "5"],
        ["search", "rebuild"],
    ]
    for step in steps:
        started = time.perf_counter()
        out = run([*FLASK, *step], env, input=PASSWORD + "\n" if "--password-stdin" in step else None)
        last = (out.stdout.strip().splitlines() or [""])[-1]
        log(f"  flask {' '.join(step[:2])}: {time.perf_counter() - started:.1f} s  {last[:110]}")


class Data:
    """What the cases need from the seeded database, read with plain SQL (SQLite or PostgreSQL)."""

    def __init__(self, url: str):
        from sqlalchemy import create_engine

        self.engine = create_engine(url)

    def scalar(self, sql: str):
        from sqlalchemy import text

        with self.engine.connect() as conn:
            return conn.execute(text(sql)).scalar()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--seconds", type=int, default=10, help="per wrk run (15 runs with all cases)")
    parser.add_argument("--cases", default=",".join(CASE_NAMES), help="comma-separated, of: " + ", ".join(CASE_NAMES))
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    parser.add_argument("--compare", type=Path, help="a --json file of a run on the other database")
    parser.add_argument("--keep", action="store_true", help="keep the data dir (removed at the end otherwise)")
    args = parser.parse_args()
    wanted = [name.strip() for name in args.cases.split(",") if name.strip()]
    unknown = set(wanted) - set(CASE_NAMES)
    if unknown:
        parser.error(f"unknown case(s): {', '.join(sorted(unknown))}; known: {', '.join(CASE_NAMES)}")
    cases = [case for case in CASES if case.name in wanted]
    started = time.perf_counter()

    def log(text: str) -> None:
        print(text, flush=True)

    with ExitStack() as stack:
        work = Path(tempfile.mkdtemp(prefix="dialog-run-"))
        work.chmod(0o755)  # the cluster's own account (postgres, when we are root) must reach its folder
        if not args.keep:
            stack.callback(shutil.rmtree, work, ignore_errors=True)
        data = work / "data"
        port, ceiling_port = free_port(), free_port()
        env = {**os.environ, "BLOG_DATA_DIR": str(data), "BLOG_SECRET_KEY": SECRET,
               "BLOG_SITE_URL": f"http://127.0.0.1:{port}",
               # the load comes from one address: no per-client limits here
               "BLOG_COMMENT_RATE_LIMIT": '""', "BLOG_COMMENT_ATTEMPT_LIMIT": '""'}
        env.pop("BLOG_DATABASE_URL", None)
        if args.db == "postgresql":
            from tests import services

            env["BLOG_DATABASE_URL"] = db_url = stack.enter_context(services.postgresql(work / "postgresql"))
            env["BLOG_SEARCH_BACKEND"] = "postgresql"  # the deployment shape: search in the shared database
        else:
            db_url = f"sqlite:///{data / 'dialog.db'}"
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True).stdout.strip()
        log(f"Dialog {commit}{' + uncommitted changes' if dirty else ''}, database: {args.db}, "
            f"gunicorn 2 sync workers, wrk 2 threads, {args.seconds} s per run, data in {work}"
            f"{'' if args.keep else ' (removed at the end)'}")
        log("seeding:")
        seed(env, log)
        db = Data(db_url)
        stack.callback(db.engine.dispose)
        if args.db == "postgresql":  # the state autovacuum would reach on its own, before anything is timed
            from sqlalchemy import text

            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        big = db.scalar("SELECT p.slug FROM posts p JOIN comments c ON c.post_id = p.id "
                        "GROUP BY p.id, p.slug ORDER BY COUNT(*) DESC LIMIT 1")
        small = db.scalar(f"SELECT slug FROM posts WHERE slug <> '{big}' ORDER BY published_at DESC LIMIT 1")
        category = db.scalar("SELECT slug FROM categories ORDER BY position LIMIT 1")
        pending = db.scalar("SELECT COUNT(*) FROM comments WHERE status = 'pending'")
        comments = db.scalar("SELECT COUNT(*) FROM comments")
        log(f"  {db.scalar('SELECT COUNT(*) FROM posts')} posts, {comments:,} comments, {pending:,} pending; "
            f"the read post: /posts/{big}")
        slugs = {"post": big, "small": small, "category": category}

        app = gunicorn("wsgi:app", port, env)
        stack.callback(stop, app)
        ceiling_app = gunicorn("bench.ceiling:app", ceiling_port, env)
        stack.callback(stop, ceiling_app)
        base, ceiling_base = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{ceiling_port}"
        wait_until_up(base + "/healthz", app)
        wait_until_up(ceiling_base + "/", ceiling_app)

        moderator = Browser(base)
        moderator.sign_in(MODERATOR, PASSWORD)
        reader = Browser(base)
        page = reader.get(f"/posts/{big}")
        ts = re.search(r'id="ts" name="ts" type="hidden" value="([^"]+)"', page).group(1)
        status = reader.post(f"/posts/{big}/comments", {
            "csrf_token": csrf(page), "ts": ts, "name": "Bench Leserin", "email": "bench@example.org",
            "body": "Meine Frage wartet noch auf die Freigabe.", "consent": "y"})
        if status != 302:
            raise RuntimeError(f"the reader's comment answered {status}, not 302")
        reader.get(f"/posts/{big}")  # the redirect a browser follows: the thank-you is shown (once)
        cookies = {"moderator": {"Cookie": moderator.cookie_header()}, "anonymous": {},
                   "reader": {"Cookie": reader.cookie_header()} if reader.cookie_header() else {}}
        if not reader.cookie_header():
            log("  (a reader gets no session cookie from a post page: the reader case is anonymous)")
        tally = work / "tally.lua"
        tally.write_text(TALLY_LUA)

        def warm(url_base: str, path: str, headers: dict) -> tuple[int, dict]:
            """A few requests first (every worker renders once), then the answer a client would get."""
            for _ in range(6):
                status, answer_headers = Browser(url_base).head(path, headers)
            return status, answer_headers

        connection_counts = sorted({case.connections for case in cases})
        ceiling_runs: dict[int, list[Result]] = {}

        def measure_ceiling(when: str) -> None:
            for conns in connection_counts:
                warm(ceiling_base, "/", {})
                r = wrk(ceiling_base + "/", args.seconds, conns, tally)
                ceiling_runs.setdefault(conns, []).append(r)
                log(f"  ceiling ({when}), {conns} connections: {r.rps:.0f} req/s, p50 {r.p50_ms:.1f} ms, "
                    f"p99 {r.p99_ms:.1f} ms, {statuses_text(r.statuses)}")

        log("load:")
        measure_ceiling("before")
        rows: list[tuple[Case, Result]] = []
        notes: dict[str, str] = {}
        for case in cases:
            path = case.path.format(**slugs)
            headers = dict(cookies[case.who])
            if case.name == "comment-post":
                result = comment_posts(base, path, small, work, args.seconds, case.connections, db)
                notes[case.name] = result.pop("note")
                result = result["result"]
            else:
                if case.conditional:
                    status, first = Browser(base).head(path)  # a new reader
                    etag = first.get("ETag")
                    notes[case.name] = (f"ETag of the first GET: {etag}" if etag else
                                        f"the first GET ({status}) carried no ETag; sent a made-up one")
                    headers["If-None-Match"] = etag or '"bench-no-etag"'
                status, answer = warm(base, path, headers)
                if case.name in ("post-cached", "post-uncached", "post-staff", "api-uncached"):
                    notes[case.name] = (f"ETag {answer.get('ETag') or 'none'}, Cache-Control "
                                        f"{answer.get('Cache-Control') or 'none'}")
                result = wrk(base + path, args.seconds, case.connections, tally, headers)
            rows.append((case, result))
            log(f"  {case.name}: {result.rps:.1f} req/s, p99 {result.p99_ms:.1f} ms, "
                f"{statuses_text(result.statuses)}" + (f"  ({notes[case.name]})" if case.name in notes else ""))
        measure_ceiling("after")
    ceilings = {conns: mean_result(runs) for conns, runs in ceiling_runs.items()}

    print()
    print(f"Database: {args.db}. Ceiling = bench/ceiling.py (static 10 KB page, same gunicorn), mean of before "
          f"and after; %ceil = the figure as a share of the ceiling's (req/s: higher is better; latency: lower).")
    for conns, c in ceilings.items():
        print(f"ceiling at {conns} connections: {c.rps:.0f} req/s, p50 {c.p50_ms:.1f} ms, p99 {c.p99_ms:.1f} ms "
              f"(before {ceiling_runs[conns][0].rps:.0f}, after {ceiling_runs[conns][-1].rps:.0f} req/s)")
    print()
    print(table(rows, ceilings))
    print()
    for case, r in rows:
        if case.name == "queue":
            print(f"MODERATION QUEUE, {pending:,} pending: p99 {r.p99_ms:.0f} ms, p50 {r.p50_ms:.0f} ms "
                  f"at {r.connections} connections (target p99 < {case.max_p99_ms:g} ms: "
                  f"{'met' if r.p99_ms < case.max_p99_ms else 'MISSED'})")
    for name, note in notes.items():
        print(f"{name}: {note}")
    print("Targets: cached post >= 50% of the ceiling, uncached >= 5%; API >= 5% uncached, >= 50% with a 304; "
          "queue p99 < 100 ms with 10,000 pending; PostgreSQL within a factor 1.5 of SQLite "
          "(one database per run: compare two --json files with --compare).")
    print(f"whole run: {time.perf_counter() - started:.0f} s")

    figures = {
        "db": args.db, "commit": commit, "uncommitted_changes": bool(dirty), "seconds": args.seconds,
        "seed": {"posts": OTHER_POSTS + 1, "comments": comments, "pending": pending, "read_post_comments": BIG_THREAD},
        "ceiling": {str(conns): asdict(c) for conns, c in ceilings.items()},
        "cases": {case.name: {**asdict(r), "label": case.label,
                              "share": share(r.rps, ceilings[r.connections].rps),
                              "p50_share": share(r.p50_ms, ceilings[r.connections].p50_ms),
                              "p99_share": share(r.p99_ms, ceilings[r.connections].p99_ms),
                              "target": verdict(case, r, ceilings[r.connections]),
                              "note": notes.get(case.name, "")}
                  for case, r in rows},
    }
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
        print(f"figures written to {args.json}")
    if args.compare:
        print()
        print("\n".join(compare(figures, json.loads(args.compare.read_text()))))


def comment_posts(base: str, path: str, slug: str, work: Path, seconds: int, connections: int, db: Data) -> dict:
    """wrk sends the real comment form; every 302 must be a stored comment."""
    from itsdangerous import URLSafeTimedSerializer

    reader = Browser(base)
    page = reader.get(f"/posts/{slug}")
    signer = URLSafeTimedSerializer(SECRET, salt="comment-form")
    tokens = work / "tokens.txt"
    tokens.write_text("\n".join(signer.dumps({"t": time.time() - 60, "k": secrets.token_hex(16)})
                                for _ in range(max(20_000, seconds * 1500))) + "\n")
    script = work / "post.lua"
    script.write_text(f'PATH = "{path}"\nCSRF = "{csrf(page)}"\nCOOKIE = "{reader.cookie_header()}"\n'
                      + TALLY_LUA + COMMENT_POST_LUA)
    before = db.scalar("SELECT COUNT(*) FROM comments")
    result = wrk(base, seconds, connections, script, args=[str(tokens), "2"])
    stored = db.scalar("SELECT COUNT(*) FROM comments") - before
    acknowledged = result.statuses.get(302, 0)
    return {"result": result,
            "note": f"{stored:,} comments stored = {stored / result.seconds:.0f}/s; nothing lost: "
                    f"{'yes' if stored >= acknowledged else 'NO'} ({acknowledged:,} answered 302)"}


if __name__ == "__main__":
    main()
