"""Dialog: a corporate blog made for talking with customers in the open."""
from flask import Flask
from flask_babel import lazy_gettext as _l

from app import config as settings
from app.converters import BoundedIntegerConverter
from app.extensions import csrf, db, limiter, login_manager, migrate


def create_app(config: dict | type | None = None) -> Flask:
    """Build the app: defaults, then BLOG_* environment variables, then `config` (tests)."""
    app = Flask(__name__, template_folder="../templates", static_folder="../static")
    app.config.from_object(settings.Config)
    app.config.from_prefixed_env("BLOG")
    if isinstance(config, dict):
        app.config.update(config)
    elif config is not None:
        app.config.from_object(config)
    settings.finalize(app.config)
    from app.search.index import check_backend  # SEARCH_BACKEND = "postgresql" on SQLite fails here, not per request
    check_backend(app.config)
    register_extensions(app)
    # Before the blueprints: their rules pick the converter up when they are added.
    app.url_map.converters["int"] = BoundedIntegerConverter
    register_blueprints(app)
    register_cli(app)
    if app.config["PROXY_COUNT"]:  # outermost: the page cache's hits (app/caching/hits.py) see the client's host too
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = int(app.config["PROXY_COUNT"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)
    return app


def register_extensions(app: Flask) -> None:
    from app import caching, i18n, outbox, security
    from app.users import sessions

    db.init_app(app)
    migrate.init_app(app, db, directory=str(settings.PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.login_message_category = "info"
    limiter.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    outbox.init_app(app)
    caching.init_app(app)

    @login_manager.user_loader
    def load_user(cookie_id: str):
        return sessions.load(cookie_id)  # None once that sign-in has ended (logout, password, deactivation)


def register_blueprints(app: Flask) -> None:
    from app import errors
    from app.admin.backoffice import bp as backoffice_bp
    from app.admin.routes import bp as admin_bp
    from app.api.routes import bp as api_bp
    from app.auth import (  # noqa: F401  (routes on the auth blueprint)
        accounts,
        known_browser,
        notifications,
        two_factor_settings,
    )
    from app.auth.routes import bp as auth_bp
    from app.blog import bp as blog_bp
    from app.comments.routes import bp as comments_bp
    from app.editor import bp as editor_bp
    from app.editor.images_routes import bp as images_bp
    from app.feeds import bp as feeds_bp
    from app.moderation import canned_routes, stats_routes  # noqa: F401  (routes on the moderation bp)
    from app.moderation.commenters_routes import bp as commenters_bp
    from app.moderation.routes import bp as moderation_bp
    from app.privacy import (
        bp as privacy_bp,
        routes as privacy_routes,  # noqa: F401  (routes on the privacy bp)
    )
    from app.search.routes import bp as search_bp
    from app.site import bp as site_bp
    from app.webhooks.routes import bp as webhooks_bp

    app.register_blueprint(site_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(feeds_bp)
    app.register_blueprint(blog_bp)
    app.register_blueprint(comments_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(moderation_bp)
    app.register_blueprint(commenters_bp)
    app.register_blueprint(privacy_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(backoffice_bp)
    app.register_blueprint(webhooks_bp)
    app.register_blueprint(search_bp)
    app.register_blueprint(editor_bp)
    app.register_blueprint(images_bp)
    errors.init_app(app)
    from app.site import old_links

    old_links.init_app(app)


def register_cli(app: Flask) -> None:
    from app.cli import register
    from app.cli.backup import backup

    register(app)
    app.cli.add_command(backup)
