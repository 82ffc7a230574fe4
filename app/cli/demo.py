import click
from flask.cli import AppGroup
from sqlalchemy import select

from app.extensions import db
from app.models import Role, User
from app.users.service import create_user, generate_password

demo = AppGroup("demo", help="Demo content for trying Dialog out.")

DEMO_STAFF = [
    ("admin", Role.ADMIN, "Sabine Wolff"),
    ("editor", Role.EDITOR, "Paul Hartmann"),
    ("author", Role.AUTHOR, "Lea Vogt"),
    ("moderator", Role.MODERATOR, "Anna Seidel"),
]


@demo.command("accounts")
def accounts():
    """Create one staff account per role if missing; new passwords are printed once."""
    created = []
    for username, role, name in DEMO_STAFF:
        if db.session.scalar(select(User.id).where(User.username == username)) is not None:
            continue
        password = generate_password()
        create_user(username, email=f"{username}@sternwelle.example", role=role, password=password,
                    display_name=name)
        created.append((username, role, password))
    db.session.commit()
    if not created:
        click.echo("Demo accounts exist already (reset one with: flask --app wsgi users set-password NAME).")
        return
    click.echo("Demo staff accounts (passwords are shown only now):")
    for username, role, password in created:
        click.echo(f"  {username:<10} {role:<10} {password}")
