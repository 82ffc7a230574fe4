"""Settings: defaults here, overridden by `BLOG_*` environment variables, then by `create_app(config)`."""
import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Config:
    """Defaults. Every key can be set from the environment as BLOG_<KEY> (JSON values are parsed)."""

    DATA_DIR = "instance"
    DATABASE_URL = None  # None: SQLite file in DATA_DIR
    SECRET_KEY = None  # None: generated once and kept in DATA_DIR
    POSTS_DIR = "posts"

    SITE_NAME = "Sternwelle Blog"
    SITE_DESCRIPTION = "Das Blog der Sternwelle Kommunikation GmbH: Netz, Technik, Kundenservice und Netzkultur."
    SITE_URL = None  # e.g. "https://blog.example.org"; None: taken from the request
    TRUSTED_HOSTS = None  # Host headers answered (others get 400); None: SITE_URL's host, else localhost only
    TEAM_NAME = "Sternwelle-Team"
    TIMEZONE = "Europe/Berlin"
    LANGUAGES = ["de", "en"]
    DEFAULT_LANGUAGE = "de"

    POSTS_PER_PAGE = 10
    FEED_SIZE = 20
    TOC_MIN_HEADINGS = 3
    WORDS_PER_MINUTE = 200
    SQLITE_BUSY_TIMEOUT_MS = 5000

    # Comments
    COMMENT_MAX_DEPTH = 5  # nesting shown; deeper replies sit at the last level with "in reply to"
    COMMENT_THREADS_PER_PAGE = 50
    COMMENT_MAX_LENGTH = 10_000
    COMMENT_EDIT_MINUTES = 15  # a commenter may edit or delete their own comment this long (if unanswered)
    COMMENT_MIN_SECONDS = 3  # a form sent faster is a bot (0 disables)
    COMMENT_RATE_LIMIT = "5 per minute"  # stored comments per client; "" or null disables
    COMMENT_ATTEMPT_LIMIT = "30 per minute"  # every form sent per client, stored or shown again
    COMMENT_MAX_LINKS = 2  # a trusted commenter with more links goes to the queue
    COMMENT_BLOCKLIST = ["viagra", "cialis", "casino bonus", "crypto giveaway", "payday loan"]
    COMMENT_HELD_WORDS: list[str] = []  # a comment holding one waits for review (rule "held_word"); admins edit both
    COMMENT_RESERVED_NAMES = ["Sternwelle"]  # reader names containing these (or TEAM_NAME, or a staff name) wait
    # A reader comment waits for an answer when it asks a question ("?") or uses one of these words.
    COMMENT_ANSWER_WORDS = ["hilfe", "problem", "störung", "funktioniert nicht", "geht nicht", "kein internet",
                            "ausfall", "kündig", "rechnung", "vertrag", "beschwerde", "help", "not working",
                            "outage", "issue", "complaint", "invoice", "contract"]
    COMMENT_DUPLICATE_SECONDS = 120  # the same text twice within this time is stored once
    # Rule "history": a reader whose address or client (IP hash) had this many comments rejected or
    # marked as spam in the last COMMENT_HISTORY_DAYS waits for review (0 disables). IP hashes are
    # cleared after IP_HASH_RETENTION_DAYS, so the client's part looks back at most that far.
    COMMENT_HISTORY_LIMIT = 2
    COMMENT_HISTORY_DAYS = 30
    # Rule "repeated": the same text (case and spacing ignored, at least 20 characters) sent this
    # many times before within COMMENT_REPEAT_HOURS, by anyone on any post, waits for review (0 disables).
    COMMENT_REPEAT_LIMIT = 2
    COMMENT_REPEAT_HOURS = 24
    COMMENTS_CLOSE_AFTER_DAYS = None  # e.g. 90: comments close by themselves after that many days
    IP_HASH_RETENTION_DAYS = 30  # `comments anonymize` clears IP hashes older than this
    PROXY_COUNT = 0  # reverse proxies in front of the app (X-Forwarded-For hops to trust)
    RATELIMIT_STORAGE_URI = None  # None: REDIS_URL if set, else a store all workers of this machine share
    RATELIMIT_HEADERS_ENABLED = True  # a 429 says when to try again (Retry-After)
    # A store that fails (Redis down) must never fail the request, least of all after a comment was
    # stored: each worker then counts in its own memory until the store answers again.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True

    # Staff and moderation
    # Failed logins. A browser that signed in to an account before (signed device cookie) is held
    # to its own limit only, so strangers guessing elsewhere can never lock the owner out.
    LOGIN_RATE_LIMIT_CLIENT = "20 per 15 minutes"  # per client address, from browsers unknown to the account
    LOGIN_RATE_LIMIT_ACCOUNT = "5 per minute"  # per account, from all unknown browsers together: slows guessing
    LOGIN_RATE_LIMIT_DEVICE = "10 per 15 minutes"  # per known browser (a stolen device cookie gains little)
    LOGIN_SESSION_HOURS = 12  # a sign-in without "stay signed in" ends on the server after this long
    RESPONSE_TARGET_MINUTES = 240  # first-answer target for posts without a category
    BUSINESS_HOURS = [8, 18]  # Mon–Fri, in TIMEZONE, for categories that count business hours only
    CLAIM_MINUTES = 5  # a claim ("Anna answers this") lapses after this long without renewal
    UNDO_SECONDS = 10  # a moderator can take back approve/reject/spam/delete this long (mails wait as long)
    QUEUE_POLL_SECONDS = 5  # how often an open queue asks what colleagues did meanwhile (0: never)
    QUEUE_PER_PAGE = 25
    REPORT_HIDE_THRESHOLD = 3  # reports after which an approved comment is hidden until checked
    REPORT_RATE_LIMIT = "5 per hour"
    ESCALATION_TEAMS = ["Technik", "Produkt", "Vertrieb", "Rechtsabteilung", "Datenschutz"]
    # A reader still waiting this many minutes before the response target is due: a warning to the
    # assignee (or the moderators who asked for it) and a `target.warning` webhook; the breach follows.
    TARGET_WARNING_MINUTES = 30

    # The local classifier (app/moderation/classifier.py): learns from the team's decisions, on this server.
    CLASSIFIER_SPAM_THRESHOLD = 0.9  # a reader comment scored at least this goes to spam (rule "classifier"); 0: off
    CLASSIFIER_RETRAIN_EVERY = 50  # train again after this many team decisions (the drainer looks); 0: never
    CLASSIFIER_CHECK_SECONDS = 60  # how often a process looks whether training is due
    CLASSIFIER_RELOAD_SECONDS = 30  # how often a process looks for a model trained elsewhere

    # Webhooks (app/webhooks/): JSON posts to URLs admins register per event, signed, sent by the drainer.
    WEBHOOK_TIMEOUT = 5  # seconds per delivery attempt (connect and each read)
    WEBHOOK_MAX_ATTEMPTS = 6  # then the delivery is given up (retried after 1, 2, 4, 8, 16 minutes)
    # True lets hooks point at private, loopback and link-local addresses (a receiver in the office
    # network; the tests' local receiver). False: refused at save and at each delivery (DNS rebinding).
    WEBHOOK_ALLOW_PRIVATE = False

    # The browser editor and the back office
    AUTHORS_MAY_PUBLISH = False  # False: authors "submit for review" and an editor publishes
    UPLOAD_MAX_BYTES = 5 * 1024 * 1024  # largest image upload (the request limit is raised for that route only)
    UPLOAD_WIDTHS = [480, 960, 1600]  # resized copies for srcset, made when the original is wider
    INVITE_HOURS = 72  # an invitation link to set one's own password stays valid this long
    PASSWORD_RESET_MINUTES = 60  # a "forgot password" link stays valid this long
    FORGOT_PASSWORD_RATE_LIMIT = "5 per 15 minutes"  # "forgot password" forms per client address
    # The code after the password (two-factor sign-in), throttled like the login (known browsers apart).
    TWO_FACTOR_RATE_LIMIT_CLIENT = "20 per 15 minutes"
    TWO_FACTOR_RATE_LIMIT_ACCOUNT = "5 per 15 minutes"  # from all unknown browsers together
    TWO_FACTOR_RATE_LIMIT_DEVICE = "10 per 15 minutes"

    # Mail: SMTP when MAIL_SERVER is set, otherwise .eml files in DATA_DIR/outbox/
    MAIL_SERVER = None
    MAIL_PORT = 25
    MAIL_USE_TLS = False  # STARTTLS
    MAIL_USE_SSL = False
    MAIL_USERNAME = None
    MAIL_PASSWORD = None
    MAIL_SENDER = "Sternwelle Blog <blog@sternwelle.example>"
    MAIL_TIMEOUT = 10
    MAIL_MAX_ATTEMPTS = 8

    # The outbox's drainer: applies what requests left (index updates for the staff, mail) and what a
    # crash left. "thread": one in each app server process; "off": only `flask outbox drain`.
    OUTBOX_DRAINER = "thread"
    OUTBOX_POLL_SECONDS = 0.5

    # Beyond one machine (docs/DEPLOYMENT.md). Redis, when set, holds what all app servers must
    # share besides the database: rate limits, login throttling and the page cache.
    REDIS_URL = None  # e.g. "redis://127.0.0.1:6379/0"
    REDIS_PREFIX = "dialog"  # namespace of this blog's keys on that server
    SEARCH_BACKEND = "whoosh"  # "whoosh" (files in DATA_DIR, one machine) or "postgresql" (in the database)

    SQLALCHEMY_TRACK_MODIFICATIONS = False
    WTF_CSRF_TIME_LIMIT = None  # a comment may take longer to write than an hour
    # Our forms carry their own messages (in our catalog); WTForms' catalog would be read from
    # disk on every form post, a tenth of the comment write path.
    WTF_I18N_ENABLED = False
    MAX_CONTENT_LENGTH = 1024 * 1024  # bytes per request body (the longest text allowed is ~40 kB); more: 413
    MAX_FORM_MEMORY_SIZE = 200_000  # bytes per multipart text field: 5× the longest, so the form's own message shows
    MAX_FORM_PARTS = 200  # fields per multipart body; the queue's bulk form sends one per selected comment
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_DURATION = 30 * 24 * 3600  # "stay signed in" lasts 30 days, not Flask-Login's 365
    # Sent on every response; no inline scripts or styles anywhere, https images for staff-written posts.
    CONTENT_SECURITY_POLICY = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
        "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
        "base-uri 'none'; object-src 'none'"
    )
    STRICT_TRANSPORT_SECURITY = "max-age=31536000; includeSubDomains"  # sent only when SITE_URL is https://


