"""Several app servers behind nginx: what one server writes, the other shows at once.

One throwaway PostgreSQL and Redis, two gunicorns (`deploy/gunicorn.conf.py`, two workers each,
their own data dirs, the same database, Redis and secret key, BLOG_PROXY_COUNT=1) and nginx in
front with `deploy/nginx.conf` itself (TLS with a throwaway certificate; ports, paths and the
host name substituted). Readers and staff use real forms with their CSRF tokens, parsed from the
pages, through stdlib HTTP (urllib, http.cookiejar): the way a browser without JavaScript does.
"""
import gzip
import html
import http.client
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.cookiejar import CookieJar
from pathlib import Path

import psycopg
import pytest

from app.comments.service import hash_ip
from tests import databases, services

# One set of servers for the whole module: with `pytest -n … --dist loadgroup` its tests stay on one worker.
pytestmark = pytest.mark.xdist_group("two-servers")

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SECRET = "two-servers-secret-" + uuid.uuid4().hex
READER_ADDRESS = "127.0.0.3"  # the reader's own address towards nginx (all of 127/8 is loopback)

# One process for the setup commands: the CLI as `flask --app wsgi …` runs it, without paying the
# import of the app four times.
SETUP = r"""
import sys
from wsgi import app
runner = app.test_cli_runner()
for args in (["db", "upgrade"], ["posts", "import"], ["demo", "accounts"], ["search", "rebuild"]):
    result = runner.invoke(args=args)
    print(result.output)
    if result.exit_code:
        print(repr(result.exception), file=sys.stderr)
        sys.exit(result.exit_code)
"""


# --- a browser without JavaScript ---------------------------------------------------------------

@dataclass
class Form:
    action: str
    method: str
    attrs: dict
    fields: list = field(default_factory=list)  # (name, value) as a browser would send them

    def values(self, **changes) -> dict:
        data = {}
        for name, value in self.fields:
            data.setdefault(name, value)
        data.update(changes)
        return {key: value for key, value in data.items() if value is not None}


