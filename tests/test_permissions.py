"""Every route × every role: a new route cannot be forgotten.

Each endpoint is either listed in PUBLIC below or carries `required_permission` (set by
`permission_required` / `login_required`). Every protected route is then requested with each of
its methods as each role: anonymous visitors are sent to the login page, staff without the
permission get 403, staff with it get anything else.
"""
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from app.auth.permissions import ROLE_PERMISSIONS, Permission
from app.extensions import db
from app.models import CannedResponse, CommentStatus, Role
from tests.comment_helpers import add_comment
from tests.moderation_helpers import cookie_id

# Endpoints anybody may use without signing in. Adding one here is a decision: say why in review.
PUBLIC = {
    "static",
    # the blog itself
    "blog.index", "blog.post", "blog.page", "blog.category", "blog.tag", "blog.author", "blog.archive",
    "blog.archive_month",
    # feeds, sitemap, robots.txt
    "feeds.site_feed", "feeds.category_feed", "feeds.comments_feed", "feeds.sitemap", "feeds.robots",
    # site: health check, language switch; reader search (only what readers may see is indexed)
    "site.healthz", "site.set_language", "search.results",
    # readers' comments (no account; own comments are recognised by the service, not by a login)
    "comments.create", "comments.form_again", "comments.permalink", "comments.imported", "comments.reply",
    "comments.edit", "comments.delete", "comments.report", "comments.confirm", "comments.unsubscribe",
    # the public JSON API
    "api.post_comments",
    # signing in and out
    "auth.login", "auth.logout",
    # a sign-in link for a new browser while strangers keep guessing (signed, mailed to the account)
    "auth.known_browser_request", "auth.known_browser",
    # uploaded images shown in posts (generated names only; the upload itself needs WRITE_POSTS)
    "images.file",
    # the second sign-in step (the password was right; only the signed session's pending account is used)
    "auth.two_factor_step",
    # mailed account links: "forgot password" (same answer for any input) and its signed, expiring reset link
    "auth.forgot_password", "auth.reset_password",
    # the signed, expiring invitation link a new staff member opens before having a password
    "auth.accept_invite",
    "blog.preview",  # a secret preview link a blogger shares for review (unguessable token, revocable, noindex)
}

LOGIN = "login"  # the value `login_required` sets: any signed-in staff member
ROLES = [None, *Role]  # None: anonymous
METHODS = ("GET", "POST")


def required_permission(view):
    """The permission the view's decorators declared, looking through other wrappers (e.g. Flask-Limiter)."""
    seen = set()
    while view is not None and id(view) not in seen:
        seen.add(id(view))
        permission = getattr(view, "required_permission", None)
        if permission is not None:
            return permission
        view = getattr(view, "__wrapped__", None)
    return None


def allowed(role, permission) -> bool:
    if role is None:
        return False
    if permission == LOGIN:
        return True
    return permission in ROLE_PERMISSIONS.get(role, frozenset())


def rules(app):
    return sorted(app.url_map.iter_rules(), key=lambda r: (r.endpoint, r.rule))


# --- every endpoint is classified ------------------------------------------------------------

def test_every_route_is_public_or_has_a_permission_check(app):
    problems = []
    endpoints = set()
    for rule in rules(app):
        endpoints.add(rule.endpoint)
        permission = required_permission(app.view_functions[rule.endpoint])
        if permission is None and rule.endpoint not in PUBLIC:
            problems.append(f"new route {rule.endpoint} ({rule.rule}) has no permission check: decorate it with "
                            f"permission_required(...) or login_required, or add it to PUBLIC in this test")
        elif permission is not None and rule.endpoint in PUBLIC:
            problems.append(f"{rule.endpoint} ({rule.rule}) is listed as PUBLIC but requires {permission!r}")
        elif permission is not None and permission != LOGIN and permission not in set(Permission):
            problems.append(f"{rule.endpoint} ({rule.rule}) requires the unknown permission {permission!r}")
    for endpoint in sorted(PUBLIC - endpoints):
        problems.append(f"PUBLIC lists {endpoint}, which is no longer a route: remove it from the list")
    assert not problems, "\n".join(problems)


# --- every protected route × every role ------------------------------------------------------

@pytest.fixture
def world(app, make):
    """One user per role, and something real for every URL argument."""
    users = {role: make.user(f"staff-{role}", role=role) for role in Role}
    target = make.user("target", role=Role.AUTHOR)  # the account the admin pages are tried on
    post = make.post("Ein Beitrag", author=users[Role.AUTHOR])  # the author's own: the editor lets them in
    comment = add_comment(post, status=CommentStatus.PENDING)
    canned = CannedResponse(title="Danke", lang="de", body_md="Danke, {name}!")
    db.session.add(canned)
    db.session.commit()
    values = {
        "int": {"comment_id": comment.id, "response_id": canned.id, "user_id": target.id, "post_id": post.id},
        "str": {"action": "approve", "slug": post.slug, "username": target.username, "code": "en",
                "view": "pending"},
    }
    return users, values