class TestConfig(Config):
    """Settings the test-suite starts from (a temporary DATA_DIR is set per test)."""

    TESTING = True
    SECRET_KEY = "test-secret-key-not-for-production"
    WTF_CSRF_ENABLED = False
    COMMENT_MIN_SECONDS = 0
    COMMENT_RATE_LIMIT = ""
    COMMENT_ATTEMPT_LIMIT = ""
    LOGIN_RATE_LIMIT_CLIENT = "1000 per minute"
    LOGIN_RATE_LIMIT_ACCOUNT = "1000 per minute"
    LOGIN_RATE_LIMIT_DEVICE = "1000 per minute"
    REPORT_RATE_LIMIT = "1000 per minute"
    OUTBOX_DRAINER = "off"  # the test client drains after each request (tests/conftest.py), in step


def finalize(config) -> None:
    """Derive the settings that depend on others (paths, database URL, secret key)."""
    data_dir = Path(config["DATA_DIR"])
    if not data_dir.is_absolute():
        data_dir = PROJECT_ROOT / data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    config["DATA_DIR"] = str(data_dir)

    posts_dir = Path(config["POSTS_DIR"])
    config["POSTS_DIR"] = str(posts_dir if posts_dir.is_absolute() else PROJECT_ROOT / posts_dir)

    url = config.get("DATABASE_URL") or f"sqlite:///{data_dir / 'dialog.db'}"
    config["DATABASE_URL"] = url
    config["SQLALCHEMY_DATABASE_URI"] = url
    if url.startswith("sqlite"):
        # Wait for a competing writer instead of failing with "database is locked".
        config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
        config["SQLALCHEMY_ENGINE_OPTIONS"].setdefault(
            "connect_args", {"timeout": config["SQLITE_BUSY_TIMEOUT_MS"] / 1000}
        )
    else:
        config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"pool_pre_ping": True})

    # Rate limits: on Redis when there is one (all servers count together), else in a file that all
    # workers of this machine share (app/ratelimit_store.py).
    if not config.get("RATELIMIT_STORAGE_URI"):
        from app.ratelimit_store import uri_for

        config["RATELIMIT_STORAGE_URI"] = config.get("REDIS_URL") or uri_for(data_dir / "ratelimits.sqlite")
    if config["RATELIMIT_STORAGE_URI"].startswith(("redis://", "rediss://", "redis+unix://")):
        from app import redis_store

        # This blog's namespace, and short timeouts: a Redis that hangs costs a request half a second.
        config.setdefault("RATELIMIT_STORAGE_OPTIONS", {"key_prefix": redis_store.key("limits", config=config),
                                                        "socket_timeout": 0.5, "socket_connect_timeout": 0.5})

    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = _stored_secret_key(data_dir / "secret_key")

    if (config.get("SITE_URL") or "").startswith("https://"):  # cookies only over HTTPS there
        config["SESSION_COOKIE_SECURE"] = True
        config["REMEMBER_COOKIE_SECURE"] = True

    config["TRUSTED_HOSTS"] = _trusted_hosts(config.get("TRUSTED_HOSTS"), config.get("SITE_URL"))

    config["BABEL_DEFAULT_LOCALE"] = config["DEFAULT_LANGUAGE"]
    config["BABEL_DEFAULT_TIMEZONE"] = config["TIMEZONE"]
    config["BABEL_TRANSLATION_DIRECTORIES"] = str(PROJECT_ROOT / "app" / "translations")


def _trusted_hosts(configured, site_url: str | None) -> list[str]:
    """The hosts Flask answers: the user's own list if given ([] allows any), else the site's own host."""
    if isinstance(configured, str):  # BLOG_TRUSTED_HOSTS=blog.example.org,www.example.org
        configured = [host.strip() for host in configured.split(",") if host.strip()]
    if configured is not None:
        return list(configured)
    site_host = urlsplit(site_url or "").hostname
    # Without SITE_URL links are built on the Host header, so only a local address may appear there.
    return [site_host] if site_host else ["127.0.0.1", "localhost"]


def _stored_secret_key(path: Path) -> str:
    """Read the key kept in the data dir, creating it (readable by the owner only) on first start."""
    try:
        key = path.read_text().strip()
        if key:
            return key
    except FileNotFoundError:
        pass
    # Write the whole key to a private temp file, then link it into place: if two workers start
    # at once, exactly one link wins and both read the same complete key.
    key = secrets.token_hex(32)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key + "\n")
    try:
        os.link(tmp, path)
    except FileExistsError:
        key = path.read_text().strip()
    finally:
        tmp.unlink()
    return key
