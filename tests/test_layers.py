"""The layering of docs/ARCHITECTURE.md, checked on the imports.

Every import counts, also those inside functions (read with `ast`, nothing is imported). The rules
are data, so they read like the architecture doc; `check()` applies them to one file's source, and
the synthetic cases at the end show that each rule can fail.
"""
import ast
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

import pytest

pytestmark = pytest.mark.no_database  # reads the code, not a database: the same in every pass

ROOT = Path(__file__).resolve().parents[1]

# --- the rules ---------------------------------------------------------------------------------

# Each file's layer: the first pattern that matches (fnmatch, `*` spans folders) decides, so the
# exceptions come first. A file no pattern matches fails the test: a new module gets a layer.
LAYER_OF = [
    # Known exceptions, with the reason:
    ("app/comments/browser_state.py", "web"),  # web-layer helper: what the reader's browser holds (session, cookies)
    ("app/comments/thread_html.py", "web"),  # web-layer helper: a post page's threads rendered, kept by the page cache
    ("app/privacy/__init__.py", "web"),  # holds the privacy blueprint (`bp`)
    ("app/auth/permissions.py", "services"),  # roles → permissions; the decorator's use is in the routes
    # 4 entry points
    ("wsgi.py", "entry"),
    ("app/__init__.py", "entry"),  # create_app() wires config, extensions and every blueprint
    ("app/cli/*", "entry"),
    # 3 web: blueprints, routes, forms, error pages
    ("*/routes.py", "web"),
    ("*_routes.py", "web"),
    ("*/forms.py", "web"),
    ("app/blog/*", "web"),
    ("app/feeds/*", "web"),
    ("app/api/*", "web"),
    ("app/site/*", "web"),
    ("app/admin/*", "web"),
    ("app/editor/*", "web"),  # the browser editor and the image library (services in app/content/)
    ("app/auth/*", "web"),  # login, password, a sign-in link for a new browser, own notification settings
    ("app/errors.py", "web"),
    ("app/caching/*", "web"),  # request hooks: the page cache, HTTP validators, compression
    # 2 services: plain functions, no request
    ("app/comments/__init__.py", "services"),
    ("app/comments/service.py", "services"),
    ("app/comments/policy.py", "services"),
    ("app/comments/threads.py", "services"),
    ("app/comments/notifications.py", "services"),
    ("app/moderation/*", "services"),  # the modules that are not routes or forms (those matched above)
    ("app/content/*", "services"),
    ("app/privacy/service.py", "services"),
    ("app/privacy/mails.py", "services"),
    ("app/search/*", "services"),  # routes.py matched above
    ("app/users/*", "services"),
    ("app/mail.py", "services"),
    ("app/outbox.py", "services"),
    ("app/demo/*", "services"),
    ("app/imports/*", "services"),  # WordPress and Disqus exports → posts, comments, old addresses
    ("app/webhooks/*", "services"),  # hooks, signed deliveries (routes.py and forms.py matched above)
    # 1 core
    ("app/models/*", "core"),
    ("app/markup.py", "core"),
    ("app/markup_guard.py", "core"),
    ("app/slugs.py", "core"),  # transliteration for URL slugs and heading anchors, used by markup and content
    ("app/charts.py", "core"),
    # 0 base
    ("app/config.py", "base"),
    ("app/extensions.py", "base"),
    ("app/i18n.py", "base"),
    ("app/urls.py", "base"),
    ("app/security.py", "base"),
    ("app/converters.py", "base"),
    ("app/redis_store.py", "base"),  # the optional Redis connection
    ("app/ratelimit_store.py", "base"),  # Flask-Limiter's storage without Redis
]

# Each layer imports only from layers below it (and from its own). So models, being core, import
# no service and no blueprint.
MAY_IMPORT = {
    "base": {"base"},
    "core": {"base", "core"},
    "services": {"base", "core", "services"},
    "web": {"base", "core", "services", "web"},
    "entry": {"base", "core", "services", "web", "entry"},
}

