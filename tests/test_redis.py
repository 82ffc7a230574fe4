"""Rate limits on a real Redis server (`REDIS_URL`): counted there under the blog's key prefix, one
app's counts never seen by the next, and a Redis that goes away mid-request costs no comment and
no 500 (Flask-Limiter then counts in each worker's memory until Redis answers again)."""
import subprocess
import time
import uuid

import pytest
import redis
from sqlalchemy import func, select

from app import create_app, redis_store
from app.comments import service
from app.extensions import db, limiter
from app.models import Comment
from tests import databases
from tests.comment_helpers import post_comment
from tests.conftest import IsolatedClient, make_settings
from tests.services import free_port, redis_executable

pytestmark = pytest.mark.post("Glasfaser für alle", slug="glasfaser")


class OwnRedis:
    """A Redis server of this test's own, to stop and start again on the same port (the session's
    server, which other tests use, stays up)."""

    def __init__(self, folder):
        self.folder, self.port, self.process = folder, free_port(), None
        self.url = f"redis://127.0.0.1:{self.port}"
        folder.mkdir()

    def start(self):
        self.process = subprocess.Popen(
            [redis_executable(), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while True:
            try:
                redis.Redis(port=self.port, socket_timeout=0.5).ping()
                return
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)


@pytest.fixture
def own_redis(tmp_path):
    server = OwnRedis(tmp_path / "redis")
    server.start()
    yield server
    server.stop()
    limiter._storage_dead = False  # one limiter object serves every app of the process: start the next one afresh


@pytest.fixture
def app(request, tmp_path):
    """The app on Redis (this module's own server if the test asks for one) under a prefix of its own."""
    url = (request.getfixturevalue("own_redis").url if "own_redis" in request.fixturenames
           else request.getfixturevalue("redis_url"))
    app = create_app(make_settings(tmp_path / "data", REDIS_URL=url, REDIS_PREFIX=f"test-{uuid.uuid4().hex}"))
    app.test_client_class = IsolatedClient
    with app.app_context():
        databases.reset(db)
        yield app
        db.session.remove()
        db.engine.dispose()


def stored() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Comment))


def limit_keys(app) -> list[bytes]:
    return redis_store.client(app.config).keys(redis_store.key("limits", "*", config=app.config))


def test_comment_limit_is_counted_in_redis_under_the_blogs_prefix(app, client, post):
    app.config["COMMENT_RATE_LIMIT"] = "2 per minute"
    assert [post_comment(client, "glasfaser", body=f"Frage {n}").status_code for n in range(3)] == [302, 302, 429]
    assert stored() == 2
    assert limit_keys(app)  # the counters live on the server, in this app's namespace


def test_the_limits_of_one_app_are_not_those_of_the_next(app, client, post, tmp_path, redis_url):
    app.config["COMMENT_RATE_LIMIT"] = "1 per minute"
    assert post_comment(client, "glasfaser", body="Erste Frage").status_code == 302
    assert post_comment(client, "glasfaser", body="Zweite Frage").status_code == 429
    # Another app on the same server (another blog, or the next test), same reader address.
    other = create_app(make_settings(tmp_path / "other", DATABASE_URL=app.config["DATABASE_URL"], REDIS_URL=redis_url,
                                     REDIS_PREFIX=f"test-{uuid.uuid4().hex}", COMMENT_RATE_LIMIT="1 per minute"))
    other.test_client_class = IsolatedClient
    assert post_comment(other.test_client(), "glasfaser", body="Dritte Frage").status_code == 302
    assert stored() == 2
    with other.app_context():
        db.engine.dispose()


def test_failed_logins_are_throttled_on_redis(app, client, make):
    make.user("mona")
    app.config["LOGIN_RATE_LIMIT_ACCOUNT"] = "2 per minute"
    statuses = [client.post("/login", data={"username": "mona", "password": "falsch"}).status_code for _ in range(3)]
    assert statuses == [400, 400, 429]
    assert any(b"login-account:mona" in key for key in limit_keys(app))


def test_redis_stopping_mid_request_loses_no_comment_and_answers_no_500(app, client, post, own_redis, monkeypatch):
    app.config["COMMENT_RATE_LIMIT"] = "3 per minute"
    assert post_comment(client, "glasfaser", body="Vorher").status_code == 302

    submit = service.submit

    def submit_then_redis_dies(*args, **kwargs):
        result = submit(*args, **kwargs)  # stored and committed: the limit is deducted after this
        own_redis.stop()
        return result

    monkeypatch.setattr(service, "submit", submit_then_redis_dies)
    response = post_comment(client, "glasfaser", body="Während Redis ausfällt")
    assert response.status_code == 302 and stored() == 2  # acknowledged and kept; the failed deduction is logged
    monkeypatch.setattr(service, "submit", submit)

    # Redis is gone: each worker counts in its own memory from then on (the comment sent as it went
    # counts there too), so the limit still holds, if per worker.
    answers = [post_comment(client, "glasfaser", body=f"Ohne Redis {n}") for n in range(4)]
    assert [response.status_code for response in answers] == [302, 302, 429, 429]
    page = answers[-1].get_data(as_text=True)
    assert "Bitte warten Sie eine Minute" in page and "Ohne Redis 3" in page
    assert stored() == 4
    assert client.post("/login", data={"username": "x", "password": "y"}).status_code == 400


def test_the_limits_go_back_to_redis_once_it_answers_again(app, client, make, own_redis):
    make.user("mona")
    own_redis.stop()
    assert client.post("/login", data={"username": "mona", "password": "falsch"}).status_code == 400  # memory
    own_redis.start()  # empty: what was counted meanwhile stayed in the worker
    deadline = time.monotonic() + 30  # Flask-Limiter tries the store again after 1, 2, 4 … seconds
    while not limit_keys(app):
        assert time.monotonic() < deadline, "the limits never went back to Redis"
        assert client.post("/login", data={"username": "mona", "password": "falsch"}).status_code in (400, 429)
        time.sleep(0.3)


def test_an_app_starts_and_takes_comments_while_redis_is_down(app, tmp_path, post):
    dead = f"redis://127.0.0.1:{free_port()}"
    down = create_app(make_settings(tmp_path / "down", DATABASE_URL=app.config["DATABASE_URL"], REDIS_URL=dead,
                                    COMMENT_RATE_LIMIT="5 per minute"))
    down.test_client_class = IsolatedClient
    try:
        assert post_comment(down.test_client(), "glasfaser").status_code == 302
        assert stored() == 1
    finally:
        limiter._storage_dead = False
        with down.app_context():
            db.engine.dispose()
