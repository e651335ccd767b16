"""Every page, as a signed-in SME sees it, checked by axe-core for WCAG 2.1 A/AA and at 360 px width;
then the same pages in every language: translated, localised dates, no English left in the chrome."""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize

from exchange.alerts.wording import LANGUAGES
from exchange.orgs.models import Role
from exchange.web.render import translations
from tests.factories import indicator
from tests.web.conftest import Portal, screenshot, sign_in

WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
NARROW: ViewportSize = {"width": 360, "height": 740}


@pytest.fixture
def pages(portal: Portal) -> tuple[str, list[str]]:
    """An SME with an unverified domain, a verified one with an alert, and a subscription; its page paths."""
    sme, email = portal.person()
    csirt, _ = portal.person(Role.csirt)
    portal.asset(sme.org.pk, "bakery.test")
    published = indicator("[domain-name:value = 'login.bakery.test']", name="Phishing page")
    portal.publish(csirt, published)
    portal.match()
    [alert] = portal.alert_ids(sme.org.pk)
    pending = portal.add_unverified(sme.org.pk, "shop.test")
    return email, ["/signin", "/inbox", f"/inbox/{alert}", "/assets", f"/assets/{pending}", "/settings",
                  "/inbox/999999999", "/objects", "/objects?type=indicator&value=login.bakery.test",
                   f"/objects/{published['id']}", f"/admin/orgs/{sme.org.slug}"]


def _check(page: Page, path: str, axe: Axe) -> None:
    page.goto(path)
    results = axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG_AA}})
    problems = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in results.response["violations"]]
    assert problems == [], f"{path}: {problems}"
    screenshot(page, f"desktop{path.replace('/', '-')}")


def test_every_page_passes_axe_wcag_21_aa(portal: Portal, browser: Browser, pages: tuple[str, list[str]]) -> None:
    email, paths = pages
    axe = Axe()
    context = browser.new_context(base_url=portal.url)
    page = context.new_page()
    _check(page, "/signin", axe)
    sign_in(page, email)
    for path in paths[1:]:
        _check(page, path, axe)
    context.close()


def test_every_page_fits_360_px(portal: Portal, browser: Browser, pages: tuple[str, list[str]]) -> None:
    email, paths = pages
    context: BrowserContext = browser.new_context(base_url=portal.url, viewport=NARROW)
    page = context.new_page()
    sign_in(page, email)
    for path in paths[1:]:
        page.goto(path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= NARROW["width"], f"{path} scrolls sideways: {width} px"
        screenshot(page, f"narrow{path.replace('/', '-')}")
    context.close()


@pytest.mark.parametrize("language", [code for code in LANGUAGES if code != "en"])
def test_pages_follow_accept_language_then_the_choice(portal: Portal, browser: Browser, language: str,
                                                       pages: tuple[str, list[str]]) -> None:
    email, paths = pages
    context = browser.new_context(base_url=portal.url, locale=language)
    page = context.new_page()
    page.goto("/signin")
    assert page.locator("html").get_attribute("lang") == language
    # English words of the chrome whose translation differs (German keeps "Assets")
    english = [word for word in ("Sign in", "Inbox", "Assets", "Settings", "Sign out", "Language", "Change")
               if translations(language).gettext(word) != word]
    page.fill("#email", email)
    page.fill("#password", "correct horse battery staple")
    page.locator("form[action='/signin'] button").click()
    page.wait_for_url("**/inbox")
    for path in paths[1:]:
        page.goto(path)
        chrome = page.locator("header").inner_text() + page.locator("h1").inner_text()
        assert not [word for word in english if re.search(rf"\b{word}\b", chrome)], f"{language} {path}: {chrome}"
    page.goto(paths[2])
    assert "2024" in page.locator(".meta").inner_text() or "2026" in page.locator(".meta").inner_text()
    # the person's choice wins over the browser's language, and stays with them
    page.select_option("#language-picker", "en")
    page.locator("form[action='/language'] button").click()
    assert page.locator("html").get_attribute("lang") == "en"
    context.close()
