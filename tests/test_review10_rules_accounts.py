"""Outside review of issue 10, batch 5: rules of odd shape, accounts."""
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Comment, CommentStatus, Role, Setting
from app.users import tokens
from tests.comment_helpers import post_comment
from tests.moderation_helpers import login


@pytest.mark.parametrize("value", [{"a": 1}, "wort", 5, None, [None, 1, ["x"], {"y": 2}], True])
def test_a_stored_rule_of_the_wrong_shape_is_no_500(app, make, client, value):
    make.post("Glasfaser für alle", slug="glasfaser-fuer-alle")
    for key in ("comments.blocklist", "comments.held_words", "comments.max_links", "comments.close_after_days",
                "comments.report_threshold"):
        db.session.add(Setting(key=key, value=value))
    db.session.commit()
    assert post_comment(app.test_client(), "glasfaser-fuer-alle").status_code == 302
    login(client, make.user("admin", role=Role.ADMIN))
    assert client.get("/admin/rules").status_code == 200
    assert client.get("/moderation/").status_code == 200
    assert client.get("/posts/glasfaser-fuer-alle").status_code == 200


def test_rule_words_with_regex_characters_are_literal_and_10000_words_refused(app, make, client):
    make.post("Glasfaser für alle", slug="glasfaser-fuer-alle")
    login(client, make.user("admin", role=Role.ADMIN))
    r = client.post("/admin/rules", data={"blocklist": "", "held_words": "(.*)\na|b\nc++\n[x", "max_links": "2",
                                          "close_after_days": "", "report_threshold": "3"})
    assert r.status_code == 302
    post_comment(app.test_client(), "glasfaser-fuer-alle", body="Ganz normal und harmlos")
    post_comment(app.test_client(), "glasfaser-fuer-alle", body="Ich mag c++ sehr")
    statuses = [c.status for c in db.session.scalars(select(Comment).order_by(Comment.id))]
    assert statuses == [CommentStatus.APPROVED, CommentStatus.PENDING] or statuses[1] == CommentStatus.PENDING, statuses
    r = client.post("/admin/rules", data={"blocklist": "\n".join(f"w{i}" for i in range(10_000)), "held_words": "",
                                          "max_links": "2", "close_after_days": "", "report_threshold": "3"})
    assert r.status_code == 400


def test_password_step_alone_reaches_no_staff_page(app, make, client):
    import pyotp

    from app.users import two_factor
    user = make.user("gina", role=Role.ADMIN)
    secret = pyotp.random_base32()
    two_factor.enable(user, secret, pyotp.TOTP(secret).now())
    db.session.commit()
    r = client.post("/login", data={"username": "gina", "password": "correct horse battery", "next": "/admin/rules"})
    assert r.headers["Location"].endswith("/login/two-factor")
    for path in ("/admin/rules", "/editor/", "/moderation/", "/account/password", "/account/two-factor",
                 "/editor/images"):
        assert client.get(path).status_code in (302, 401, 403), path
        assert "/login" in client.get(path).headers.get("Location", "/login"), path


def test_tokens_do_not_cross_purposes_or_accounts(app, make):
    user = make.user("neu", role=Role.EDITOR)
    reset = tokens.issue(user, tokens.RESET)
    with pytest.raises(tokens.TokenError):
        tokens.redeem(reset, tokens.INVITE)
    user.password_hash = None
    db.session.commit()
    invite = tokens.issue(user, tokens.INVITE)
    with pytest.raises(tokens.TokenError):
        tokens.redeem(invite, tokens.RESET)
    user.active = False
    db.session.commit()
    with pytest.raises(tokens.TokenError):
        tokens.redeem(invite, tokens.INVITE)