class _Forms(HTMLParser):
    """Every form of a page with the values its fields hold (checked boxes, selected options)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form = self._textarea = self._select = None
        self._text: list[str] = []
        self._options: list = []

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self._form = Form(a.get("action", ""), a.get("method", "get").lower(), a)
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input" and a.get("name"):
            kind = a.get("type", "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self._form.fields.append((a["name"], a.get("value", "on")))
            elif kind not in ("submit", "button", "image", "file", "reset"):
                self._form.fields.append((a["name"], a.get("value", "")))
        elif tag == "textarea" and a.get("name"):
            self._textarea, self._text = a["name"], []
        elif tag == "select" and a.get("name"):
            self._select, self._options = a["name"], []
        elif tag == "option" and self._select:
            self._options.append((a.get("value", ""), "selected" in a))

    def handle_data(self, data):
        if self._textarea:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "textarea" and self._textarea:
            self._form.fields.append((self._textarea, "".join(self._text).removeprefix("\n")))
            self._textarea = None
        elif tag == "select" and self._select:
            chosen = [v for v, selected in self._options if selected] or [v for v, _ in self._options[:1]]
            if chosen:
                self._form.fields.append((self._select, chosen[0]))
            self._select = None
        elif tag == "form":
            self._form = None


def forms_of(page: str) -> list[Form]:
    parser = _Forms()
    parser.feed(page)
    return parser.forms


@dataclass
class Page:
    status: int
    url: str
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def form(self, action: str | None = None, **attrs) -> Form:
        for found in forms_of(self.text):
            if action is not None and urllib.parse.urlsplit(found.action).path != action:
                continue
            if all(found.attrs.get(k) == v for k, v in attrs.items()):
                return found
        raise AssertionError(f"no form {action or attrs} on {self.url} ({self.status})")


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # the 3xx comes back as it is; Browser follows it itself


class _From(urllib.request.HTTPHandler, urllib.request.HTTPSHandler):
    """Connections from a chosen local address (the reader's own, as nginx sees it)."""

    def __init__(self, source: str | None, context):
        urllib.request.HTTPHandler.__init__(self)
        urllib.request.HTTPSHandler.__init__(self, context=context)
        self.source = (source, 0) if source else None

    def http_open(self, req):
        return self.do_open(http.client.HTTPConnection, req, source_address=self.source)

    def https_open(self, req):
        return self.do_open(http.client.HTTPSConnection, req, context=self._context, source_address=self.source)


class Browser:
    """Cookies, redirects, Referer, forms: one reader or one signed-in staff member on one address."""

    def __init__(self, base: str, *, ca: str | None = None, source: str | None = None):
        import ssl

        self.base = base.rstrip("/")
        self.jar = CookieJar()
        context = ssl.create_default_context(cafile=ca) if ca else None
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirects(),
                                                  _From(source, context))

    def open(self, path: str, data: dict | bytes | None = None, *, headers=None, follow=True,
             referer: str | None = None) -> Page:
        url = path if path.startswith(("http://", "https://")) else self.base + path
        body = urllib.parse.urlencode(data).encode() if isinstance(data, dict) else data
        sent = {"Accept-Language": "de", **(headers or {})}
        if referer:
            sent["Referer"] = referer
        for _ in range(10):
            request = urllib.request.Request(url, data=body, headers=sent)
            try:
                with self.opener.open(request, timeout=15) as response:
                    page = Page(response.status, url, response.headers, response.read())
            except urllib.error.HTTPError as error:
                page = Page(error.code, url, error.headers, error.read())
            if not (follow and page.status in (301, 302, 303) and page.headers.get("Location")):
                return page
            url, body = urllib.parse.urljoin(url, page.headers["Location"]), None  # then a GET, as browsers do
        raise AssertionError(f"redirect loop at {url}")

    def submit(self, page: Page, form: Form, follow=True, headers=None, **changes) -> Page:
        """Send a form found on `page` as a browser would (its Referer is the page's address)."""
        target = urllib.parse.urljoin(page.url, form.action or page.url).split("#", 1)[0]
        return self.open(target, form.values(**changes), follow=follow, referer=page.url, headers=headers)


# --- the machines -------------------------------------------------------------------------------

@dataclass
class Cluster:
    a: str  # http://127.0.0.1:PORT of each gunicorn, directly
    b: str
    nginx: str  # https://localhost:PORT
    nginx_http: str  # http://localhost:PORT (only redirects)
    ca: str
    database_url: str
    passwords: dict
    slug: str
    logs: Path
    _signed_in: dict = field(default_factory=dict)

    def browser(self, base: str, source: str | None = None) -> Browser:
        return Browser(base, ca=self.ca, source=source)

    def staff(self, username: str, base: str) -> Browser:
        """`username` signed in on that server (once per test module)."""
        key = (username, base)
        if key not in self._signed_in:
            browser = self.browser(base)
            login = browser.open("/login")
            page = browser.submit(login, login.form("/login"), username=username, password=self.passwords[username])
            assert page.status == 200 and "/login" not in urllib.parse.urlsplit(page.url).path, page.text[:500]
            self._signed_in[key] = browser
        return self._signed_in[key]

    def query(self, sql: str, *args):
        with psycopg.connect(self.database_url.replace("postgresql+psycopg://", "postgresql://")) as conn:
            return conn.execute(sql, args).fetchall()

    def log_tail(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}"
                         for p in sorted(self.logs.glob("*.log")))


def _wait_for(predicate, seconds: float, what: str, processes=()):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for process in processes:
            if process.poll() is not None:
                raise AssertionError(f"{what}: a process exited with status {process.returncode}")
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"{what} did not happen within {seconds} s")


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _certificate(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True, timeout=30)
    return cert, key


