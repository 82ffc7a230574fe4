"""The house itself: settings from the environment, the secret key, SQLite tuning, health, errors."""
import stat

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import text

from app import create_app
from app.extensions import db
from tests import databases
from tests.conftest import make_settings


def test_settings_come_from_blog_environment_variables(monkeypatch, tmp_path):
    monkeypatch.setenv("BLOG_DATA_DIR", str(tmp_path / "envdata"))
    monkeypatch.setenv("BLOG_POSTS_PER_PAGE", "7")
    monkeypatch.setenv("BLOG_SITE_NAME", "Testblog")
    monkeypatch.setenv("BLOG_SECRET_KEY", "from-the-environment")
    app = create_app()
    assert app.config["POSTS_PER_PAGE"] == 7 and app.config["SITE_NAME"] == "Testblog"
    assert app.config["SECRET_KEY"] == "from-the-environment"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'envdata' / 'dialog.db'}"


def test_database_url_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("BLOG_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("BLOG_DATABASE_URL", "postgresql+psycopg://dialog@127.0.0.1/dialog")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://dialog@127.0.0.1/dialog"


def test_secret_key_is_generated_once_and_kept(tmp_path):
    settings = make_settings(tmp_path, SECRET_KEY=None)
    first = create_app(settings).config["SECRET_KEY"]
    second = create_app(settings).config["SECRET_KEY"]
    key_file = tmp_path / "secret_key"
    assert first == second == key_file.read_text().strip() and len(first) == 64
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    other = create_app(make_settings(tmp_path / "other", SECRET_KEY=None)).config["SECRET_KEY"]
    assert other != first


def test_no_secret_key_in_code():
    from app.config import Config

    assert Config.SECRET_KEY is None


@pytest.mark.embedded
def test_sqlite_runs_with_wal_normal_sync_and_busy_timeout(app):
    assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    assert db.session.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL
    assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1
    assert db.session.execute(text("PRAGMA busy_timeout")).scalar() == 5000


def test_healthz_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok", "database": "ok"}


def test_healthz_503_when_the_database_does_not_answer(tmp_path):
    app = create_app(make_settings(tmp_path, DATABASE_URL=databases.unreachable_url(tmp_path)))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503 and response.json["database"] == "unavailable"


def test_404_page_in_layout_even_when_the_database_is_down(tmp_path):
    app = create_app(make_settings(tmp_path, DATABASE_URL=databases.unreachable_url(tmp_path),
                                   PROPAGATE_EXCEPTIONS=False))
    response = app.test_client().get("/posts/x")
    assert response.status_code in (404, 500)
    assert 'class="site-header"' in response.get_data(as_text=True)


def test_500_page_is_in_the_layout_and_rolls_back(app, client):
    db.session.execute(text("CREATE TABLE IF NOT EXISTS scratch (x INTEGER)"))  # committed: PostgreSQL's DDL
    db.session.commit()  # would roll back with the rest

    @app.get("/boom")
    def boom():
        db.session.execute(text("INSERT INTO scratch VALUES (1)"))
        raise RuntimeError("kaputt")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.get("/boom")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert "Da ist etwas schiefgegangen" in html and 'class="site-header"' in html and "kaputt" not in html
    assert db.session.execute(text("SELECT count(*) FROM scratch")).scalar() == 0


def test_405_is_answered_in_the_layout(client):
    response = client.post("/")
    assert response.status_code == 405 and 'class="site-header"' in response.get_data(as_text=True)


def test_migrations_build_exactly_the_models(tmp_path):
    """`flask db upgrade` is the production path: it must create what the models describe."""
    app = create_app(make_settings(tmp_path, **({"DATABASE_URL": databases.fresh_url()} if databases.ON_POSTGRESQL
                                                 else {})))
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), db.metadata)
        assert diff == []
        db.engine.dispose()


def test_wsgi_module_exposes_the_app(monkeypatch, tmp_path):
    monkeypatch.setenv("BLOG_DATA_DIR", str(tmp_path))
    import importlib

    import wsgi

    importlib.reload(wsgi)
    assert wsgi.app.name == "app" and "blog" in wsgi.app.blueprints


@pytest.mark.parametrize("url", ["/static/css/site.css", "/static/favicon.svg"])
def test_static_assets_are_served_locally(client, url):
    assert client.get(url).status_code == 200


@pytest.mark.parametrize("url", ["/posts/a%00b", "/author/a%00b", "/?page=1%00"])
def test_nul_bytes_are_refused_not_a_500(client, url):
    assert client.get(url).status_code == 400


def test_nul_byte_in_a_form_is_refused(client, make):
    post = make.post("Nul")
    response = client.post(f"/posts/{post.slug}/comments", data={"name": "A", "email": "a@example.org",
                                                                 "body": "x\x00y", "consent": "y"})
    assert response.status_code == 400


@pytest.mark.parametrize("url", ["/?page=99999999999999999999", "/archive/9999/12/", "/category/x?page=10000000"])
def test_huge_numbers_are_404_not_500(client, url):
    assert client.get(url).status_code == 404
