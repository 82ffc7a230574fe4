"""Outside review of issue 10, batch 7: CSRF on with the new POST routes."""
import io
import os
import re

import pytest
from PIL import Image

from app.models import Role
from tests.moderation_helpers import login


@pytest.fixture
def csrf_app(app):
    app.config["WTF_CSRF_ENABLED"] = True
    return app


def test_every_new_post_route_needs_the_csrf_token(csrf_app, make, client):
    admin = make.user("admin", role=Role.ADMIN)
    post = make.post("P", author=admin)
    cat = make.category("Alpha")
    login(client, admin)
    paths = ["/editor/new", f"/editor/{post.id}", "/editor/preview", f"/editor/{post.id}/preview-link",
             f"/editor/{post.id}/preview-link/revoke", f"/editor/{post.id}/comments", "/editor/images",
             f"/posts/{post.id}/comments-open", "/admin/categories", f"/admin/categories/{cat.id}",
             f"/admin/categories/{cat.id}/move", f"/admin/categories/{cat.id}/merge", "/admin/rules",
             "/admin/rules/reset", "/account/two-factor/enable", "/account/two-factor/disable",
             "/login/forgot", "/login/known-browser"]
    for path in paths:
        assert client.post(path, data={"open": "0"}).status_code == 400, path


def test_a_4mb_upload_works_with_csrf_on(csrf_app, make, client):
    login(client, make.user("jana", role=Role.AUTHOR))
    page = client.get("/editor/images").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    img = Image.frombytes("RGB", (1200, 1200), os.urandom(1200 * 1200 * 3))
    out = io.BytesIO()
    img.save(out, "PNG")
    data = out.getvalue()
    assert 2_000_000 < len(data) < 5 * 1024 * 1024, len(data)
    r = client.post("/editor/images", data={"csrf_token": token, "alt": "Rauschen",
                                            "image": (io.BytesIO(data), "n.png")}, content_type="multipart/form-data")
    assert r.status_code == 302, r.status_code
