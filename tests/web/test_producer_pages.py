"""Pages of the organisations that publish: the CSIRT's dashboard (figures from SQL aggregates, after a real
publish, match and answer) and the object browser, which shows each organisation only what the read rule
lets it read: another organisation's TLP:AMBER finding is absent from every listing and a 404 by URL."""

from __future__ import annotations

import httpx
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from exchange.orgs.models import Role
from tests.factories import indicator
from tests.orgs_factory import auth
from tests.web.conftest import Portal, screenshot, sign_in
from tests.web.test_accessibility import WCAG_AA

AMBER = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"


def test_the_dashboard_counts_what_the_csirt_published_and_what_came_back(portal: Portal, page: Page) -> None:
    sme, _ = portal.person()
    csirt, analyst = portal.person(Role.csirt)
    other, _ = portal.person(Role.csirt)
    portal.asset(sme.org.pk, "bakery.test")
    first = indicator("[domain-name:value = 'login.bakery.test']")
    portal.publish(csirt, first, indicator("[domain-name:value = 'elsewhere.test']"))
    portal.publish(other, indicator("[domain-name:value = 'pay.bakery.test']"))
    portal.match()
    portal.feed_run(csirt.org.pk, "peer-feed", added=1234)  # what a feed of this CSIRT brought in this week
    portal.feed_run(other.org.pk, "not-ours", added=99)
    [alert, _] = portal.alert_ids(sme.org.pk)
    answered = httpx.post(f"{portal.url}/api/v1/alerts/{alert}/answer", json={"answer": "fixed"},
                          headers=auth(sme.key), timeout=60)
    assert answered.status_code == 200
    sign_in(page, analyst)
    page.goto("/dashboard")
    figures = {key: page.locator(f"#{key}").inner_text() for key in ("published", "received", "alerts", "answered",
                                                                      "delivered", "failed")}
    assert figures == {"published": "2", "received": "1,234", "alerts": "1", "answered": "1", "delivered": "0",
                       "failed": "0"}
    expect(page.locator("table")).to_contain_text("peer-feed")
    screenshot(page, "dashboard")
    problems = [v["id"] for v in Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_AA}}
                                           ).response["violations"]]
    assert problems == []


def test_an_sme_has_no_dashboard(portal: Portal, page: Page) -> None:
    _, email = portal.person()
    sign_in(page, email)
    assert page.goto("/dashboard").status == 404  # type: ignore[union-attr]
    expect(page.get_by_role("link", name="Dashboard")).to_have_count(0)


def test_the_object_browser_shows_only_what_the_reader_may_read(portal: Portal, page: Page) -> None:
    victim, victim_email = portal.person()
    _, bystander = portal.person()
    csirt, _ = portal.person(Role.csirt)
    public = indicator("[domain-name:value = 'phish.test']", name="Public phishing domain")
    finding = indicator("[domain-name:value = 'www.victim.test']", name="Finding about the victim",
                        markings=[AMBER], x_exchange_recipients=[victim.org.identity_id])
    portal.publish(csirt, public, finding)

    sign_in(page, bystander)
    page.goto("/objects?type=indicator")
    expect(page.get_by_role("link", name="Public phishing domain")).to_be_visible()
    assert "Finding about the victim" not in page.content()
    page.goto("/objects?value=www.victim.test")
    expect(page.get_by_text("Nothing found that you may read.")).to_be_visible()
    assert page.goto(f"/objects/{finding['id']}").status == 404  # type: ignore[union-attr]
    assert "victim" not in page.content()

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, victim_email)
    page.goto("/objects?value=www.victim.test")
    page.get_by_role("link", name="Finding about the victim").click()
    expect(page.locator(".meta")).to_contain_text("TLP:AMBER")
    screenshot(page, "object")
    problems = [v["id"] for v in Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_AA}}
                                           ).response["violations"]]
    assert problems == []
