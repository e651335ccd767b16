"""An SME's whole journey in Chromium, against real servers: sign in, add a domain, prove it with a DNS TXT
record served by dnslib, a CSIRT publishes an indicator over TAXII, the alert shows in the inbox in the
words of the e-mail, the SME answers "fixed", and the CSIRT reads the answer back. Then the same core
flows with JavaScript off, and another SME probing URLs."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from exchange.orgs.models import AuditEntry, Role
from tests.assets.conftest import Zone
from tests.factories import indicator
from tests.orgs_factory import auth
from tests.web.conftest import Portal, screenshot, sign_in


def _add_domain(page: Page, domain: str) -> None:
    page.goto("/assets")
    page.select_option("#kind", "domain")
    page.fill("#value", domain)
    page.get_by_role("button", name="Add").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(domain)


def test_sme_journey_from_sign_in_to_the_csirt_reading_the_fix(portal: Portal, page: Page, dns_zone: Zone) -> None:
    sme, email = portal.person()
    csirt, _ = portal.person(Role.csirt)
    sign_in(page, email)
    expect(page.get_by_text("No alerts here")).to_be_visible()
    _add_domain(page, "bakery.test")
    record = page.locator("pre.copy").first.inner_text().strip()
    assert record.startswith("exchange-verification=")
    screenshot(page, "asset")
    page.locator("form:has(input[value=dns]) button").click()
    expect(page.get_by_role("alert")).to_contain_text("could not find the proof")
    dns_zone.txt["bakery.test"] = [record]  # the owner adds the record, as the page told them
    page.locator("form:has(input[value=dns]) button").click()
    expect(page.get_by_role("status")).to_contain_text("Verified")
    assert "bakery.test" in dns_zone.asked

    published = indicator("[domain-name:value = 'login.bakery.test']", name="Phishing page imitating the bakery",
                          description="A copy of the bakery's login page collects customers' passwords.")
    portal.publish(csirt, published)
    portal.match()

    page.goto("/inbox")
    alert_link = page.locator("ul.alerts li a").first
    expect(alert_link).to_contain_text("login.bakery.test")
    screenshot(page, "inbox")
    alert_link.click()
    message = page.locator(".message")
    expect(message).to_contain_text("A copy of the bakery's login page collects customers' passwords.")
    expect(message).to_contain_text("What to do now")
    page.get_by_role("button", name="Fixed").click()
    expect(page.get_by_role("status")).to_contain_text("your answer is recorded")
    screenshot(page, "alert")
    page.goto("/inbox?show=fixed")
    expect(page.locator("ul.alerts li")).to_have_count(1)
    page.goto("/inbox?show=open")
    expect(page.locator("ul.alerts li")).to_have_count(0)

    reach = httpx.get(f"{portal.url}/api/v1/alerts/reach", params={"object_id": published["id"]},
                      headers=auth(csirt.key), timeout=60).json()
    assert (reach["reached"], reach["fixed"]) == (1, 1)
    sightings = httpx.get(f"{portal.url}/api/v1/objects", params={"type": "sighting"}, headers=auth(csirt.key),
                          timeout=60).json()
    answers = [(s["sighting_of_ref"], s["x_exchange_answer"]) for s in sightings["objects"]]
    assert answers == [(published["id"], "fixed")]
    assert sme.org.identity_id not in str(sightings)  # not named: the box was left unticked
    with portal.sessions() as s:  # the log names the person as it names their API keys
        actions = {(a, actor) for a, actor in s.execute(select(AuditEntry.action, AuditEntry.actor).where(
            AuditEntry.action.in_(("asset.add", "alert.answer")), AuditEntry.actor.startswith(sme.org.slug)))}
    assert actions == {("asset.add", f"{sme.org.slug}/{email}"), ("alert.answer", f"{sme.org.slug}/{email}")}


def test_core_flows_work_without_javascript(portal: Portal, browser: Browser) -> None:
    sme, email = portal.person()
    csirt, _ = portal.person(Role.csirt)
    context = browser.new_context(base_url=portal.url, java_script_enabled=False)
    page = context.new_page()
    sign_in(page, email)
    _add_domain(page, "shop.test")
    portal.approve(sme.org.pk, "shop.test")  # ownership proved another way (the CSIRT vouched for it)
    portal.publish(csirt, indicator("[domain-name:value = 'pay.shop.test']"))
    portal.match()
    page.goto("/inbox")
    page.locator("ul.alerts li a").first.click()
    page.get_by_role("button", name="False positive").click()
    expect(page.get_by_role("status")).to_contain_text("your answer is recorded")
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/signin$"))
    context.close()


def test_another_sme_never_sees_an_alert_or_asset_by_guessing_urls(portal: Portal, page: Page) -> None:
    first, _ = portal.person()
    csirt, _ = portal.person(Role.csirt)
    _, second = portal.person()
    asset_pk = portal.asset(first.org.pk, "victim.test")
    portal.publish(csirt, indicator("[domain-name:value = 'www.victim.test']"))
    portal.match()
    [alert_pk] = portal.alert_ids(first.org.pk)
    sign_in(page, second)
    for path in (f"/inbox/{alert_pk}", f"/assets/{asset_pk}"):
        assert page.goto(path).status == 404  # type: ignore[union-attr]
        expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
    for path in ("/inbox?show=all", "/assets"):
        page.goto(path)
        assert "victim.test" not in page.content()
    csrf = page.locator("input[name=csrf]").first.get_attribute("value")
    for action, data in ((f"/inbox/{alert_pk}/answer", {"answer": "fixed"}),
                         (f"/assets/{asset_pk}/verify", {"method": "dns"})):
        answer = page.request.post(action, form={"csrf": csrf or "", **data}, max_redirects=0)
        assert answer.status == 404
    assert portal.alert_states(first.org.pk) == ["new"]