def render_nginx_site(*, http_port: int, https_port: int, upstreams: list[int], static: Path, cert: Path,
                      key: Path, logs: Path) -> str:
    """deploy/nginx.conf with this machine's ports and paths (and IPv4 loopback only)."""
    site = (ROOT / "deploy" / "nginx.conf").read_text()
    site = re.sub(r"^\s*listen \[::\].*\n", "", site, flags=re.MULTILINE)
    site = re.sub(r"listen 80\b", f"listen 127.0.0.1:{http_port}", site)
    site = re.sub(r"listen 443\b", f"listen 127.0.0.1:{https_port}", site)
    servers = iter(upstreams)
    site = re.sub(r"server 127\.0\.0\.1:800\d", lambda m: f"server 127.0.0.1:{next(servers)}", site)
    site = site.replace("/etc/letsencrypt/live/blog.example.org/fullchain.pem", str(cert))
    site = site.replace("/etc/letsencrypt/live/blog.example.org/privkey.pem", str(key))
    site = site.replace("/srv/dialog/static/", f"{static}/")
    site = site.replace("/var/log/nginx/", f"{logs}/nginx-")
    site = site.replace("/var/www/letsencrypt", str(logs))
    site = site.replace("blog.example.org", "localhost")
    directives = "\n".join(line for line in site.splitlines() if not line.lstrip().startswith("#"))
    assert not re.search(r"example\.org|/etc/|/var/|/srv/", directives), "a path or name was left as it was"
    return site


def _nginx_main(prefix: Path, site: Path) -> str:
    """What Debian's /etc/nginx/nginx.conf does around a site file, in a folder of our own."""
    user = "user root root;\n" if os.geteuid() == 0 else ""  # else its workers run as nobody (no access here)
    temp = "\n".join(f"    {kind}_temp_path {prefix / kind};" for kind in ("client_body", "proxy", "fastcgi",
                                                                           "uwsgi", "scgi"))
    return f"""{user}worker_processes 1;
pid {prefix / 'nginx.pid'};
error_log {prefix / 'logs' / 'nginx-main.error.log'} warn;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    access_log off;
{temp}
    include {site};
}}
"""


def _stop_all(processes: list) -> None:
    """Signal every server first, then wait: they stop side by side (gunicorn takes seconds)."""
    for process, sig in processes:
        if process.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, sig)
    for process, _sig in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="module")