ARGUMENT = re.compile(r"<(?:(?P<converter>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>")


def build_url(app, rule, values) -> str:
    args = {}
    for m in ARGUMENT.finditer(rule.rule):
        name, converter = m["name"], m["converter"] or "string"
        if converter == "int":
            args[name] = values["int"].get(name, 1)
        else:
            args[name] = values["str"].get(name, "x")
    with app.test_request_context():
        return app.url_map.bind("localhost").build(rule.endpoint, args)


def client_for(app, user):
    client = app.test_client()
    if user is not None:
        with client.session_transaction() as s:
            s["_user_id"] = cookie_id(user)
            s["_fresh"] = True
    return client


def sends_to_login(response, path) -> bool:
    if response.status_code != 302:
        return False
    location = urlsplit(response.headers["Location"])
    return location.path == "/login" and parse_qs(location.query).get("next") == [path]


def test_every_protected_route_answers_every_role_correctly(app, world):
    users, values = world
    # A view that fails still let the user in (a 500 is "any other status"); the guard is what is tested here,
    # so a crash answers 500 instead of stopping the whole matrix at the first broken page.
    app.config["PROPAGATE_EXCEPTIONS"] = False
    clients = {role: client_for(app, users[role] if role else None) for role in ROLES}
    checked, problems = 0, []
    for rule in rules(app):
        permission = required_permission(app.view_functions[rule.endpoint])
        if permission is None:
            continue
        url = build_url(app, rule, values)
        path = urlsplit(url).path
        for method in (m for m in METHODS if m in rule.methods):
            for role in ROLES:
                # buffered: streamed answers (CSV export) are read inside the request's own context
                response = clients[role].open(url, method=method, buffered=True)
                who = role or "anonymous"
                where = f"{method} {url} ({rule.endpoint}, needs {permission}) as {who}: {response.status_code}"
                if role is None:
                    if not sends_to_login(response, path):
                        problems.append(f"{where} {response.headers.get('Location')}, expected 302 to /login?next=")
                elif not allowed(role, permission):
                    if response.status_code != 403:
                        problems.append(f"{where}, expected 403")
                elif response.status_code == 403 or sends_to_login(response, path):
                    problems.append(f"{where}, expected access")
                checked += 1
    assert checked, "no protected routes found"
    assert not problems, "\n".join(problems)


# --- the rules that matter most, spelled out -------------------------------------------------

def test_only_moderators_and_admins_see_the_queue(app, world):
    users, _ = world
    for role in (Role.AUTHOR, Role.EDITOR):
        assert client_for(app, users[role]).get("/moderation/").status_code == 403, role
    for role in (Role.MODERATOR, Role.ADMIN):
        assert client_for(app, users[role]).get("/moderation/").status_code == 200, role


def test_only_admins_manage_users(app, world):
    users, _ = world
    for role in (Role.MODERATOR, Role.EDITOR, Role.AUTHOR):
        assert client_for(app, users[role]).get("/admin/users").status_code == 403, role
    assert client_for(app, users[Role.ADMIN]).get("/admin/users").status_code == 200


def test_role_permissions_are_what_the_team_agreed(app):
    assert ROLE_PERMISSIONS[Role.ADMIN] == frozenset(Permission)
    assert ROLE_PERMISSIONS[Role.EDITOR] == {
        Permission.WRITE_POSTS, Permission.EDIT_ALL_POSTS, Permission.PUBLISH_POSTS}
    assert ROLE_PERMISSIONS[Role.AUTHOR] == {Permission.WRITE_POSTS}
    assert ROLE_PERMISSIONS[Role.MODERATOR] == {Permission.MODERATE}
    assert set(ROLE_PERMISSIONS) == set(Role)


def test_public_routes_do_not_ask_anonymous_visitors_to_sign_in(app, world):
    _, values = world
    client = app.test_client()
    problems = []
    for rule in rules(app):
        if rule.endpoint not in PUBLIC or "GET" not in rule.methods:
            continue
        url = build_url(app, rule, values)
        response = client.get(url)
        if response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/login":
            problems.append(f"GET {url} ({rule.endpoint}) is listed as PUBLIC but sends to the login page")
    assert not problems, "\n".join(problems)
