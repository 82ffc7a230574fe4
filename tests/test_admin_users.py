"""The admin pages for staff accounts: list, create, edit, (de)activate, passwords, and the lock-out guards."""
import re

import pytest
from sqlalchemy import select

from app.admin.routes import change_problem
from app.extensions import db
from app.models import Role, User
from tests.moderation_helpers import cookie_id

PASSWORD = "correct horse battery"


@pytest.fixture
def admin(make):
    return make.user("ada", role=Role.ADMIN, display_name="Ada Admin")


@pytest.fixture
def as_admin(app, admin):
    return signed_in(app, admin)


def signed_in(app, user):
    client = app.test_client()
    client.set_cookie("lang", "en")  # English msgids, whatever the German catalogue says
    with client.session_transaction() as s:
        s["_user_id"] = cookie_id(user)
        s["_fresh"] = True
    return client


def html(response):
    return response.get_data(as_text=True)


def account(username):
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.username == username))


def form_login(app, username, password):
    client = app.test_client()
    client.set_cookie("lang", "en")
    return client, client.post("/login", data={"username": username, "password": password})


NEW = {"username": "bruno", "display_name": "Bruno Berg", "email": "bruno@example.org", "role": "moderator",
       "password": "ein langes Passwort"}


def edit_data(user, **changes):
    data = {"display_name": user.display_name, "email": user.email, "role": user.role,
            "active": "y" if user.active else None, "new_password": "", **changes}
    return {k: v for k, v in data.items() if v is not None}


# --- the list --------------------------------------------------------------------------------

def test_list_shows_every_account_with_a_link(as_admin, make, admin):
    mod = make.user("mona", role=Role.MODERATOR, display_name="Mona Moderator")
    gone = make.user("gustav", role=Role.AUTHOR)
    gone.active = False
    db.session.commit()
    response = as_admin.get("/admin/users")
    page = html(response)
    assert response.status_code == 200
    for u in (admin, mod, gone):
        assert f'href="/admin/users/{u.id}"' in page and u.email in page
    assert "Mona Moderator" in page and "Moderator" in page and "Administrator" in page
    assert "inactive" in page
    assert 'href="/admin/users/new"' in page


def test_only_admins_reach_the_admin_pages(app, make, client):
    for role in (Role.EDITOR, Role.AUTHOR, Role.MODERATOR):
        staff = signed_in(app, make.user(role=role))
        assert staff.get("/admin/users").status_code == 403
        assert staff.post("/admin/users/new", data=NEW).status_code == 403
    assert account("bruno") is None
    response = client.get("/admin/users")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")


# --- creating --------------------------------------------------------------------------------

def test_create_with_a_typed_password(app, as_admin):
    page = html(as_admin.get("/admin/users/new"))
    assert 'name="username"' in page and 'name="generate"' in page and "<select" in page
    response = as_admin.post("/admin/users/new", data=NEW)
    assert response.status_code == 302 and response.headers["Location"] == "/admin/users"
    bruno = account("bruno")
    assert (bruno.role, bruno.display_name, bruno.email, bruno.active) == ("moderator", "Bruno Berg",
                                                                          "bruno@example.org", True)
    assert "Account bruno created." in html(as_admin.get("/admin/users"))
    _, login = form_login(app, "bruno", "ein langes Passwort")
    assert login.status_code == 302


def test_create_with_a_generated_password_shows_it_once(app, as_admin):
    response = as_admin.post("/admin/users/new", data={**NEW, "password": "", "generate": "y"})
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    page = html(response)
    password = re.search(r'<code class="generated-password">([^<]+)</code>', page).group(1)
    assert "shown only now" in page and len(password) >= 10
    assert account("bruno").check_password(password)
    # Shown on that response only: not kept in the session (flash) nor on later pages.
    with as_admin.session_transaction() as s:
        assert password not in repr(dict(s))
    assert password not in html(as_admin.get("/admin/users"))
    _, login = form_login(app, "bruno", password)
    assert login.status_code == 302


def test_display_name_defaults_to_the_user_name(as_admin):
    as_admin.post("/admin/users/new", data={**NEW, "display_name": ""})
    assert account("bruno").display_name == "bruno"


