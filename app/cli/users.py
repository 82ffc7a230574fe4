import sys

import click
from flask.cli import AppGroup
from flask_babel import force_locale
from sqlalchemy import select

from app.extensions import db
from app.models import Role, User
from app.users import two_factor
from app.users.service import UserError, create_user, generate_password, set_password

users = AppGroup("users", help="Staff accounts.")


def _english(exc: UserError) -> str:
    """The command line speaks English, whatever the site's default language."""
    with force_locale("en"):
        return str(exc.message)


def _read_password(from_stdin: bool) -> tuple[str, bool]:
    """The password from standard input, or a generated one (then it must be shown once)."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n"), False
    return generate_password(), True


@users.command("create")
@click.argument("username")
@click.option("--role", required=True, help=f"One of: {', '.join(Role)}.")
@click.option("--email", required=True)
@click.option("--display-name", default=None, help="Name shown to readers (default: the user name).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create(username, role, email, display_name, password_stdin):
    """Create a staff account; without --password-stdin a password is generated and printed once."""
    password, generated = _read_password(password_stdin)
    try:
        user = create_user(username, email=email, role=role, password=password, display_name=display_name)
        db.session.commit()
    except UserError as exc:
        db.session.rollback()
        raise click.ClickException(_english(exc)) from exc
    click.echo(f"Created {user.role} {user.username} <{user.email}>.")
    if generated:
        click.echo(f"Password (shown only now): {password}")


@users.command("set-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def set_password_command(username, password_stdin):
    """Set a new password; without --password-stdin one is generated and printed once."""
    user = db.session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise click.ClickException(f"no user named {username!r}")
    password, generated = _read_password(password_stdin)
    try:
        set_password(user, password)
    except UserError as exc:
        raise click.ClickException(_english(exc)) from exc
    db.session.commit()
    click.echo(f"Password of {user.username} changed.")
    if generated:
        click.echo(f"Password (shown only now): {password}")


@users.command("two-factor-off")
@click.argument("username")
def two_factor_off(username):
    """Turn two-factor sign-in off for an account whose phone and recovery codes are lost (audited)."""
    user = db.session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise click.ClickException(f"no user named {username!r}")
    if not two_factor.enabled(user):
        click.echo(f"Two-factor sign-in is not on for {user.username}.")
        return
    two_factor.disable(user, actor=None, action="user.2fa_reset", note="from the command line")
    db.session.commit()
    click.echo(f"Two-factor sign-in turned off for {user.username}; they sign in with their password alone.")


@users.command("list")
def list_users():
    """List all accounts with their role."""
    for user in db.session.scalars(select(User).order_by(User.role, User.username)):
        state = "" if user.active else " (inactive)"
        login = "" if user.password_hash else " (no login)"
        click.echo(f"{user.username:<20} {user.role:<10} {user.email or '-'}{state}{login}")
