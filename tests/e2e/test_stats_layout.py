"""/moderation/stats in a real browser: the per-member table fits at 1280 px and scrolls in its own box on a phone."""
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, expect

from app.extensions import db
from app.models import Comment, ModerationEvent, Role, utcnow
from app.users.service import create_user
from tests.e2e.conftest import serving

PASSWORD = "ein langes Test-Passwort"
# Long names and four-digit counts: the widest the table gets in practice.
STAFF = ["Maximiliane Hohenstein-Wartenberg", "Jean-Baptiste Oberkirchner", "Anna-Lena Schwarzenbacher"]
ACTIONS = ("approve", "reject", "spam", "delete", "reply")

MEASURE = """() => {
  const table = document.querySelector('section[aria-labelledby="work-title"] table');
  const box = table.parentElement;
  return {table: table.getBoundingClientRect().width, box: box.clientWidth, scrolls: box.scrollWidth,
          overflow: getComputedStyle(box).overflowX, page: document.documentElement.scrollWidth,
          viewport: window.innerWidth};
}"""


@pytest.fixture(scope="module")
def stats_server(tmp_path_factory):
    with serving(tmp_path_factory.mktemp("e2e-stats-data")) as (base_url, app):
        with app.app_context():
            create_user("greta", email="greta@sternwelle.example", role=Role.MODERATOR, password=PASSWORD,
                        display_name="Greta Moderatorin")
            app.test_cli_runner().invoke(args=["demo", "comments"])
            comment_id = db.session.scalar(db.select(Comment.id).limit(1))
            for n, name in enumerate(STAFF):
                user = create_user(f"staff{n}", email=f"staff{n}@sternwelle.example", role=Role.MODERATOR,
                                   password=PASSWORD, display_name=name)
                db.session.flush()
                db.session.execute(db.insert(ModerationEvent), [
                    {"comment_id": comment_id, "actor_id": user.id, "action": action,
                     "at": utcnow() - timedelta(hours=k % 200)}
                    for action in ACTIONS for k in range(1000 + n)])
            db.session.commit()
        yield base_url


def stats_page(browser: Browser, base_url: str, width: int, scheme: str):
    context = browser.new_context(locale="de-DE", viewport={"width": width, "height": 900}, color_scheme=scheme)
    page = context.new_page()
    page.goto(f"{base_url}/login")
    page.get_by_label("Benutzername").fill("greta")
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    page.goto(f"{base_url}/moderation/stats")
    expect(page.locator("#work-title")).to_be_visible()
    return page


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_work_table_fits_on_a_laptop(stats_server, browser, screenshots_dir, scheme):
    page = stats_page(browser, stats_server, 1280, scheme)
    size = page.evaluate(MEASURE)
    assert size["scrolls"] <= size["box"] and size["page"] <= size["viewport"], size  # nothing cut off
    page.locator('section[aria-labelledby="work-title"]').screenshot(
        path=str(screenshots_dir / f"30-stats-work-1280-{scheme}.png"))
    page.context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_work_table_scrolls_in_its_own_box_on_a_phone(stats_server, browser, screenshots_dir, scheme):
    page = stats_page(browser, stats_server, 390, scheme)
    size = page.evaluate(MEASURE)
    assert size["overflow"] == "auto" and size["scrolls"] > size["box"], size
    assert size["page"] <= size["viewport"], size  # the page itself does not scroll sideways
    section = page.locator('section[aria-labelledby="work-title"]')
    section.screenshot(path=str(screenshots_dir / f"30-stats-work-390-{scheme}.png"))
    name = page.locator("#work-table tbody th").first
    before = name.bounding_box()
    page.evaluate("() => { document.querySelector('#work-table').parentElement.scrollLeft = 10000; }")
    assert abs(name.bounding_box()["x"] - before["x"]) < 1  # the names stay in view while the numbers scroll
    expect(page.locator("#work-table tbody tr").first.locator("td").last).to_be_in_viewport()
    section.screenshot(path=str(screenshots_dir / f"30-stats-work-390-{scheme}-scrolled.png"))
    page.context.close()
