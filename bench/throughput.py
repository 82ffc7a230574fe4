"""Benchmark: comment POSTs per second on gunicorn, bulk approval, and an approval during a mail outage.

    .venv/bin/python bench/throughput.py [--seconds 10] [--connections 8] [--workers 2]

Needs `wrk` (Debian: apt-get install wrk). Everything runs on this machine in one go: a fresh
SQLite data dir, `flask db upgrade`, the demo posts, a search index, then gunicorn with N sync
workers (each with its outbox drainer thread) on 127.0.0.1.

1. Comment POSTs: wrk with C connections sends the real comment form (CSRF token, session
   cookie, a signed form token per request, a unique text each) for S seconds, without
   following the redirect. Stored comments per second, answers by status, and "nothing lost":
   every 302 is a stored comment. Then: is the staff index current within a second?
2. A moderator approves one comment: how long the POST takes, and whether readers find it with
   the very next request.
3. Bulk: the moderator approves 100 pending comments in one POST.
4. Mail outage: an SMTP server that accepts and never answers; one approval with a subscriber.
"""
import argparse
import os
import re
import secrets
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)  # not bench/ (its queue.py would shadow the standard library's)

from itsdangerous import URLSafeTimedSerializer  # noqa: E402

from bench.common import BIN, COMMENT_POST_LUA, Browser, csrf, free_port, run  # noqa: E402

SECRET = "bench-secret-" + secrets.token_hex(8)
PASSWORD = "bench password 123"

LUA = COMMENT_POST_LUA + r"""
local created = 0
function setup(thread)  -- each wrk thread takes every other form token: one token, one comment
  thread:set("id", created)
  created = created + 1
end
function done(summary, latency, requests)
  io.write(string.format("latency p50 %.1f ms, p99 %.1f ms\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
"""


def db_scalar(data: Path, sql: str):
    with sqlite3.connect(data / "dialog.db") as conn:
        return conn.execute(sql).fetchone()[0]


