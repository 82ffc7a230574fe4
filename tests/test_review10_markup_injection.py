"""Outside review of issue 10, batch 4: markup injection through every new field."""
import io

from PIL import Image
from sqlalchemy import select

from app.extensions import db
from app.models import Post, Role
from tests.moderation_helpers import login

X = '"><script>alert(1)</script><img src=x onerror=alert(2)>'


def form(**fields) -> dict:
    data = {"title": "T", "slug": "", "summary": "", "category": "", "tags": "", "lang": "de",
            "comments_open": "y", "status": "published", "published_at": "", "body": "Text",
            "version": "", "action": "save"}
    data.update(fields)
    return data


def clean(html: str, where: str):
    assert "<script>alert(1)" not in html, where
    assert "onerror=alert(2)" not in html.replace("onerror=alert(2)&gt;", ""), where


def test_no_markup_injection_anywhere(app, make, client):
    admin = make.user("admin", role=Role.ADMIN)
    login(client, admin)
    r = client.post("/admin/categories", data={"name": "Kat " + X[:60], "slug": "kat", "description": X,
                                                "target": "4", "unit": "hours"})
    import re as _re
    assert r.status_code == 302, _re.findall(r'role="alert"[^>]*>([^<]*)', r.get_data(as_text=True))
    from app.models import Category
    cat = db.session.scalar(select(Category))
    r = client.post("/admin/rules", data={"blocklist": "<b>fett</b>\n" + X[:90], "held_words": "a|b\n(.*)+$\n\\d",
                                          "max_links": "2", "close_after_days": "", "report_threshold": "3"})
    assert r.status_code == 302, [line for line in r.get_data(as_text=True).splitlines() if "error" in line][:5]
    r = client.post("/editor/new", data=form(title="Titel " + X, summary=X, tags="Tag " + X[:60],
                                             category=str(cat.id), body="Text " + X))
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    post = db.session.scalar(select(Post))
    r = client.post(f"/editor/{post.id}", data=form(title="Titel2 " + X, summary=X, tags="Tag " + X[:60],
                                                   category=str(cat.id), body="Text2 " + X, version="1",
                                                   slug=post.slug))
    out = io.BytesIO()
    Image.new("RGB", (5, 5)).save(out, "PNG")
    evil_name = "<script>alert(1)</script>.png"
    r = client.post("/editor/images", data={"alt": X, "image": (io.BytesIO(out.getvalue()), evil_name)},
                    content_type="multipart/form-data")
    assert r.status_code == 302
    db.session.expire_all()
    post = db.session.get(Post, post.id)
    client.post(f"/editor/{post.id}/preview-link")
    db.session.expire_all()
    token = db.session.get(Post, post.id).preview_token
    pages = ["/admin/categories", f"/admin/categories/{cat.id}", "/admin/rules", "/editor/", f"/editor/{post.id}",
             f"/editor/{post.id}/revisions", f"/editor/{post.id}/diff", "/editor/images", "/editor/images?pick=1",
             f"/posts/{post.slug}", "/", "/feed.atom", f"/category/{cat.slug}", "/sitemap.xml", f"/preview/{token}",
             "/moderation/"]
    for page in pages:
        response = client.get(page, follow_redirects=True)
        assert response.status_code == 200, (page, response.status_code)
        clean(response.get_data(as_text=True), page)
    response = client.post("/editor/preview", data={"body": X})
    clean(response.get_data(as_text=True), "preview")
    reader = app.test_client()
    for page in [f"/posts/{post.slug}", "/", f"/preview/{token}", f"/tag/{post.tags[0].slug if False else 'tag'}"]:
        response = reader.get(page)
        clean(response.get_data(as_text=True), "reader " + page)
