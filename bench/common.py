"""What the gunicorn benchmarks share: running the CLI, a free port, gunicorn up and down, a
cookie-keeping client that does not follow redirects, the CSRF token of a page, signing in.

Scripts in bench/ put the project root first on sys.path (not bench/: its queue.py would shadow
the standard library's) and import this as `bench.common`.
"""
import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"
FLASK = [str(BIN / "flask"), "--app", "wsgi"]


def run(args, env, **kw):
    return subprocess.run(args, env=env, cwd=ROOT, check=True, capture_output=True, text=True, **kw)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gunicorn(app: str, port: int, env: dict, *, workers: int = 2, threads: int = 1, worker_class: str = "sync",
             log_level: str = "warning") -> subprocess.Popen:
    """gunicorn serving `app` ("module:variable") on 127.0.0.1:port, started from the project root."""
    return subprocess.Popen([str(BIN / "gunicorn"), "-w", str(workers), "--threads", str(threads), "-k", worker_class,
                             "-b", f"127.0.0.1:{port}", "--log-level", log_level, app], env=env, cwd=ROOT,
                            start_new_session=True)


def wait_until_up(url: str, server: subprocess.Popen | None = None, seconds: float = 30) -> None:
    """Until `url` answers at all (any status); a server that exits meanwhile is an error."""
    deadline = time.monotonic() + seconds
    while True:
        if server is not None and server.poll() is not None:
            raise RuntimeError(f"the server for {url} exited with status {server.returncode}")
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


# wrk's script for the real comment form: the CSRF token and session cookie of a reader (CSRF,
# COOKIE, PATH defined before it), one signed form token per request from the file in args[1]
# (with `step` threads, each takes every step-th one), a unique text per comment.
COMMENT_POST_LUA = r"""
local tokens, n, counter, step = {}, 0, 0, 1
function init(args)
  for line in io.lines(args[1]) do n = n + 1; tokens[n] = line end
  counter, step = id, tonumber(args[2])
end
local function escape(s)
  return (s:gsub("[^%w%-_%.~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end
function request()
  counter = counter + step
  local token = tokens[(counter % n) + 1]
  local body = "name=Leser&email=leser" .. counter .. "%40example.org&consent=y&csrf_token=" .. escape(CSRF)
    .. "&ts=" .. escape(token) .. "&body=" .. escape("Lastprobe Nummer " .. counter .. " " .. math.random(1e9))
  return wrk.format("POST", PATH, {["Content-Type"] = "application/x-www-form-urlencoded", ["Cookie"] = COOKIE}, body)
end
"""


class Browser:
    """A cookie-keeping HTTP client that does not follow redirects (the POST is what is measured)."""

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *a, **kw):
            return None

    def __init__(self, base: str):
        self.base, self.jar = base, http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), self._NoRedirect)

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=30) as response:
            return response.read().decode()

    def head(self, path: str, headers: dict | None = None) -> tuple[int, dict]:
        """A GET, answered with (status, headers); an error status is an answer too."""
        request = urllib.request.Request(self.base + path, headers=headers or {})
        try:
            with self.opener.open(request, timeout=30) as response:
                response.read()
                return response.status, dict(response.headers)
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers)

    def post(self, path: str, data: dict | list) -> int:
        body = urllib.parse.urlencode(data).encode()
        try:
            with self.opener.open(self.base + path, data=body, timeout=60) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code

    def cookie_header(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)

    def sign_in(self, username: str, password: str) -> None:
        login = self.get("/login")
        status = self.post("/login", {"csrf_token": csrf(login), "username": username, "password": password})
        if status != 302:
            raise RuntimeError(f"signing in as {username} answered {status}, not 302")


def csrf(page: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