# Services never read the request's state; they take arguments, so the CLI and tests call them.
REQUEST_STATE = {"flask": {"request", "session"}, "flask_login": {"current_user"}}
NO_REQUEST_STATE = {"services"}
# Known exceptions, with the reason:
MAY_READ_REQUEST_STATE = {
    # `permission_required` and `login_required` wrap views and check the signed-in user by design;
    # `can(user, permission)`, which services use, takes the user as an argument.
    "app/auth/permissions.py": {"flask_login.current_user", "current_user"},
}

# Libraries behind one module (or package): nothing else imports them.
ONLY_IN = {
    "markdown": ["app/markup.py"],
    "bleach": ["app/markup.py"],
    "whoosh": ["app/search/whoosh/*"],
    "smtplib": ["app/mail.py"],
    "markdownify": ["app/imports/wp_content.py"],
    "bs4": ["app/imports/wp_content.py"],
    "defusedxml": ["app/imports/wxr.py", "app/imports/disqus.py"],
    "sklearn": ["app/moderation/classifier.py"],  # the local classifier (numpy/scipy only through it)
}

CHECKED = ["app/**/*.py", "wsgi.py"]


# --- reading imports ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Imported:
    line: int
    module: str  # absolute, dotted: what the import makes the file depend on
    name: str | None = None  # for `from module import name`


