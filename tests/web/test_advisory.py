"""The advisory form in Chromium: a CSIRT writes an advisory in words, sees who it will reach (computed by the
matching job's own code, nothing stored meanwhile), publishes; the job runs; the SME reads the alert with
the CSIRT's steps. Then the form's refusals, a form changed after its preview, and who may use it."""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import func, select

from exchange.alerts.models import Alert
from exchange.alerts.wording import LANGUAGES
from exchange.assets import service as assets
from exchange.assets.models import AssetKind
from exchange.core.db import transaction
from exchange.orgs.models import Org, Role, UserRole
from exchange.store.models import StixObject
from exchange.web.render import translations
from tests.web.conftest import Portal, screenshot, sign_in
from tests.web.test_accessibility import NARROW, WCAG_AA

STEPS = "Block login-bakery.test on your mail filter\nTell your staff not to enter passwords there"


def fill(page: Page, *, title: str = "Phishing of bakeries", targets: str = "login.bakery.test",
         sector: str | None = "I", severity: str = "exploited", tlp: str = "green") -> None:
    page.goto("/advisories/new")
    page.fill("#title", title)
    page.fill("#summary", "A phishing kit imitates bakery order pages and collects card numbers.")
    page.fill("#targets", targets)
    if sector:
        page.locator("details summary").click()
        page.check(f"input[name=sectors][value={sector}]")
    page.fill("#steps", STEPS)
    page.check(f"input[name=severity][value={severity}]")
    page.check(f"input[name=tlp][value='{tlp}']")


def _stored(portal: Portal) -> tuple[int, int]:
    with portal.sessions() as s:
        return (s.scalar(select(func.count()).select_from(StixObject)) or 0,
                s.scalar(select(func.count()).select_from(Alert)) or 0)


def axe_violations(page: Page) -> list[str]:
    """The WCAG 2.1 AA rules axe finds broken on the page (also the roster tests')."""
    return [v["id"] for v in Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_AA}}
                                       ).response["violations"]]


def test_a_csirt_writes_previews_and_publishes_and_the_sme_reads_its_steps(portal: Portal, page: Page,
                                                                            browser: Browser) -> None:
    bakery, bakery_email = portal.person()
    portal.asset(bakery.org.pk, "bakery.test")
    hotel, _ = portal.person()
    with transaction(portal.sessions) as s:
        assets.set_profile(s, s.get_one(Org, hotel.org.pk), sector="I", country=None)
    shop, _ = portal.person()
    with transaction(portal.sessions) as s:
        assets.create(s, s.get_one(Org, shop.org.pk), AssetKind.software, "cpe:2.3:a:acme:shopcart:2.3.0:*:*:*:*:*:*:*",
                      settings=portal.settings)
    unverified, _ = portal.person()
    portal.add_unverified(unverified.org.pk, "login.bakery.test")
    _, bystander = portal.person()  # neither named nor in the sector: reads it (GREEN), is not alerted
    _, analyst = portal.person(Role.csirt)

    sign_in(page, analyst)
    fill(page)
    page.fill("#vendor", "ACME")
    page.fill("#product", "shopcart")
    page.fill("#versions", ">=2.0, <2.4.1")
    page.get_by_role("button", name="Check who it reaches").click()
    expect(page.locator("#reach-count")).to_have_text("3")
    reach = page.get_by_role("status")
    # a listed domain is high; software medium, one step up when exploited; a sector advisory low
    expect(reach).to_contain_text(f"High (2): {', '.join(sorted([bakery.org.name, shop.org.name]))}")
    expect(reach).to_contain_text(f"Low (1): {hotel.org.name}")
    expect(reach).to_contain_text(f"prove they own the asset it names: {unverified.org.name}")
    expect(page.locator("#reach-readers")).to_have_text("5")
    assert _stored(portal) == (0, 0)  # the preview kept nothing
    assert axe_violations(page) == []
    screenshot(page, "advisory-preview")

    page.get_by_role("button", name="Publish").click()
    expect(page).to_have_url(re.compile(r"/advisories\?published=true$"))
    expect(page.get_by_role("status")).to_contain_text("Published")
    assert _stored(portal)[0] == 7  # report, vulnerability, indicator, course of action, and it mitigates all three
    portal.match()  # the worker's job, as after any publication

    context = browser.new_context(base_url=portal.url)
    sme = context.new_page()
    sign_in(sme, bakery_email)
    sme.locator("ul.alerts li a").first.click()
    message = sme.locator(".message")
    expect(message).to_contain_text("A phishing kit imitates bakery order pages")
    expect(message).to_contain_text("Block login-bakery.test on your mail filter")
    expect(message).to_contain_text("Tell your staff not to enter passwords there")
    sme.get_by_role("button", name="Fixed").click()
    expect(sme.get_by_role("status")).to_contain_text("your answer is recorded")
    context.close()

    page.goto("/advisories")
    row = page.locator("table.feedback tbody tr").first
    expect(row).to_contain_text("Phishing of bakeries")
    cells = row.locator("td")
    expect(cells.nth(0)).to_have_text("3")  # reached: the bakery, the shop and the hotel
    expect(cells.nth(2)).to_contain_text("1")  # fixed
    expect(cells.nth(2)).to_contain_text("33%")
    assert axe_violations(page) == []
    screenshot(page, "advisories")
    page.goto("/sightings")
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("tbody tr")).to_contain_text("Fixed")
    expect(page.locator("tbody tr")).to_contain_text("not named")
    assert axe_violations(page) == []
    screenshot(page, "sightings")


