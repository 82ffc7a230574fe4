"""`flask users …` and `flask demo accounts`."""
from sqlalchemy import select

from app.extensions import db
from app.models import Role, User


def user(name):
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.username == name))


def test_create_user_with_generated_password(runner):
    result = runner.invoke(args=["users", "create", "anna", "--role", "moderator", "--email", "anna@example.org"])
    assert result.exit_code == 0, result.output
    assert "Created moderator anna <anna@example.org>." in result.output
    password = result.output.split("Password (shown only now): ")[1].strip()
    anna = user("anna")
    assert anna.role == Role.MODERATOR and anna.active
    assert anna.password_hash.startswith("scrypt:") and anna.check_password(password)


def test_create_user_with_password_from_stdin(runner):
    result = runner.invoke(args=["users", "create", "paul", "--role", "editor", "--email", "paul@example.org",
                                 "--display-name", "Paul Hartmann", "--password-stdin"],
                           input="ein langes Passwort\n")
    assert result.exit_code == 0, result.output
    assert "Password" not in result.output
    paul = user("paul")
    assert paul.check_password("ein langes Passwort") and paul.display_name == "Paul Hartmann"


def test_duplicate_name_or_email_is_a_clear_error(runner):
    runner.invoke(args=["users", "create", "anna", "--role", "admin", "--email", "anna@example.org"])
    result = runner.invoke(args=["users", "create", "anna", "--role", "admin", "--email", "other@example.org"])
    assert result.exit_code == 1 and "the user name is already taken" in result.output
    result = runner.invoke(args=["users", "create", "anna2", "--role", "admin", "--email", "ANNA@example.org"])
    assert result.exit_code == 1 and "the e-mail address is already taken" in result.output


def test_unknown_role_is_a_clear_error(runner):
    result = runner.invoke(args=["users", "create", "bob", "--role", "chef", "--email", "bob@example.org"])
    assert result.exit_code == 1
    assert "unknown role 'chef' (use one of: admin, editor, author, moderator)" in result.output
    assert user("bob") is None


def test_bad_input_is_refused(runner):
    for args, message in [
        (["users", "create", "x", "--role", "admin", "--email", "x@example.org"], "user name must be"),
        (["users", "create", "Bad Name", "--role", "admin", "--email", "x@example.org"], "user name must be"),
        (["users", "create", "carl", "--role", "admin", "--email", "kein-email"], "is not an e-mail address"),
    ]:
        result = runner.invoke(args=args)
        assert result.exit_code == 1 and message in result.output, result.output
    result = runner.invoke(args=["users", "create", "carl", "--role", "admin", "--email", "c@example.org",
                                 "--password-stdin"], input="kurz\n")
    assert result.exit_code == 1 and "at least 10 characters" in result.output


def test_set_password(runner):
    runner.invoke(args=["users", "create", "anna", "--role", "admin", "--email", "anna@example.org"])
    result = runner.invoke(args=["users", "set-password", "anna", "--password-stdin"], input="neues Passwort 1\n")
    assert result.exit_code == 0 and user("anna").check_password("neues Passwort 1")
    result = runner.invoke(args=["users", "set-password", "niemand"])
    assert result.exit_code == 1 and "no user named 'niemand'" in result.output


def test_demo_accounts_one_per_role_and_idempotent(runner):
    result = runner.invoke(args=["demo", "accounts"])
    assert result.exit_code == 0
    lines = [line.split() for line in result.output.splitlines() if line.startswith("  ")]
    assert {(name, role) for name, role, _ in lines} == {(r.value, r.value) for r in Role}
    for name, _, password in lines:
        assert user(name).check_password(password)
    again = runner.invoke(args=["demo", "accounts"])
    assert again.exit_code == 0 and "exist already" in again.output
    assert db.session.scalar(select(db.func.count()).select_from(User)) == 4


def test_users_list(runner):
    runner.invoke(args=["demo", "accounts"])
    output = runner.invoke(args=["users", "list"]).output
    assert "moderator" in output and "admin@sternwelle.example" in output


def test_two_factor_off_from_the_command_line(runner, make):
    """The last admin who lost phone and recovery codes can still be let in (audited)."""
    import pyotp

    from app.models import AdminEvent
    from app.users import two_factor

    admin = make.user("chefin", role=Role.ADMIN)
    secret = two_factor.new_secret()
    assert two_factor.enable(admin, secret, pyotp.TOTP(secret).at(two_factor.clock())) is not None
    db.session.commit()
    result = runner.invoke(args=["users", "two-factor-off", "chefin"])
    assert result.exit_code == 0 and "turned off" in result.output
    db.session.refresh(admin)
    assert not two_factor.enabled(admin) and admin.recovery_codes == []
    event = db.session.scalar(
        select(AdminEvent).where(AdminEvent.subject == "chefin", AdminEvent.action == "user.2fa_reset"))
    assert event is not None and event.actor_id is None and event.note == "from the command line"
    assert "not on" in runner.invoke(args=["users", "two-factor-off", "chefin"]).output
    assert runner.invoke(args=["users", "two-factor-off", "niemand"]).exit_code != 0