def cluster(redis_url):
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    with ExitStack() as stack:
        base = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="dialog-two-servers-")))
        base.chmod(0o755)  # PostgreSQL's own account (we may be root) must reach its folder
        logs = base / "logs"
        logs.mkdir()
        database_url = databases.fresh_url()
        if database_url is None:  # the SQLite pass: a cluster of our own
            database_url = stack.enter_context(services.postgresql(base / "postgresql"))

        env = {key: value for key, value in os.environ.items() if not key.startswith("BLOG_")}
        env.update(
            BLOG_DATABASE_URL=database_url, BLOG_REDIS_URL=redis_url, BLOG_REDIS_PREFIX=f"two-{uuid.uuid4().hex[:8]}",
            BLOG_SECRET_KEY=SECRET, BLOG_PROXY_COUNT="1", BLOG_SEARCH_BACKEND="postgresql",
            BLOG_COMMENT_MIN_SECONDS="0",  # the forms are sent by a script, not typed
            BLOG_OUTBOX_POLL_SECONDS="0.2", DIALOG_LOG_LEVEL="warning",
        )
        data = {name: base / f"data-{name}" for name in ("a", "b")}
        # The images live in one folder both servers mount (NFS in production, docs/DEPLOYMENT.md).
        (base / "shared-uploads").mkdir()
        for folder in data.values():
            folder.mkdir()
            (folder / "uploads").symlink_to(base / "shared-uploads")
        setup = subprocess.run([sys.executable, "-c", SETUP], cwd=ROOT, env={**env, "BLOG_DATA_DIR": str(data["a"])},
                               capture_output=True, text=True, timeout=120)
        assert setup.returncode == 0, setup.stdout[-3000:] + setup.stderr[-3000:]
        passwords = dict(re.findall(r"^\s+(\w+)\s+\w+\s+(\S+)\s*$", setup.stdout, flags=re.MULTILINE))
        assert {"admin", "editor", "moderator"} <= set(passwords), setup.stdout

        ports = {name: services.free_port() for name in ("a", "b", "http", "https")}
        processes, signals = [], []
        stack.callback(_stop_all, signals)
        for name in ("a", "b"):
            log = stack.enter_context(open(logs / f"gunicorn-{name}.log", "wb"))
            process = subprocess.Popen(
                [str(BIN / "gunicorn"), "-c", str(ROOT / "deploy" / "gunicorn.conf.py"), "--workers", "2",
                 "--bind", f"127.0.0.1:{ports[name]}", "wsgi:app"],
                cwd=ROOT, env={**env, "BLOG_DATA_DIR": str(data[name])}, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)
            processes.append(process)
            signals.append((process, signal.SIGTERM))

        cert, key = _certificate(base)
        prefix = base / "nginx"
        prefix.mkdir()
        site = prefix / "dialog.conf"
        site.write_text(render_nginx_site(http_port=ports["http"], https_port=ports["https"],
                                          upstreams=[ports["a"], ports["b"]], static=ROOT / "static", cert=cert,
                                          key=key, logs=logs))
        (prefix / "nginx.conf").write_text(_nginx_main(prefix, site))
        (prefix / "logs").symlink_to(logs)
        command = [nginx, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e", str(logs / "nginx-start.log")]
        checked = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=30)
        assert checked.returncode == 0, checked.stderr
        server = subprocess.Popen([*command, "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                                  start_new_session=True)
        processes.append(server)
        signals.append((server, signal.SIGQUIT))  # nginx: finish the open requests, then stop

        cluster = Cluster(a=f"http://127.0.0.1:{ports['a']}", b=f"http://127.0.0.1:{ports['b']}",
                          nginx=f"https://localhost:{ports['https']}", nginx_http=f"http://localhost:{ports['http']}",
                          ca=str(cert), database_url=database_url, passwords=passwords, slug="", logs=logs)
        try:
            for url in (cluster.a, cluster.b):
                _wait_for(lambda url=url: _answers(url + "/healthz"), 30, f"gunicorn at {url}", processes)
            _wait_for(lambda: cluster.browser(cluster.nginx).open("/healthz").status == 200, 15, "nginx", processes)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{cluster.log_tail()}") from None
        (cluster.slug,) = cluster.query(
            "SELECT slug FROM posts WHERE status = 'published' AND comments_open ORDER BY published_at DESC LIMIT 1")[0]
        yield cluster


def _comment(browser: Browser, slug: str, text: str, *, name="Jana Leserin", headers=None) -> int:
    """Write a reader's comment through the post page's own form; its id from the redirect."""
    page = browser.open(f"/posts/{slug}")
    assert page.status == 200, page.text[:300]
    form = page.form(f"/posts/{slug}/comments", id="comment-form")
    assert form.values().get("csrf_token"), "the comment form carries no CSRF token"
    # A new address each time: an address with an approved comment is trusted, its next one not queued.
    sent = browser.submit(page, form, follow=False, headers=headers, name=name, email=f"{_words()}@example.org",
                          body=text, consent="y")
    assert sent.status == 302, sent.text[:1000]
    found = re.search(r"/comments/(\d+)$", sent.headers["Location"]) or re.search(r"#comment-(\d+)",
                                                                                  sent.headers["Location"])
    assert found, sent.headers["Location"]
    return int(found.group(1))


def _queue_item(page: Page, comment_id: int) -> str:
    found = re.search(rf'<article class="queue-item[^"]*" id="q-{comment_id}".*?</article>', page.text, re.DOTALL)
    return found.group(0) if found else ""


def _plain(page: str) -> str:
    """The text of a page, without tags (search results mark the words found)."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def _words() -> str:
    return uuid.uuid4().hex[:10]


# --- the journeys -------------------------------------------------------------------------------

def test_a_comment_written_on_one_server_is_approved_on_the_other_and_shows_on_the_first(cluster):
    slug, token = cluster.slug, _words()
    comment_id = _comment(cluster.browser(cluster.a), slug, f"Gilt der Tarif auch im Ausland? Frage {token}")

    # Readers see the page on A and through nginx first, and the page cache keeps it.
    kept = {}
    for base in (cluster.a, cluster.nginx):
        reader = cluster.browser(base)
        seen = [reader.open(f"/posts/{slug}") for _ in range(2)]
        assert not any(token in page.text for page in seen)
        kept[base] = [page.headers.get("X-Cache") for page in seen]

    moderator_b = cluster.staff("moderator", cluster.b)
    queue = moderator_b.open("/moderation/")
    assert token in _queue_item(queue, comment_id), "the comment written on A is not in B's queue"
    approved = moderator_b.submit(queue, queue.form(f"/moderation/comments/{comment_id}/approve"))
    assert approved.status == 200
    assert cluster.query("SELECT status FROM comments WHERE id = %s", comment_id) == [("approved",)]

    # At once, on the other server and through nginx, for a new reader: exactly who would get a
    # page kept from before the approval.
    for base in (cluster.a, cluster.nginx):
        page = cluster.browser(base).open(f"/posts/{slug}")
        assert token in page.text, f"{base} shows the page from before the approval ({page.headers.get('X-Cache')})"
    assert token in cluster.browser(cluster.b).open(f"/posts/{slug}/comments.atom").text
    assert all("HIT" in found for found in kept.values()), f"the page was not kept before the approval: {kept}"


def test_an_official_answer_written_on_one_server_appears_on_the_other(cluster):
    slug, question, answer = cluster.slug, _words(), _words()
    comment_id = _comment(cluster.browser(cluster.b), slug, f"Wann kommt Glasfaser in meine Straße? {question}")
    reader_a = cluster.browser(cluster.a)
    assert answer not in reader_a.open(f"/posts/{slug}").text

    moderator_a = cluster.staff("moderator", cluster.a)
    queue = moderator_a.open("/moderation/")
    assert question in _queue_item(queue, comment_id)
    form = queue.form(f"/moderation/comments/{comment_id}/reply")
    sent = moderator_a.submit(queue, form, body=f"Der Ausbau beginnt im Frühjahr. {answer}")
    assert sent.status == 200, sent.text[:500]

    for base in (cluster.b, cluster.a, cluster.nginx):
        page = cluster.browser(base).open(f"/posts/{slug}").text
        assert question in page and answer in page, f"the answer is missing on {base}"


def test_a_post_published_in_the_editor_on_one_server_is_on_the_others_home_page_and_feed(cluster):
    title = f"Zwei Server, ein Blog {_words()}"
    editor_b = cluster.staff("editor", cluster.b)
    new = editor_b.open("/editor/new")
    saved = editor_b.submit(new, new.form(id="post-form"), follow=False, title=title, slug="", status="published",
                            body="Beide Server zeigen **dasselbe**: die Daten liegen in PostgreSQL.", action="save")
    assert saved.status == 302 and "/editor/" in saved.headers["Location"], saved.text[:1000]

    for base in (cluster.a, cluster.nginx):
        reader = cluster.browser(base)
        assert title in reader.open("/").text, f"the new post is not on the home page of {base}"
        assert title in reader.open("/feed.atom").text, f"the new post is not in the feed of {base}"


def test_a_claim_taken_on_one_server_shows_in_the_queue_of_the_other(cluster):
    comment_id = _comment(cluster.browser(cluster.b), cluster.slug, f"Mein Router blinkt rot, was tun? {_words()}")
    moderator_a = cluster.staff("moderator", cluster.a)
    queue = moderator_a.open("/moderation/")
    token = queue.form(f"/moderation/comments/{comment_id}/approve").values()["csrf_token"]
    claimed = moderator_a.open(f"/moderation/comments/{comment_id}/claim", {"csrf_token": token},
                               headers={"Accept": "application/json"}, referer=queue.url)
    assert claimed.status == 200 and json.loads(claimed.body) == {"ok": True, "holder": "Anna Seidel"}

    admin_b = cluster.staff("admin", cluster.b)
    item = html.unescape(_queue_item(admin_b.open("/moderation/"), comment_id))
    assert "Anna Seidel antwortet gerade" in item
    # … and B refuses a second claim by someone else.
    queue_b = admin_b.open("/moderation/")
    token_b = queue_b.form(f"/moderation/comments/{comment_id}/approve").values()["csrf_token"]
    second = admin_b.open(f"/moderation/comments/{comment_id}/claim", {"csrf_token": token_b},
                          headers={"Accept": "application/json"}, referer=queue_b.url)
    assert json.loads(second.body) == {"ok": False, "holder": "Anna Seidel"}


def test_nginx_passes_the_readers_address_not_its_own_and_not_a_forged_one(cluster):
    # Through nginx from 127.0.0.3, with a forged X-Forwarded-For: the app keeps the hop nginx saw.
    reader = cluster.browser(cluster.nginx, source=READER_ADDRESS)
    comment_id = _comment(reader, cluster.slug, f"Über nginx geschrieben {_words()}",
                          headers={"X-Forwarded-For": "203.0.113.9"})
    ((stored,),) = cluster.query("SELECT ip_hash FROM comments WHERE id = %s", comment_id)
    assert stored == hash_ip(READER_ADDRESS, SECRET)
    assert stored not in (hash_ip("203.0.113.9", SECRET), hash_ip("127.0.0.1", SECRET))

    # The app port itself believes one proxy hop (BLOG_PROXY_COUNT=1): it must be reachable by nginx only.
    direct = cluster.browser(cluster.a)
    comment_id = _comment(direct, cluster.slug, f"Direkt geschrieben {_words()}",
                          headers={"X-Forwarded-For": "198.51.100.7"})
    assert cluster.query("SELECT ip_hash FROM comments WHERE id = %s", comment_id) == [
        (hash_ip("198.51.100.7", SECRET),)]


def test_links_follow_the_scheme_and_host_nginx_was_reached_on(cluster):
    feed = cluster.browser(cluster.nginx).open("/feed.atom").text
    assert f'href="{cluster.nginx}/posts/' in feed  # https, and the port nginx listens on
    assert f'href="{cluster.a}/posts/' in cluster.browser(cluster.a).open("/feed.atom").text
    forwarded = cluster.browser(cluster.b).open("/feed.atom", headers={"X-Forwarded-Proto": "https"}).text
    assert f'href="https://127.0.0.1:{cluster.b.rsplit(":", 1)[1]}/posts/' in forwarded
    # Plain HTTP only redirects; names that are not ours get no answer at all.
    plain = cluster.browser(cluster.nginx_http).open("/posts/x?y=1", follow=False)
    assert plain.status == 301 and plain.headers["Location"] == "https://localhost/posts/x?y=1"
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError, urllib.error.URLError)):
        cluster.browser(cluster.nginx_http).open("/", headers={"Host": "other.example"})


def test_nginx_serves_static_files_from_disk_cached_by_version_and_compressed(cluster):
    browser = cluster.browser(cluster.nginx)
    home = browser.open("/").text
    linked = re.search(r'href="(/static/css/site\.css[^"]*)"', home)
    assert linked, "the home page links no site.css"
    # The app's own link (with its ?v=<hash> once static URLs are fingerprinted) is kept a year.
    assert browser.open(html.unescape(linked.group(1))).headers["Cache-Control"] == \
        "public, max-age=31536000, immutable", f"{linked.group(1)} carries no version"
    original = (ROOT / "static" / "css" / "site.css").read_bytes()
    versioned = browser.open("/static/css/site.css?v=0123abcd", headers={"Accept-Encoding": "gzip"})
    assert versioned.status == 200 and versioned.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(versioned.body) == original
    assert versioned.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert "gunicorn" not in (versioned.headers.get("Server") or "")
    plain = browser.open("/static/css/site.css")
    assert plain.body == original and plain.headers["Cache-Control"] == "public, max-age=300"
    assert browser.open("/static/css/nothing-here.css").status == 404


def test_nginx_lets_the_app_refuse_a_large_body_itself_and_drops_a_huge_one(cluster):
    browser = cluster.browser(cluster.nginx)
    page = browser.open(f"/posts/{cluster.slug}")
    form = page.form(f"/posts/{cluster.slug}/comments", id="comment-form")
    large = browser.submit(page, form, body="x" * 1_200_000, name="A", email="a@example.org", consent="y")
    assert large.status == 413 and "nginx" not in large.text  # the app's own page, in the site's layout
    huge = browser.open(f"/posts/{cluster.slug}/comments", b"x" * 3_000_000,
                        headers={"Content-Type": "application/x-www-form-urlencoded"}, referer=page.url)
    assert huge.status == 413 and "nginx" in huge.text  # never reached a worker


def _multipart(fields: dict, file_field: str, filename: str, content: bytes, content_type: str):
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
             for name, value in fields.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; filename="{filename}"\r\n'
                 f"Content-Type: {content_type}\r\n\r\n".encode() + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def test_an_image_uploaded_through_nginx_is_served_by_both_servers_and_big_uploads_reach_the_app(cluster):
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 120, 200)).save(out, "PNG")
    editor = cluster.staff("editor", cluster.nginx)
    library = editor.open("/editor/images")
    token = library.form("/editor/images").values()["csrf_token"]
    body, headers = _multipart({"csrf_token": token, "alt": "Ein blaues Rechteck"}, "image", "blau.png",
                               out.getvalue(), "image/png")
    sent = editor.open("/editor/images", body, headers=headers, referer=library.url, follow=False)
    assert sent.status == 302, sent.text[:500]
    ((name,),) = cluster.query("SELECT name FROM uploads ORDER BY id DESC LIMIT 1")
    served = [cluster.browser(base).open(f"/uploads/{name}") for base in (cluster.a, cluster.b)]
    assert [page.status for page in served] == [200, 200] and served[0].body == served[1].body

    # 3 MB is over the app's 1 MB but within the upload route's 6 MB at nginx: the app itself says no.
    body, headers = _multipart({"csrf_token": token, "alt": "Kein Bild"}, "image", "gross.png", b"\0" * 3_000_000,
                               "image/png")
    refused = editor.open("/editor/images", body, headers=headers, referer=library.url)
    assert refused.status == 400 and "upload-form" in refused.text and "nginx" not in refused.text
    body, headers = _multipart({"csrf_token": token, "alt": "Zu gross"}, "image", "riesig.png", b"\0" * 7_000_000,
                               "image/png")
    dropped = editor.open("/editor/images", body, headers=headers, referer=library.url)
    assert dropped.status == 413 and "nginx" in dropped.text


def test_the_search_on_one_server_finds_what_was_written_on_the_other(cluster):
    """Needs BLOG_SEARCH_BACKEND=postgresql (the index in the shared database); with Whoosh each
    server's index is a folder of its own and this fails."""
    word = "Quarzuhr" + _words()
    title = f"Funkuhren {word}"
    editor_a = cluster.staff("editor", cluster.a)
    new = editor_a.open("/editor/new")
    saved = editor_a.submit(new, new.form(id="post-form"), follow=False, title=title, slug="", status="published",
                            body=f"Die {word} stellt sich selbst.", action="save")
    assert saved.status == 302, saved.text[:500]
    reader_b = cluster.browser(cluster.b)
    try:
        _wait_for(lambda: title in _plain(reader_b.open(f"/search?q={word}").text), 5,
                  "the post written on A becoming findable on B")
    except AssertionError as exc:
        page = reader_b.open(f"/search?q={word}")
        main = re.search(r"<main.*?</main>", page.text, re.DOTALL)
        shown = _plain(main.group(0) if main else page.text)[:600]
        raise AssertionError(f"{exc}; B answers {page.status}: {shown}\n{cluster.log_tail()}") from None

