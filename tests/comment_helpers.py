"""Helpers for comment tests: post a comment like a browser, add comments directly in bulk."""
from datetime import timedelta

from app import markup
from app.extensions import db
from app.models import Comment, CommentStatus, utcnow

FORM = {"name": "Petra Lindqvist", "email": "petra@example.org", "body": "Wann kommt Glasfaser nach Kleinwellingen?",
        "consent": "y"}


def post_comment(client, slug, **fields):
    data = {**FORM, **fields}
    return client.post(f"/posts/{slug}/comments", data={k: v for k, v in data.items() if v is not None})


def wrote(client, app, *comments) -> None:
    """Give `client` the reader cookie of the browser that wrote `comments` (once one of them is
    approved, that browser is trusted with its address)."""
    from itsdangerous import URLSafeTimedSerializer

    from app.comments.browser_state import READER_COOKIE

    value = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="reader-proof").dumps(
        {"c": [c.id for c in comments], "a": []})
    client.set_cookie(READER_COOKIE, value)


def add_comment(post, parent=None, status=CommentStatus.APPROVED, name="Leser", email="leser@example.org",
                body="Ein Kommentar.", minutes_ago=60, commit=True, **kw):
    """Insert a comment directly (bypassing the form), with root and depth like the service sets them."""
    comment = Comment(post_id=post.id, parent_id=parent.id if parent else None, depth=parent.depth + 1 if parent else 0,
                      author_name=name, author_email=email, body_md=body, body_html=markup.render_comment(body),
                      status=status, created_at=utcnow() - timedelta(minutes=minutes_ago), **kw)
    db.session.add(comment)
    db.session.flush()
    comment.root_id = parent.root_id if parent else comment.id
    if commit:
        db.session.commit()
    return comment
