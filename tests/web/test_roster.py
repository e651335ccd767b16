"""The CSIRT's SME roster in Chromium: onboard an SME (its person signs in with the mailed link, in the language
chosen for them), see who has not verified, approve an asset on the SME's behalf (audited, and the alert the
asset was waiting for is revealed by the job); nobody but csirt and admin organisations has the roster."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from exchange.orgs.models import AuditEntry, Org, Role, UserRole
from tests.assets.conftest import Mailbox
from tests.factories import indicator
from tests.web.conftest import Portal, screenshot, sign_in
from tests.web.test_accessibility import NARROW
from tests.web.test_advisory import axe_violations


def test_a_csirt_onboards_an_sme_whose_person_signs_in_with_the_mailed_link(
        portal: Portal, page: Page, browser: Browser, mailbox: Mailbox) -> None:
    _, analyst = portal.person(Role.csirt)
    sign_in(page, analyst)
    page.goto("/roster")
    page.fill("#name", "Boulangerie Martin")
    page.fill("#email", "Owner@Martin.test")
    page.select_option("#sector", "I")
    page.select_option("#language", "fr")
    page.get_by_role("button", name="Onboard").click()
    expect(page).to_have_url(re.compile(r"/roster/boulangerie-martin\?onboarded=true$"))
    expect(page.get_by_role("status")).to_contain_text("a sign-in link is on its way")
    expect(page.locator("main")).to_contain_text("owner@martin.test")
    expect(page.locator(".meta")).to_contain_text("Accommodation and food service activities")
    page.select_option("#kind", "domain")
    page.fill("#value", "boulangerie-martin.test")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator("tbody tr", has_text="boulangerie-martin.test")).to_contain_text("Not verified yet")
    assert axe_violations(page) == []
    screenshot(page, "roster-member")
    with portal.sessions() as s:
        org = s.scalars(select(Org).where(Org.slug == "boulangerie-martin")).one()
        assert org.role == Role.sme
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "org.onboard",
                                                   AuditEntry.target == "boulangerie-martin")).one()
        assert entry.actor.endswith(f"/{analyst}")
        added = s.scalars(select(AuditEntry).where(AuditEntry.action == "asset.add", AuditEntry.target ==
                                                   "boulangerie-martin/domain/boulangerie-martin.test")).one()
        assert "on behalf" in added.detail

    [mail] = mailbox.messages
    assert mail["To"] == "owner@martin.test"
    assert "Boulangerie Martin" in mailbox.text()
    assert "lien" in mailbox.text()  # in the language chosen for them
    link = re.search(r"http://\S+/signin/link/\S+", mailbox.text())
    assert link is not None
    context = browser.new_context(base_url=portal.url)
    sme = context.new_page()
    sme.goto(link.group(0))
    sme.locator("main form button[type=submit]").click()
    sme.wait_for_url(re.compile(r"/inbox$"))
    assert sme.locator("html").get_attribute("lang") == "fr"
    context.close()


def test_the_roster_shows_who_has_not_verified_and_the_csirt_approves_for_them(portal: Portal, page: Page) -> None:
    done, _ = portal.person()
    portal.asset(done.org.pk, "done.test")
    waiting, waiting_email = portal.person()
    portal.add_unverified(waiting.org.pk, "waiting.test")
    idle, _ = portal.person()  # nothing registered yet
    csirt, analyst = portal.person(Role.csirt)
    portal.publish(csirt, indicator("[domain-name:value = 'login.waiting.test']", name="Phishing of waiting.test"))
    portal.match()

    sign_in(page, analyst)
    page.goto("/roster")
    table = page.locator("table.roster tbody")
    for who in (done, waiting, idle):
        expect(table).to_contain_text(who.org.name)
    expect(table.locator("tr", has_text=done.org.name)).to_contain_text("1 of 1")
    assert axe_violations(page) == []
    screenshot(page, "roster")
    page.get_by_role("link", name="Not verified").click()
    expect(table).not_to_contain_text(done.org.name)
    expect(table.locator("tr", has_text=waiting.org.name)).to_contain_text("0 of 1")
    expect(table.locator("tr", has_text=idle.org.name)).to_contain_text("nothing registered")

    table.get_by_role("link", name=waiting.org.name).click()
    page.get_by_role("button", name="Approve waiting.test on their behalf").click()
    expect(page.get_by_role("status")).to_contain_text("Approved")
    expect(page.locator("tbody tr", has_text="waiting.test")).to_contain_text("Verified")
    with portal.sessions() as s:
        target = f"{waiting.org.slug}/domain/waiting.test"
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "asset.verify",
                                                   AuditEntry.target == target)).one()
        assert "on behalf" in entry.detail
    portal.match()  # the job reveals the alert that waited for the proof
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, waiting_email)
    expect(page.locator("ul.alerts li a").first).to_contain_text("login.waiting.test")


def test_only_csirt_and_admin_organisations_have_the_roster(portal: Portal, page: Page, browser: Browser) -> None:
    sme, email = portal.person()
    asset = portal.add_unverified(sme.org.pk, "mine.test")
    _, isac = portal.person(Role.isac)
    for who in (email, isac):
        context = browser.new_context(base_url=portal.url)
        other = context.new_page()
        sign_in(other, who)
        expect(other.get_by_role("link", name="SME roster")).to_have_count(0)
        for path in ("/roster", f"/roster/{sme.org.slug}"):
            assert other.goto(path).status == 404  # type: ignore[union-attr]
        csrf = other.locator("input[name=csrf]").first.get_attribute("value") or ""
        approve = other.request.post(f"/roster/{sme.org.slug}/assets/{asset}/approve", form={"csrf": csrf},
                                     max_redirects=0)
        assert approve.status == 404
        context.close()
    _, reader = portal.person(Role.csirt, UserRole.read_only)
    sign_in(page, reader)
    page.goto(f"/roster/{sme.org.slug}")
    page.get_by_role("button", name="Approve mine.test on their behalf").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Refused")
    with portal.sessions() as s:
        assert s.scalars(select(AuditEntry).where(AuditEntry.target.startswith(sme.org.slug))).all() == []


def test_the_roster_fits_360_px_without_javascript(portal: Portal, browser: Browser) -> None:
    sme, _ = portal.person()
    portal.add_unverified(sme.org.pk, "a-rather-long-domain-name-of-a-small-business.test")
    _, analyst = portal.person(Role.csirt)
    context = browser.new_context(base_url=portal.url, viewport=NARROW, java_script_enabled=False)
    page = context.new_page()
    sign_in(page, analyst)
    for path in ("/roster", f"/roster/{sme.org.slug}"):
        page.goto(path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= NARROW["width"], f"{path} scrolls sideways: {width} px"
        screenshot(page, f"narrow{path.replace('/', '-')}")
    page.get_by_role("button", name=re.compile("^Approve")).click()
    expect(page.get_by_role("status")).to_contain_text("Approved")
    context.close()
