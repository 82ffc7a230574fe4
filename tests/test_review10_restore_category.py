"""Outside review of issue 10, batch 9: restore after a category was renamed or merged."""
from sqlalchemy import select

from app.extensions import db
from app.models import Post, PostRevision, Role
from tests.moderation_helpers import login


def form(**fields) -> dict:
    data = {"title": "T", "slug": "t", "summary": "", "category": "", "tags": "", "lang": "de",
            "comments_open": "y", "status": "published", "published_at": "", "body": "Text",
            "version": "", "action": "save"}
    data.update(fields)
    return data


def test_restoring_an_old_revision_keeps_the_category_after_a_slug_change(app, make, client):
    admin = make.user("admin", role=Role.ADMIN)
    login(client, admin)
    cat = make.category("Netz")
    client.post("/editor/new", data=form(category=str(cat.id)))
    post = db.session.scalar(select(Post))
    client.post(f"/editor/{post.id}", data=form(category=str(cat.id), body="Text zwei", version="1"))
    r = client.post(f"/admin/categories/{cat.id}", data={"name": "Netz", "slug": "netzwerk", "target": "4",
                                                         "unit": "hours"})
    assert r.status_code == 302
    first = db.session.scalar(select(PostRevision).order_by(PostRevision.id))
    r = client.post(f"/editor/{post.id}/revisions/{first.id}/restore", data={"version": "2"})
    assert r.status_code == 302
    db.session.expire_all()
    post = db.session.get(Post, post.id)
    assert post.body_md == "Text"
    assert post.category_id == cat.id, "the restore dropped the post's category"