@pytest.mark.parametrize("changes, message", [
    ({"username": "Bad Name"}, "user name must be 2–64 characters"),
    ({"username": "ada"}, "the user name is already taken"),
    ({"email": "ADA@example.org"}, "the e-mail address is already taken"),
    ({"email": "kein-email"}, "is not an e-mail address"),
    ({"password": "kurz"}, "password must have at least 10 characters"),
    ({"password": ""}, "Please type a password or let one be generated."),
    ({"generate": "y"}, "Either type a password or let one be generated, not both."),
    ({"role": "chef"}, "Not a valid choice"),
    ({"username": ""}, "Please enter a user name."),
    ({"email": ""}, "Please enter an e-mail address."),
])
def test_create_errors_reshow_the_form_with_the_typed_values(as_admin, admin, changes, message):
    data = {**NEW, **changes}
    response = as_admin.post("/admin/users/new", data=data)
    page = html(response)
    assert response.status_code == 400
    assert message in page, page
    assert 'class="comment-form"' in page
    for name in ("username", "display_name", "email"):
        if data[name]:
            assert f'value="{data[name]}"' in page
    if data["password"]:
        assert data["password"] not in page  # passwords are never echoed back
    db.session.expire_all()
    assert db.session.scalars(select(User.username)).all() == ["ada"]


def test_form_has_a_csrf_token_and_refuses_a_post_without_one(app, as_admin):
    app.config["WTF_CSRF_ENABLED"] = True
    assert 'name="csrf_token"' in html(as_admin.get("/admin/users/new"))
    assert as_admin.post("/admin/users/new", data=NEW).status_code == 400
    assert account("bruno") is None


# --- editing ---------------------------------------------------------------------------------

def test_edit_page_shows_the_current_values(as_admin, make):
    mona = make.user("mona", role=Role.MODERATOR, display_name="Mona Moderator")
    page = html(as_admin.get(f"/admin/users/{mona.id}"))
    assert 'value="Mona Moderator"' in page and 'value="mona@example.org"' in page
    assert re.search(r'<option selected value="moderator">|<option value="moderator" selected>', page)
    assert re.search(r'<input[^>]*checked[^>]*name="active"|<input[^>]*name="active"[^>]*checked', page)


def test_change_display_name_email_and_role(as_admin, make):
    mona = make.user("mona", role=Role.MODERATOR)
    response = as_admin.post(f"/admin/users/{mona.id}", data=edit_data(
        mona, display_name="Mona M.", email="mona.m@example.org", role="editor"))
    assert response.status_code == 302 and response.headers["Location"] == "/admin/users"
    mona = account("mona")
    assert (mona.display_name, mona.email, mona.role, mona.active) == ("Mona M.", "mona.m@example.org", "editor", True)
    assert mona.check_password(PASSWORD)  # an empty password field keeps the password
    assert "Account mona saved." in html(as_admin.get("/admin/users"))


def test_deactivated_account_cannot_sign_in_until_reactivated(app, as_admin, make):
    mona = make.user("mona", role=Role.MODERATOR)
    assert as_admin.post(f"/admin/users/{mona.id}", data=edit_data(mona, active=None)).status_code == 302
    assert account("mona").active is False
    _, refused = form_login(app, "mona", PASSWORD)
    assert refused.status_code == 400 and "User name or password is wrong." in html(refused)
    as_admin.post(f"/admin/users/{mona.id}", data=edit_data(account("mona"), active="y"))
    _, login = form_login(app, "mona", PASSWORD)
    assert login.status_code == 302


