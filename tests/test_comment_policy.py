"""The policy that decides a new comment's status, rule by rule."""
import pytest

from app.comments.policy import CommentPolicy, Submission

policy = CommentPolicy(min_seconds=3, max_links=2, blocklist=("casino bonus", "viagra"))


def decide(**kw):
    base = {"text": "Gute Frage zur Störung.", "email": "a@example.org", "seconds_taken": 30.0}
    return policy.decide(Submission(**{**base, **kw}))


def test_new_author_waits_for_moderation():
    assert (decide().status, decide().reason) == ("pending", "new_author")


def test_staff_is_approved_even_with_links():
    d = decide(is_staff=True, text="https://a.example https://b.example https://c.example", seconds_taken=0.1)
    assert (d.status, d.reason) == ("approved", "staff")


def test_trusted_author_is_approved():
    assert (decide(approved_before=1).status, decide(approved_before=1).reason) == ("approved", "trusted")


def test_trusted_author_with_many_links_waits():
    d = decide(approved_before=3, text="https://a.example/1 http://b.example/2 www.c.example")
    assert (d.status, d.reason) == ("pending", "too_many_links")
    assert decide(approved_before=3, text="https://a.example/1 http://b.example/2").status == "approved"


@pytest.mark.parametrize("kw, reason", [
    ({"honeypot": "http://spam.example"}, "honeypot"),
    ({"seconds_taken": 1.2}, "too_fast"),
    ({"seconds_taken": None}, "too_fast"),  # missing or forged timestamp
    ({"text": "Bester CASINO  bonus hier"}, "new_author"),  # two spaces: not the blocked phrase
    ({"text": "Bester Casino Bonus hier"}, "blocklist"),
    ({"text": "viagra!"}, "blocklist"),
    ({"text": "Viagrafabrik"}, "new_author"),  # whole words only
])
def test_spam_rules(kw, reason):
    d = decide(**kw)
    assert d.reason == reason
    assert d.status == ("spam" if reason in ("honeypot", "too_fast", "blocklist") else "pending")


def test_spam_rules_beat_trust():
    assert decide(approved_before=10, honeypot="x").status == "spam"
    assert decide(approved_before=10, text="viagra").status == "spam"


def test_min_seconds_zero_disables_the_timer():
    relaxed = CommentPolicy(min_seconds=0)
    assert relaxed.decide(Submission(text="x", email="a@b.org", seconds_taken=None)).status == "pending"


def test_from_config():
    p = CommentPolicy.from_config({"COMMENT_MIN_SECONDS": 5, "COMMENT_MAX_LINKS": 0, "COMMENT_BLOCKLIST": ["Kredit"]})
    assert (p.min_seconds, p.max_links, p.blocklist) == (5.0, 0, ("kredit",))
