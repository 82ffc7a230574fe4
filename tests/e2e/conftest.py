"""End-to-end fixtures: the real app on a real port, driven by Debian's Chromium through Playwright.

The database is built the way production builds it (`flask db upgrade`, then `flask posts import`),
and the app is served by Werkzeug in a background thread for the whole session.
"""
import os
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask_migrate import upgrade
from playwright.sync_api import BrowserContext, ConsoleMessage, Error as PlaywrightError, Page, WebError
from werkzeug.serving import make_server

from app import create_app
from app.config import PROJECT_ROOT
from app.extensions import db
from tests import databases
from tests.conftest import make_settings

E2E_DIR = Path(__file__).resolve().parent
DEMO_POSTS = PROJECT_ROOT / "posts"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-screenshots"


def pytest_collection_modifyitems(items):
    """Every test in this folder is an e2e test (`-m "not e2e"` skips the browser)."""
    for item in items:
        if E2E_DIR in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.e2e)


# Debian's Chromium, not a browser Playwright downloads (also used by tests outside this folder).
CHROMIUM = {
    "executable_path": "/usr/bin/chromium",
    "args": [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ],
}


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, **CHROMIUM}


# --- what the browser complains about fails the test --------------------------------------------

# Chromium words a blocked inline script "Executing inline script violates the following Content
# Security Policy directive …"; older builds and other resource types say "Refused to …".
CSP_MARKERS = ("content security policy", "refused to")
PROBLEMS = pytest.StashKey["BrowserProblems"]()


class BrowserProblems:
    """Collects Content-Security-Policy violations and uncaught JavaScript errors in watched contexts."""

    def __init__(self):
        self.found: list[str] = []
        self.contexts: list[BrowserContext] = []

    def watch(self, context: BrowserContext) -> BrowserContext:
        """Listen to every page of `context`, present and future; returns the context."""
        context.on("console", self._console)
        context.on("weberror", self._error)
        self.contexts.append(context)
        return context

    def take(self) -> list[str]:
        """What was reported so far (events still on their way included), and forget it."""
        self._flush()
        found, self.found = self.found, []
        return found

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and any(marker in message.text.lower() for marker in CSP_MARKERS):
            self.found.append(f"CSP violation on {_url(message.page)}: {message.text}")

    def _error(self, error: WebError) -> None:
        self.found.append(f"JavaScript error on {_url(error.page)}: {error.error}")

    def _flush(self) -> None:
        # The sync API only dispatches browser events while it waits: give the last ones a moment.
        for context in self.contexts:
            for page in context.pages:
                if not page.is_closed():
                    try:
                        page.wait_for_timeout(50)
                        return
                    except PlaywrightError:
                        continue


def _url(page: Page | None) -> str:
    return page.url if page is not None else "an unknown page"


@pytest.fixture(autouse=True)
def browser_problems(request, monkeypatch) -> BrowserProblems:
    """Watches every context and page a test opens (the `page`/`context`/`new_context` fixtures and
    `browser.new_context()`/`new_page()`); `pytest_runtest_call` fails the test on what was found.
    A test that provokes a problem on purpose takes it out with `browser_problems.take()`."""
    problems = BrowserProblems()
    request.node.stash[PROBLEMS] = problems
    if "browser" in request.fixturenames:  # the tests that use no browser must not start one
        browser = request.getfixturevalue("browser")
        new_context, new_page = browser.new_context, browser.new_page

        def watched_context(*args, **kwargs) -> BrowserContext:
            return problems.watch(new_context(*args, **kwargs))

        def watched_page(*args, **kwargs) -> Page:
            page = new_page(*args, **kwargs)
            problems.watch(page.context)
            return page

        monkeypatch.setattr(browser, "new_context", watched_context)
        monkeypatch.setattr(browser, "new_page", watched_page)
    return problems


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """After the test body (its contexts still open): fail it on what the browser reported."""
    result = yield
    problems = item.stash.get(PROBLEMS, None)
    found = problems.take() if problems is not None else []
    if found:
        pytest.fail("The browser reported:\n" + "\n".join(f"- {line}" for line in found), pytrace=False)
    return result


# --- the server ---------------------------------------------------------------------------------

@contextmanager
def serving(data_dir: Path, **settings):
    """`(base_url, app)`: the real app built like production (migrations, `posts import` of the
    demo posts), served by Werkzeug in a thread on 127.0.0.1 until the block ends."""
    with pytest.MonkeyPatch.context() as mp:  # a developer's BLOG_* variables must not leak in
        for key in list(os.environ):
            if key.startswith("BLOG_"):
                mp.delenv(key)
        settings.setdefault("DATABASE_URL", databases.fresh_url())  # PostgreSQL: a database of its own
        app = create_app(make_settings(data_dir, **{key: value for key, value in settings.items() if value}))

    with app.app_context():
        upgrade()  # the schema the way production gets it: through the migrations

    result = app.test_cli_runner().invoke(args=["posts", "import", str(DEMO_POSTS)])
    assert result.exit_code == 0, f"posts import failed:\n{result.output}"
    assert "Done: 0 created" not in result.output, result.output

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", app
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """Base URL (http://127.0.0.1:<port>) of the app with the demo content, served in a thread."""
    with serving(tmp_path_factory.mktemp("e2e-data")) as (base_url, _app):
        yield base_url


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args, live_server):
    """Every context opens relative URLs (`page.goto("/")`) on the live server."""
    return {**browser_context_args, "base_url": live_server}


@pytest.fixture(scope="session")
def screenshots_dir() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture(scope="session")
def comment_server(tmp_path_factory):
    """`(base_url, app)` of a second live app, built like `live_server` but with CSRF protection on.

    The comment journeys post the real form, so the form must carry a valid CSRF token; `app` lets a
    test approve comments through the CLI and look into the database (`with app.app_context():`).
    """
    with serving(tmp_path_factory.mktemp("e2e-comments-data"), WTF_CSRF_ENABLED=True) as served:
        yield served


@pytest.fixture
def contexts(browser):
    """`contexts(**options)` opens a fresh German browser (own cookies); all are closed afterwards."""
    opened: list[BrowserContext] = []

    def open_context(**options) -> BrowserContext:
        context = browser.new_context(locale="de-DE", **options)
        context.set_default_timeout(10_000)
        opened.append(context)
        return context

    yield open_context
    for context in opened:
        context.close()