def silent_smtp() -> int:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held = []
    threading.Thread(target=lambda: [held.append(server.accept()) for _ in iter(int, 1)], daemon=True).start()
    return server.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker (gthread when > 1)")
    parser.add_argument("--worker-class", default="sync", help="gunicorn worker class (sync, gthread: keep-alive)")
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="dialog-throughput-"))
    port, smtp_port = free_port(), silent_smtp()
    env = {**os.environ, "BLOG_DATA_DIR": str(data), "BLOG_SECRET_KEY": SECRET, "BLOG_SITE_URL": f"http://127.0.0.1:{port}",
           # the load comes from one address: no per-client limits here
           "BLOG_COMMENT_RATE_LIMIT": '""', "BLOG_COMMENT_ATTEMPT_LIMIT": '""'}
    flask = [str(BIN / "flask"), "--app", "wsgi"]
    run([*flask, "db", "upgrade"], env)
    run([*flask, "posts", "import"], env)
    run([*flask, "users", "create", "mona", "--role", "moderator", "--email", "mona@example.org",
         "--password-stdin"], env, input=PASSWORD + "\n")
    run([*flask, "search", "rebuild"], env)
    server = subprocess.Popen([str(BIN / "gunicorn"), "-w", str(args.workers), "--threads", str(args.threads),
                               "-k", args.worker_class,
                               "-b", f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"], env=env, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        slug = db_scalar(data, "SELECT slug FROM posts WHERE status = 'published' ORDER BY published_at DESC")
        reader = Browser(base)
        page = reader.get(f"/posts/{slug}")
        signer = URLSafeTimedSerializer(SECRET, salt="comment-form")
        tokens = data / "tokens.txt"
        tokens.write_text("\n".join(signer.dumps({"t": time.time() - 60, "k": secrets.token_hex(16)})
                                    for _ in range(60_000)) + "\n")
        script = data / "post.lua"
        script.write_text(f'PATH = "/posts/{slug}/comments"\nCSRF = "{csrf(page)}"\n'
                          f'COOKIE = "{reader.cookie_header()}"\n' + LUA)

        # 1. comment POSTs
        before = db_scalar(data, "SELECT COUNT(*) FROM comments")
        wrk = run(["wrk", "-t2", f"-c{args.connections}", f"-d{args.seconds}s", "-s", str(script), base,
                   "--", str(tokens), "2"], env)
        stored = db_scalar(data, "SELECT COUNT(*) FROM comments") - before
        requests = int(re.search(r"(\d+) requests in", wrk.stdout).group(1))
        non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", wrk.stdout)
        print(f"comment POSTs: {args.connections} connections, {args.workers} gunicorn workers"
              f" ({args.worker_class}{f' × {args.threads} threads' if args.threads > 1 else ''}), {args.seconds} s")
        print(f"  {stored:,} comments stored = {stored / args.seconds:.0f} per second "
              f"({requests:,} requests, {int(non2xx.group(1)) if non2xx else 0} not 3xx; "
              f"{re.search(r'latency.*', wrk.stdout).group(0)})")
        answered = requests - (int(non2xx.group(1)) if non2xx else 0)  # 302: "stored"
        # wrk counts answers received; requests still in flight when it stops may be stored too.
        print(f"  nothing lost: {'yes' if stored >= answered else 'NO'} ({answered:,} acknowledged, {stored:,} in "
              f"the database)")
        time.sleep(1.0)
        indexed = int(run([*flask, "search", "status"], env).stdout.split("reader documents, ")[1].split()[0]
                      .replace(",", ""))
        total = db_scalar(data, "SELECT COUNT(*) FROM comments")
        waiting = db_scalar(data, "SELECT COUNT(*) FROM outbox_tasks WHERE done_at IS NULL")
        print(f"  1 s later: staff index {indexed:,} of {total:,} comments, {waiting} outbox task(s) waiting")

        # 2. one approval, findable at once
        moderator = Browser(base)
        login = moderator.get("/login")
        moderator.post("/login", {"csrf_token": csrf(login), "username": "mona", "password": PASSWORD})
        queue = moderator.get("/moderation/")
        token = csrf(queue)
        cid = db_scalar(data, "SELECT id FROM comments WHERE status = 'pending' ORDER BY id LIMIT 1")
        word = db_scalar(data, f"SELECT body_md FROM comments WHERE id = {cid}").split()[2]
        started = time.perf_counter()
        moderator.post(f"/moderation/comments/{cid}/approve", {"csrf_token": token, "expected": "pending"})
        took = time.perf_counter() - started
        found = f"comment-{cid}" in reader.get(f"/search?q=Lastprobe+Nummer+{word}") or \
            f"/comments/{cid}" in reader.get(f"/search?q=Lastprobe+Nummer+{word}")
        print(f"one approval: {took * 1000:.0f} ms; readers find it with the next request: {'yes' if found else 'NO'}")

        # 3. bulk approval of 100
        with sqlite3.connect(data / "dialog.db") as conn:
            ids = [str(r[0]) for r in conn.execute(
                "SELECT id FROM comments WHERE status = 'pending' ORDER BY id LIMIT 100")]
        form = [("csrf_token", token), ("action", "approve"), *[("ids", f"{i}:pending:") for i in ids]]
        started = time.perf_counter()
        moderator.post("/moderation/bulk", form)
        took = time.perf_counter() - started
        approved = db_scalar(
            data, f"SELECT COUNT(*) FROM comments WHERE status = 'approved' AND id IN ({','.join(ids)})")
        print(f"bulk approval: {approved} of {len(ids)} comments in {took * 1000:.0f} ms")
    finally:
        server.terminate()
        server.wait(10)

    # 4. an approval while the mail server accepts and never answers
    env_out = {**env, "BLOG_MAIL_SERVER": "127.0.0.1", "BLOG_MAIL_PORT": str(smtp_port), "BLOG_MAIL_TIMEOUT": "10"}
    server = subprocess.Popen([str(BIN / "gunicorn"), "-w", "1", "-b", f"127.0.0.1:{port}", "--log-level", "error",
                               "wsgi:app"], env=env_out, cwd=ROOT)
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        with sqlite3.connect(data / "dialog.db") as conn:
            cid = conn.execute("SELECT id FROM comments WHERE status = 'pending' ORDER BY id LIMIT 1").fetchone()[0]
            conn.execute("INSERT INTO subscriptions (email, comment_id, lang, created_at, confirmed_at) "
                         "VALUES ('leser@example.org', ?, 'de', datetime('now'), datetime('now'))", (cid,))
        moderator = Browser(base)
        login = moderator.get("/login")
        moderator.post("/login", {"csrf_token": csrf(login), "username": "mona", "password": PASSWORD})
        token = csrf(moderator.get("/moderation/"))
        started = time.perf_counter()
        moderator.post(f"/moderation/comments/{cid}/approve", {"csrf_token": token, "expected": "pending"})
        print(f"approval while SMTP never answers: {(time.perf_counter() - started) * 1000:.0f} ms "
              f"(the mail waits in the outbox for the drainer)")
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