def test_the_form_says_what_is_wrong_and_keeps_what_was_typed(portal: Portal, page: Page) -> None:
    _, analyst = portal.person(Role.csirt)
    sign_in(page, analyst)
    fill(page, targets="login.bakery.test\n192.0.2.1/24\n10.0.0.0/8\nnot a domain", sector=None)
    page.fill("#product", "pan-os")
    page.fill("#versions", ">=banana<<")
    page.get_by_role("button", name="Check who it reaches").click()
    expect(page.get_by_role("alert")).to_contain_text("Please correct the fields marked below.")
    expect(page.locator("#targets-problem1")).to_contain_text("192.0.2.1/24")
    expect(page.locator("#targets-problem2")).to_contain_text("too wide")
    expect(page.locator("#targets-problem3")).to_contain_text("not a domain")
    expect(page.locator("#versions-problem1")).to_contain_text("not a version range")
    expect(page.locator("#targets")).to_have_value("login.bakery.test\n192.0.2.1/24\n10.0.0.0/8\nnot a domain")
    expect(page.locator("#title")).to_have_value("Phishing of bakeries")
    expect(page.locator("#versions")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("button", name="Publish")).to_have_count(0)
    assert axe_violations(page) == []
    screenshot(page, "advisory-problems")
    csrf = page.locator("input[name=csrf]").first.get_attribute("value") or ""
    empty = page.request.post("/advisories/new", form={"csrf": csrf, "action": "publish"})
    assert empty.status == 422
    assert empty.text().count("This field is required.") == 2  # title and what happened
    assert "Say who is affected" in empty.text()
    assert _stored(portal) == (0, 0)


def test_a_form_changed_after_its_preview_is_previewed_again_not_published(portal: Portal, page: Page) -> None:
    _, analyst = portal.person(Role.csirt)
    sign_in(page, analyst)
    fill(page)
    page.get_by_role("button", name="Check who it reaches").click()
    page.fill("#targets", "pay.bakery.test")
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("status")).to_contain_text("The form changed since its last check")
    assert _stored(portal) == (0, 0)
    page.get_by_role("button", name="Publish").click()
    expect(page).to_have_url(re.compile(r"/advisories\?published=true$"))
    with portal.sessions() as s:
        patterns = list(s.scalars(select(StixObject.raw).where(StixObject.type == "indicator")))
    assert [b"pay.bakery.test" in p for p in patterns] == [True]