def module_name(path: str) -> str:
    parts = path.removesuffix(".py").split("/")
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def module_file(module: str) -> str | None:
    """The repo-relative file of a module of this repository, or None (a library)."""
    base = Path(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if (ROOT / candidate).is_file():
            return candidate.as_posix()
    return None


def imports(path: str, tree: ast.AST) -> list[Imported]:
    """Every import in the file, at any depth; `from a import b` means a.b when b is a module."""
    package = module_name(path).split(".") if path.endswith("__init__.py") else module_name(path).split(".")[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend(Imported(node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the file's package, one level up per extra dot
                anchor = package[: len(package) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                if module_file(submodule) is not None:
                    found.append(Imported(node.lineno, submodule))
                else:
                    found.append(Imported(node.lineno, base, alias.name))
    return found


def layer_of(path: str) -> str | None:
    return next((layer for pattern, layer in LAYER_OF if fnmatch(path, pattern)), None)


def reads_request_state(tree: ast.AST) -> list[tuple[int, str]]:
    """`request`, `session` or `current_user` taken from Flask or Flask-Login, by import or attribute."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module in REQUEST_STATE:
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names
                      if alias.name in REQUEST_STATE[node.module]]
        elif (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
              and node.attr in REQUEST_STATE.get(node.value.id, ())):
            found.append((node.lineno, f"{node.value.id}.{node.attr}"))
        elif isinstance(node, ast.Name) and node.id == "current_user":
            found.append((node.lineno, "current_user"))
    return sorted(set(found))


def check(path: str, source: str) -> list[str]:
    """What in `source` (the file at repo-relative `path`) breaks the rules, as `path:line: why`."""
    layer = layer_of(path)
    if layer is None:
        return [f"{path}: has no layer (add it to LAYER_OF in tests/test_layers.py)"]
    tree = ast.parse(source, path)
    problems = []
    for imported in imports(path, tree):
        target = module_file(imported.module)
        if target is not None:
            target_layer = layer_of(target)
            if target_layer not in MAY_IMPORT[layer]:
                problems.append(f"{path}:{imported.line}: {layer} imports {imported.module} ({target_layer})")
        library = imported.module.split(".")[0]
        if library in ONLY_IN and not any(fnmatch(path, allowed) for allowed in ONLY_IN[library]):
            problems.append(f"{path}:{imported.line}: imports {library}, which only {', '.join(ONLY_IN[library])} may")
    if layer in NO_REQUEST_STATE:
        problems += [f"{path}:{line}: a service reads {what}" for line, what in reads_request_state(tree)
                     if what not in MAY_READ_REQUEST_STATE.get(path, ())]
    return problems


def checked_files() -> list[str]:
    return sorted({p.relative_to(ROOT).as_posix() for pattern in CHECKED for p in ROOT.glob(pattern)})


# --- the checks --------------------------------------------------------------------------------

def test_every_module_keeps_to_its_layer():
    problems = [problem for path in checked_files()
                for problem in check(path, (ROOT / path).read_text(encoding="utf-8"))]
    assert problems == []


def test_the_check_sees_the_whole_app():
    files = checked_files()
    assert len(files) > 80 and "wsgi.py" in files and "app/search/whoosh/writing.py" in files
    assert {layer_of(path) for path in files} == set(MAY_IMPORT)


@pytest.mark.parametrize("path, source, expected", [
    # layers
    ("app/config.py", "from app.models import User", "base imports app.models (core)"),
    ("app/urls.py", "from app import markup", "base imports app.markup (core)"),
    ("app/models/user.py", "from app.moderation import service", "core imports app.moderation.service (services)"),
    ("app/models/comment.py", "def f():\n    from app.blog.routes import render_post_page\n",
     "core imports app.blog.routes (web)"),
    ("app/markup.py", "import app.search.index", "core imports app.search.index (services)"),
    ("app/moderation/queue.py", "from app.comments.forms import is_id", "services imports app.comments.forms (web)"),
    ("app/content/queries.py", "from app.comments.browser_state import own_comment_ids",
     "services imports app.comments.browser_state (web)"),
    ("app/users/service.py", "from app.errors import register", "services imports app.errors (web)"),
    ("app/demo/generate.py", "from app import create_app", "services imports app (entry)"),
    ("app/privacy/service.py", "from . import routes", "services imports app.privacy.routes (web)"),
    ("app/blog/routes.py", "from app.cli.posts import posts", "web imports app.cli.posts (entry)"),
    # the request's state
    ("app/content/queries.py", "from flask import current_app, request", "a service reads flask.request"),
    ("app/outbox.py", "import flask\n\ndef f():\n    return flask.session.get('x')\n", "a service reads flask.session"),
    ("app/users/service.py", "from flask_login import current_user", "a service reads flask_login.current_user"),
    ("app/moderation/service.py", "def f(current_user):\n    return current_user\n", "a service reads current_user"),
    ("app/auth/permissions.py", "from flask import request", "a service reads flask.request"),  # only current_user
    # libraries behind one module
    ("app/content/publishing.py", "import markdown", "imports markdown, which only app/markup.py may"),
    ("app/comments/policy.py", "from bleach.linkifier import Linker", "imports bleach, which only app/markup.py may"),
    ("app/search/index.py", "def f():\n    from whoosh import index\n",
     "imports whoosh, which only app/search/whoosh/* may"),
    ("app/moderation/digest.py", "import smtplib", "imports smtplib, which only app/mail.py may"),
    # a file without a layer
    ("app/newthing.py", "", "has no layer"),
])
def test_a_rule_broken_on_purpose_is_found(path, source, expected):
    problems = check(path, source)
    assert len(problems) == 1 and expected in problems[0], problems


@pytest.mark.parametrize("path, source", [
    ("app/markup.py", "import bleach\nimport markdown\nfrom markdown.extensions import Extension"),
    ("app/search/whoosh/writing.py", "from whoosh.writing import AsyncWriter"),
    ("app/mail.py", "import smtplib"),
    ("app/comments/browser_state.py", "from flask import session"),  # web, by its listed exception
    ("app/moderation/routes.py", "from flask import request\nfrom flask_login import current_user"),
    ("app/moderation/service.py", "from app.models import Comment\nfrom app.search import index\nfrom app import mail"),
    ("app/models/comment.py", "from app.extensions import db\nfrom app.models.types import UTCDateTime"),
    ("app/blog/routes.py", "from app.comments import service, threads"),
    ("wsgi.py", "from app import create_app"),
    ("app/cli/posts.py", "from app.content.importer import Importer"),
])
def test_what_the_rules_allow_passes(path, source):
    assert check(path, source) == []
