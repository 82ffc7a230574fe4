"""The policy that decides a new comment's status, rule by rule."""
import pytest

from app.comments.policy import CommentPolicy, Submission

pytestmark = pytest.mark.no_database  # pure functions: the same on every database

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
    d = decide(approved_before=1, proven=True)
    assert (d.status, d.reason) == ("approved", "trusted")


def test_an_address_alone_earns_no_trust():
    """Typing an address that once had a comment approved proves nothing (review finding 3b)."""
    d = decide(approved_before=5, proven=False)
    assert (d.status, d.reason) == ("pending", "new_author")
    assert decide(approved_before=0, proven=True).status == "pending"  # proof without history: still new


def test_trusted_author_with_many_links_waits():
    d = decide(approved_before=3, proven=True, links=3)
    assert (d.status, d.reason) == ("pending", "too_many_links")
    assert decide(approved_before=3, proven=True, links=2).status == "approved"


@pytest.mark.parametrize("name", ["Sternwelle-Team", "sternwelle team", "STERNWELLE_TEAM", "Sternwe11e-Team",
                                  "Ѕternwеlle-Team", "Das Sternwelle Team", "Sternwelle Support", "Anna Seidel",
                                  "anna  seidel", "Stérnwelle",
                                  # from the review of the fix: styled letters, rarer look-alikes, a staff
                                  # name with an addition
                                  "𝐒𝐭𝐞𝐫𝐧𝐰𝐞𝐥𝐥𝐞-𝐓𝐞𝐚𝐦", "𝐀𝐧𝐧𝐚 𝐒𝐞𝐢𝐝𝐞𝐥", "Sternԝelle-Team", "Sternweӏӏe Support",
                                  "Sternweǀǀe", "Anna Seidel (Kundenservice)", "Аnna Müller"])
def test_names_that_look_like_the_team_wait_for_review_even_when_trusted(name):
    team = CommentPolicy(min_seconds=0, reserved_names=("Sternwelle-Team", "Sternwelle"))
    d = team.decide(Submission(text="Klicken Sie hier", email="a@example.org", name=name, approved_before=9,
                               proven=True, staff_names=("Anna Seidel",)))
    assert (d.status, d.reason) == ("pending", "looks_like_team")


@pytest.mark.parametrize("name", ["Anna", "Stern", "Welle", "Team Rocket", "Anna Seidler", "Анна Петрова", "Γιώργος",
                                  "José Müller-Lüdenscheidt", "李 Wei"])
def test_ordinary_names_are_not_held(name):
    team = CommentPolicy(min_seconds=0, reserved_names=("Sternwelle-Team", "Sternwelle"))
    d = team.decide(Submission(text="Danke!", email="a@example.org", name=name, approved_before=1, proven=True,
                               staff_names=("Anna Seidel",)))
    assert d.reason == "trusted"


def test_links_of_every_spelling_count():
    assert CommentPolicy.count_links("https://a.example http://b.example www.c.example //d.example \\\\e.example") == 5


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
    assert decide(approved_before=10, proven=True, honeypot="x").status == "spam"
    assert decide(approved_before=10, proven=True, text="viagra").status == "spam"


def test_min_seconds_zero_disables_the_timer():
    relaxed = CommentPolicy(min_seconds=0)
    assert relaxed.decide(Submission(text="x", email="a@b.org", seconds_taken=None)).status == "pending"


def test_from_config():
    p = CommentPolicy.from_config({"COMMENT_MIN_SECONDS": 5, "COMMENT_MAX_LINKS": 0, "COMMENT_BLOCKLIST": ["Kredit"],
                                   "TEAM_NAME": "Sternwelle-Team", "COMMENT_RESERVED_NAMES": ["Sternwelle"]})
    assert (p.min_seconds, p.max_links, p.blocklist) == (5.0, 0, ("kredit",))
    assert p.reserved_names == ("Sternwelle-Team", "Sternwelle")