def test_only_producers_who_may_write_have_the_form(portal: Portal, page: Page, browser: Browser) -> None:
    _, sme = portal.person()
    sign_in(page, sme)
    for path in ("/advisories/new", "/advisories", "/sightings"):
        assert page.goto(path).status == 404  # type: ignore[union-attr]
    expect(page.get_by_role("link", name="Advisories")).to_have_count(0)
    csrf = page.locator("input[name=csrf]").first.get_attribute("value") or ""
    assert page.request.post("/advisories/new", form={"csrf": csrf}).status == 404
    _, reader = portal.person(Role.csirt, UserRole.read_only)
    context = browser.new_context(base_url=portal.url)
    other = context.new_page()
    sign_in(other, reader)
    assert other.goto("/advisories/new").status == 403  # type: ignore[union-attr]
    assert other.goto("/advisories").status == 200  # type: ignore[union-attr]
    context.close()


def test_the_form_works_without_javascript_and_at_360_px(portal: Portal, browser: Browser) -> None:
    _, analyst = portal.person(Role.csirt)
    context = browser.new_context(base_url=portal.url, java_script_enabled=False, viewport=NARROW)
    page = context.new_page()
    sign_in(page, analyst)
    fill(page, sector=None)
    page.get_by_role("button", name="Check who it reaches").click()
    expect(page.locator("#reach-count")).to_have_text("0")
    assert page.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]
    page.get_by_role("button", name="Publish").click()
    expect(page).to_have_url(re.compile(r"/advisories\?published=true$"))
    for path in ("/advisories", "/sightings", "/advisories/new"):
        page.goto(path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= NARROW["width"], f"{path} scrolls sideways: {width} px"
        screenshot(page, f"narrow{path.replace('/', '-')}")
    context.close()


def test_a_producer_sees_only_its_own_advisories_and_the_sightings_sent_to_it(portal: Portal, page: Page,
                                                                             browser: Browser) -> None:
    sme, sme_email = portal.person()
    portal.asset(sme.org.pk, "bakery.test")
    _, first = portal.person(Role.csirt)
    _, second = portal.person(Role.isac)
    sign_in(page, first)
    fill(page, sector=None)
    page.get_by_role("button", name="Check who it reaches").click()
    page.get_by_role("button", name="Publish").click()
    expect(page).to_have_url(re.compile(r"/advisories\?published=true$"))
    portal.match()
    context = browser.new_context(base_url=portal.url)
    other = context.new_page()
    sign_in(other, sme_email)
    other.locator("ul.alerts li a").first.click()
    other.get_by_role("button", name="We need help").click()
    other.get_by_role("button", name="Sign out").click()
    sign_in(other, second)
    for path, empty in (("/advisories", "No advisories yet."), ("/sightings", "No sightings yet.")):
        other.goto(path)
        expect(other.get_by_text(empty)).to_be_visible()
        assert "Phishing of bakeries" not in other.content()
    context.close()
    page.goto("/sightings")
    expect(page.locator("tbody tr")).to_contain_text("Help requested")


@pytest.mark.parametrize("language", [code for code in LANGUAGES if code != "en"])
def test_the_csirt_pages_speak_the_readers_language(portal: Portal, browser: Browser, language: str) -> None:
    _, analyst = portal.person(Role.csirt)
    context = browser.new_context(base_url=portal.url, locale=language)
    page = context.new_page()
    sign_in(page, analyst)
    words = translations(language).gettext
    for path, title in (("/advisories/new", "Write an advisory"), ("/advisories", "Advisories"),
                        ("/sightings", "Sightings"), ("/roster", "SME roster")):
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_have_text(words(title))
    page.goto("/advisories/new")
    for field in ("#title", "#summary", "#steps"):  # but nobody affected
        page.fill(field, "x")
    page.get_by_role("button", name=words("Check who it reaches")).click()
    expect(page.get_by_role("alert")).to_have_text(words("Please correct the fields marked below."))
    context.close()
