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


@demo.command("comments")
def comments():
    """Add the hand-written discussions to demo posts that have no comments yet, dated relative to now."""
    from app.demo.threads import load_demo_comments

    posts, added = load_demo_comments()
    if added:
        click.echo(f"Added {added} demo comments under {posts} posts.")
    else:
        click.echo("Demo comments exist already (or the demo posts are missing).")


@demo.command("canned")
def canned():
    """Add the starter set of canned responses (German and English) that is missing; changed ones stay."""
    from app.moderation.canned import install_starter_set

    added = install_starter_set()
    db.session.commit()
    click.echo(f"Added {added} canned responses." if added else "The starter canned responses exist already.")


@demo.command("generate")
@click.option("--posts", "post_count", type=click.IntRange(0), default=100, show_default=True)
@click.option("--comments-per-post", type=click.IntRange(0), default=10, show_default=True)
@click.option("--pending", type=click.IntRange(0), default=0, show_default=True,
              help="How many of the comments wait in the moderation queue.")
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same data.")
def generate(post_count, comments_per_post, pending, seed):
    """Add deterministic synthetic German posts and threaded comments (for benchmarks and demos)."""
    import time

    from app.demo.generate import generate as run

    started = time.perf_counter()
    total = post_count * (1 + comments_per_post)
    with click.progressbar(length=total, label="Generating", show_pos=True) as bar:
        def progress(stage: str, n: int) -> None:
            if stage in ("posts", "comments"):
                bar.update(n)

        result = run(posts=post_count, comments_per_post=comments_per_post, pending=pending, seed=seed,
                     progress=progress)
    seconds = time.perf_counter() - started
    click.echo(f"Generated {result.posts} posts and {result.comments} comments ({result.pending} pending) "
               f"in {seconds:.1f} s.")
