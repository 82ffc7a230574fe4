"""Shared fixtures: an app on a fresh SQLite database per test, a client, a CLI runner, factories."""
import contextvars
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event
from werkzeug.security import generate_password_hash

from app import create_app
from app.config import PROJECT_ROOT, TestConfig
from app.content.publishing import apply_post_body
from app.content.slugs import slugify
from app.extensions import db
from app.models import Category, Post, PostStatus, Role, Tag, User
from tests import databases

# The SMTP fixtures (`smtp`, `dead_port`) for every test module, without an import that would shadow them.
pytest_plugins = ["tests.smtp"]

DEMO_POSTS = PROJECT_ROOT / "posts"


def make_settings(data_dir: Path, **overrides) -> dict:
    settings = {key: getattr(TestConfig, key) for key in dir(TestConfig) if key.isupper()}
    settings.update(DATA_DIR=str(data_dir), **databases.settings())
    settings.update(overrides)
    return settings


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch):
    """A developer's BLOG_* variables must not change what the tests see."""
    for key in list(os.environ):
        if key.startswith("BLOG_"):
            monkeypatch.delenv(key)


DRAINING = contextvars.ContextVar("draining", default=False)


class IsolatedClient(FlaskClient):
    """Runs each request in a fresh context, as in production: its own app context, `g` and session.

    Without this, requests would share the test's app context, its cached locale and its
    database session (objects the test loaded would hide lazy loads and stale reads).
    """

    drain = True  # run the outbox's drainer after each request, as the app server's thread would

    def open(self, *args, **kwargs):
        response = contextvars.Context().run(super().open, *args, **kwargs)
        if self.drain:
            contextvars.Context().run(self._drain)
        return response

    def _drain(self):
        from app import outbox

        DRAINING.set(True)  # its statements are the drainer's, not the request's (count_queries skips them)
        try:
            with self.application.app_context():
                outbox.drain()
        finally:
            DRAINING.set(False)


@pytest.fixture
def app(request, tmp_path):
    # `@pytest.mark.embedded`: a test about the embedded default itself (SQLite's files and
    # pragmas) runs on it in the PostgreSQL pass too.
    embedded = request.node.get_closest_marker("embedded") is not None
    app = create_app(make_settings(tmp_path / "data", **(databases.EMBEDDED if embedded else {})))
    app.test_client_class = IsolatedClient
    with app.app_context():
        databases.reset(db, embedded=embedded)
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """A real Redis server: the one `python -m tests.services --redis` started, else one of our own."""
    from tests import services

    given = os.environ.get(services.REDIS_ENV)
    if given:
        yield given
        return
    with services.redis(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def count_queries(app):
    """Call as `with count_queries() as counter:`; counter.n is the number of SQL statements."""
    from contextlib import contextmanager

    class Counter:
        n = 0
        statements: list[str] = []

    @contextmanager
    def counting():
        counter = Counter()
        counter.statements = []

        def before(conn, cursor, statement, *args):
            if DRAINING.get():
                return
            counter.n += 1
            counter.statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", before)
        try:
            yield counter
        finally:
            event.remove(db.engine, "before_cursor_execute", before)

    return counting


class Factory:
    """Small builders for users, categories and posts, committed at once."""

    def __init__(self):
        self._n = 0

    def _next(self) -> int:
        self._n += 1
        return self._n

    def user(self, username=None, role=Role.AUTHOR, display_name=None, password="correct horse battery"):
        n = self._next()
        username = username or f"user{n}"
        user = User(username=username, email=f"{username}@example.org", role=role,
                    display_name=display_name or username.title())
        # A cheap hash keeps the suite fast; the real scrypt default is covered by the CLI tests.
        user.password_hash = generate_password_hash(password, method="pbkdf2:sha256:1000")
        db.session.add(user)
        db.session.commit()
        return user

    def category(self, name="Netzkultur", description="", position=0):
        category = Category(name=name, slug=slugify(name), description=description, position=position)
        db.session.add(category)
        db.session.commit()
        return category

    def post(self, title=None, *, body="Ein kurzer Text.", status=PostStatus.PUBLISHED, published_at=None,
             days_ago=1, author=None, category=None, tags=(), lang="de", summary="", slug=None):
        n = self._next()
        title = title or f"Beitrag {n}"
        post = Post(slug=slug or slugify(title) or f"beitrag-{n}", title=title, lang=lang, status=status)
        apply_post_body(post, body, summary=summary)
        if published_at is None and status != PostStatus.DRAFT:
            published_at = datetime.now(UTC) - timedelta(days=days_ago)
        post.published_at = published_at
        post.author = author or self.user()
        post.category = category
        post.tags = [self.tag(name) for name in tags]
        db.session.add(post)
        db.session.commit()
        return post

    def tag(self, name):
        tag = db.session.query(Tag).filter_by(slug=slugify(name)).one_or_none()
        if tag is None:
            tag = Tag(name=name, slug=slugify(name))
            db.session.add(tag)
            db.session.flush()
        return tag


@pytest.fixture
def make(app):
    return Factory()


def pytest_configure(config):
    config.addinivalue_line("markers", "post(title, **fields): what the `post` fixture makes (make.post arguments)")
    config.addinivalue_line("markers", "embedded: the `app` fixture runs on SQLite, Whoosh and no Redis in both passes")
    config.addinivalue_line("markers", "no_database: opens no database (`make test` runs it in the SQLite pass only)")


@pytest.fixture
def post(request, make):
    """A published post to comment on: "Glasfaser für alle" (/posts/glasfaser-fuer-alle), or the one a
    `post` marker on the test or module describes, e.g. `pytestmark = pytest.mark.post("Titel", slug="titel")`.
    Modules whose post needs more (a category, comments) keep a `post` fixture of their own."""
    marker = request.node.get_closest_marker("post")
    if marker is None:
        return make.post("Glasfaser für alle")
    return make.post(*marker.args, **marker.kwargs)