def test_deactivation_ends_an_open_session(app, as_admin, make):
    mona = make.user("mona", role=Role.MODERATOR)
    client, login = form_login(app, "mona", PASSWORD)
    assert login.status_code == 302 and client.get("/moderation/").status_code == 200
    as_admin.post(f"/admin/users/{mona.id}", data=edit_data(mona, active=None))
    for path in ("/moderation/", "/account/password"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login"), path


def test_set_a_new_password(app, as_admin, make):
    mona = make.user("mona", role=Role.MODERATOR)
    response = as_admin.post(f"/admin/users/{mona.id}", data=edit_data(mona, new_password="ein neues Passwort"))
    assert response.status_code == 302
    assert form_login(app, "mona", PASSWORD)[1].status_code == 400
    assert form_login(app, "mona", "ein neues Passwort")[1].status_code == 302


def test_generate_a_new_password(app, as_admin, make):
    mona = make.user("mona", role=Role.MODERATOR)
    response = as_admin.post(f"/admin/users/{mona.id}", data=edit_data(mona, generate="y"))
    assert response.status_code == 200 and "no-store" in response.headers["Cache-Control"]
    password = re.search(r'<code class="generated-password">([^<]+)</code>', html(response)).group(1)
    assert account("mona").check_password(password)


@pytest.mark.parametrize("changes, message", [
    ({"new_password": "kurz"}, "password must have at least 10 characters"),
    ({"new_password": "ein neues Passwort", "generate": "y"}, "not both"),
    ({"email": "ada@EXAMPLE.org"}, "already used by another account"),
    ({"email": "kein-email"}, "is not an e-mail address"),
    ({"display_name": ""}, "Please enter a display name."),
    ({"role": "chef"}, "Not a valid choice"),
])
def test_edit_errors_change_nothing(as_admin, admin, make, changes, message):
    mona = make.user("mona", role=Role.MODERATOR, display_name="Mona")
    data = edit_data(mona, **{"display_name": "Typed Name", "role": "editor", **changes})
    response = as_admin.post(f"/admin/users/{mona.id}", data=data)
    page = html(response)
    assert response.status_code == 400 and message in page, page
    if data["display_name"]:
        assert f'value="{data["display_name"]}"' in page  # the typed values are shown again
    mona = account("mona")
    assert (mona.display_name, mona.role, mona.email) == ("Mona", "moderator", "mona@example.org")
    assert mona.check_password(PASSWORD)


def test_own_email_in_other_case_is_fine(as_admin, make):
    mona = make.user("mona", role=Role.MODERATOR)
    assert as_admin.post(f"/admin/users/{mona.id}", data=edit_data(mona, email="Mona@Example.org")).status_code == 302
    assert account("mona").email == "Mona@Example.org"


def test_unknown_account_is_404(as_admin):
    assert as_admin.get("/admin/users/999").status_code == 404
    assert as_admin.post("/admin/users/999", data={"display_name": "x"}).status_code == 404


# --- lock-out guards -------------------------------------------------------------------------

def test_admin_cannot_deactivate_themselves(as_admin, admin, make):
    make.user("other", role=Role.ADMIN)  # not the last admin: the self rule alone applies
    response = as_admin.post(f"/admin/users/{admin.id}", data=edit_data(admin, active=None))
    assert response.status_code == 400 and "You cannot deactivate your own account." in html(response)
    assert account("ada").active is True


def test_admin_cannot_remove_their_own_admin_role(as_admin, admin, make):
    make.user("other", role=Role.ADMIN)
    response = as_admin.post(f"/admin/users/{admin.id}", data=edit_data(admin, role="editor"))
    assert response.status_code == 400 and "You cannot remove your own administrator role." in html(response)
    assert account("ada").role == Role.ADMIN


def test_admin_may_change_their_own_name_and_password(app, as_admin, admin):
    response = as_admin.post(f"/admin/users/{admin.id}", data=edit_data(
        admin, display_name="Ada L.", new_password="ein neues Passwort"))
    assert response.status_code == 302
    assert account("ada").display_name == "Ada L."
    assert form_login(app, "ada", "ein neues Passwort")[1].status_code == 302


def test_admin_may_demote_and_deactivate_another_admin(as_admin, make):
    bert = make.user("bert", role=Role.ADMIN)
    assert as_admin.post(f"/admin/users/{bert.id}", data=edit_data(bert, role="editor")).status_code == 302
    assert account("bert").role == Role.EDITOR
    carl = make.user("carl", role=Role.ADMIN)
    assert as_admin.post(f"/admin/users/{carl.id}", data=edit_data(carl, active=None)).status_code == 302
    assert account("carl").active is False


def test_the_last_active_admin_cannot_be_demoted_or_deactivated(app, admin, make):
    """Through the pages only the admin themselves can be the last one; the rule also holds for other callers."""
    inactive = make.user("ina", role=Role.ADMIN)
    inactive.active = False
    db.session.commit()
    with app.test_request_context(headers={"Accept-Language": "en"}):
        for role, active in (("editor", True), ("admin", False)):
            problem = change_problem(admin, role=role, active=active, actor=None)
            assert problem and "ada is the last active administrator" in problem
        assert change_problem(admin, role="admin", active=True, actor=None) is None
        # An inactive admin does not count, and changing them is no risk.
        assert change_problem(inactive, role="editor", active=False, actor=None) is None
        make.user("bert", role=Role.ADMIN)
        assert change_problem(admin, role="editor", active=True, actor=None) is None
