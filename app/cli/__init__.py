"""Flask CLI commands: `flask --app wsgi posts|users|demo …`."""
from flask import Flask


def register(app: Flask) -> None:
    from app.cli.comments import comments
    from app.cli.demo import demo
    from app.cli.imports import imports, redirects
    from app.cli.mail import mail
    from app.cli.moderation import moderation
    from app.cli.outbox import outbox
    from app.cli.posts import posts
    from app.cli.search import search
    from app.cli.users import users

    for group in (posts, users, comments, mail, moderation, search, outbox, demo, imports, redirects):
        app.cli.add_command(group)
