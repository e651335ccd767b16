"""The first-run wizard in Chromium with JavaScript off: a new SME lands on it, adds a domain, is refused a bad
one in the API's own words, skips a step, adds an address range, picks its software from the names a
CSIRT published, sets its sector, names who gets alerts, and the software it picked then matches the
CSIRT's vulnerability. Then resuming, "not now", axe and 360 px on every step."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from exchange.alerts.delivery.models import Subscription
from exchange.alerts.models import Alert
from exchange.assets.models import Asset, OrgProfile
from exchange.orgs.models import Role, UserRole
from tests.orgs_factory import auth
from tests.web.conftest import Portal, sign_in
from tests.web.test_accessibility import NARROW, WCAG_AA

STEPS = ("/welcome/domains", "/welcome/mail", "/welcome/networks", "/welcome/software?q=oven", "/welcome/profile",
         "/welcome/alerts", "/welcome/done")


def vulnerability(*affected: dict[str, str], **extra: Any) -> dict[str, Any]:
    return {"type": "vulnerability", "spec_version": "2.1", "id": f"vulnerability--{uuid.uuid4()}",
            "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
            "name": "CVE-2024-0001", "x_exchange_affected": list(affected), **extra}


def test_a_new_sme_walks_the_wizard_without_javascript(portal: Portal, browser: Browser) -> None:
    sme, email = portal.person()
    csirt, _ = portal.person(Role.csirt)
    portal.publish(csirt, vulnerability({"vendor": "bakeware", "product": "oven_controller",
                                         "versions": "vers:generic/<2.5"}))
    context = browser.new_context(base_url=portal.url, java_script_enabled=False)
    page = context.new_page()
    sign_in(page, email)
    expect(page.get_by_role("heading", level=2)).to_have_text("Welcome")
    page.get_by_role("link", name="Start").click()

    page.fill("#value", "bakery.test")
    page.get_by_role("button", name="Add").click()
    expect(page.get_by_role("link", name="bakery.test")).to_be_visible()
    page.fill("#value", "bakery.test")  # again: the service refuses a twin, the page says so in its words
    page.get_by_role("button", name="Add").click()
    api = httpx.post(portal.url + "/api/v1/assets", json={"kind": "domain", "value": "bakery.test"},
                     headers=auth(sme.key), timeout=30)
    assert api.status_code == 409
    expect(page.get_by_role("alert")).to_contain_text(api.json()["description"])

    page.get_by_role("link", name="Next step").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mail domains")
    page.get_by_role("link", name="Skip this step").click()
    page.fill("#value", "192.0.2.0/28")
    page.get_by_role("button", name="Add").click()
    expect(page.get_by_role("link", name="192.0.2.0/28")).to_be_visible()
    page.get_by_role("link", name="Next step").click()

    page.fill("#q", "Oven")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_label("bakeware · oven controller")).to_be_checked()
    page.fill("#version", "2.1")
    page.get_by_role("button", name="Add").click()
    expect(page.get_by_role("link", name="cpe:2.3:a:bakeware:oven_controller:2.1:*:*:*:*:*:*:*")).to_be_visible()
    page.get_by_role("link", name="Next step").click()

    page.select_option("#sector", "I")
    page.locator("form[action='/welcome/profile'] button").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Who gets alerts")
    page.fill("#address", "owner@bakery.test")
    page.select_option("#sub-language", "fr")
    page.get_by_role("button", name="Add").click()
    expect(page.get_by_text("owner@bakery.test")).to_be_visible()
    page.get_by_role("link", name="Next step").click()
    expect(page.locator("ul.summary li")).to_have_text(["Web domains: 1", "Mail domains: 0", "Public IP addresses: 1",
                                                        "Software: 1"])
    page.get_by_role("button", name="Go to my inbox").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Inbox")
    context.close()

    with portal.sessions() as s:
        kinds = sorted(s.scalars(select(Asset.kind).where(Asset.org_pk == sme.org.pk)))
        assert kinds == ["cidr", "domain", "software"]
        profile = s.get_one(OrgProfile, sme.org.pk)
        assert profile.sector == "I"
        sub = s.scalars(select(Subscription).where(Subscription.org_pk == sme.org.pk)).one()
        assert (sub.address, sub.language) == ("owner@bakery.test", "fr")
    # what was picked is what matching compares: the CSIRT's vulnerability about that product reaches the SME
    portal.match()
    with portal.sessions() as s:
        assert [a.matched for a in s.scalars(select(Alert).where(Alert.org_pk == sme.org.pk))] == ["CVE-2024-0001"]


def test_the_wizard_resumes_and_not_now_shows_the_inbox(portal: Portal, page: Page) -> None:
    _, email = portal.person()
    sign_in(page, email)
    page.goto("/welcome/software")
    page.goto("/inbox")
    expect(page.get_by_role("heading", name="Welcome")).to_be_visible()  # still nothing added
    page.goto("/welcome")
    assert page.url.endswith("/welcome/software")
    page.goto("/inbox")
    page.get_by_role("button", name="Not now: show my inbox").click()
    expect(page.get_by_text("No alerts here")).to_be_visible()
    expect(page.get_by_role("heading", name="Welcome")).to_have_count(0)
    page.goto("/inbox")
    expect(page.get_by_role("heading", name="Welcome")).to_have_count(0)


def test_only_smes_who_may_write_land_on_it(portal: Portal, page: Page) -> None:
    _, csirt = portal.person(Role.csirt)
    _, reader = portal.person(Role.sme, UserRole.read_only)
    for email in (csirt, reader):
        sign_in(page, email)
        expect(page.get_by_text("No alerts here")).to_be_visible()
        expect(page.get_by_role("heading", name="Welcome")).to_have_count(0)
        page.get_by_role("button", name="Sign out").click()


def test_a_reader_cannot_add_through_the_wizard(portal: Portal, page: Page) -> None:
    sme, reader = portal.person(Role.sme, UserRole.read_only)
    sign_in(page, reader)
    page.goto("/welcome/domains")
    expect(page.locator("#value")).to_have_count(0)
    token = page.locator("input[name=csrf]").first.get_attribute("value")
    answer = page.request.post("/welcome/domains", form={"csrf": token or "", "value": "bakery.test"})
    assert answer.status == 403
    with portal.sessions() as s:
        assert s.scalars(select(Asset).where(Asset.org_pk == sme.org.pk)).all() == []


def test_every_step_passes_axe_and_fits_360_px(portal: Portal, browser: Browser) -> None:
    csirt, _ = portal.person(Role.csirt)
    portal.publish(csirt, vulnerability({"vendor": "bakeware", "product": "oven_controller"}))
    _, email = portal.person()
    axe = Axe()
    for viewport in (None, NARROW):
        context = browser.new_context(base_url=portal.url, viewport=viewport)
        page = context.new_page()
        sign_in(page, email)
        for path in ("/inbox", *STEPS):
            page.goto(path)
            if viewport is None:
                found = axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG_AA}}).response["violations"]
                assert [(v["id"], v["impact"]) for v in found] == [], path
            else:
                width = page.evaluate("document.documentElement.scrollWidth")
                assert width <= NARROW["width"], f"{path} scrolls sideways: {width} px"
        context.close()
