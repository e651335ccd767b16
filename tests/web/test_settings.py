"""Settings: an owner chooses who gets alerts through the subscriptions service (its address rule included),
a member may not; the language a person picks stays with them from one sign-in to the next."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Browser, Page, expect

from exchange.alerts.delivery import service as subscriptions
from exchange.orgs.models import Org, UserRole
from tests.web.conftest import PASSWORD, Portal, sign_in
from tests.web.test_signin import form_token


def test_an_owner_chooses_who_gets_alerts(portal: Portal, page: Page) -> None:
    sme, email = portal.person()
    sign_in(page, email)
    page.goto("/settings")
    page.fill("#address", "it@bakery.test")
    page.select_option("#sub-language", "fr")
    page.select_option("#min-severity", "high")
    page.locator("form[action='/settings/subscriptions'] button").click()
    expect(page.locator("ul.subs li")).to_contain_text("it@bakery.test")
    with portal.sessions() as s:
        [sub] = subscriptions.get_all(s, s.get_one(Org, sme.org.pk))
        assert (sub.address, sub.language, sub.min_severity, sub.channel) == ("it@bakery.test", "fr", "high", "email")
    page.fill("#address", "not an address")
    page.evaluate("document.querySelector('#address').type = 'text'")  # past the browser's own check
    page.locator("form[action='/settings/subscriptions'] button").click()
    assert page.locator("h1").inner_text() == "Bad request"
    page.goto("/settings")
    page.get_by_role("button", name="Remove it@bakery.test").click()
    expect(page.get_by_text("Nobody gets alerts yet.")).to_be_visible()


def test_a_member_may_not_change_who_gets_alerts(portal: Portal) -> None:
    _, email = portal.person(user_role=UserRole.member)
    with httpx.Client(timeout=60, base_url=portal.url) as http:
        http.post("/signin", data={"csrf": form_token(http), "email": email, "password": PASSWORD})
        settings_page = http.get("/settings").text
        assert 'action="/settings/subscriptions"' not in settings_page
        token = form_token(http, "/settings")
        refused = http.post("/settings/subscriptions", data={"csrf": token, "address": "x@bakery.test"})
        assert refused.status_code == 403


def test_the_chosen_language_follows_the_person(portal: Portal, browser: Browser) -> None:
    _, email = portal.person()
    first = browser.new_context(base_url=portal.url, locale="en-GB")
    page = first.new_page()
    sign_in(page, email)
    page.goto("/settings")
    page.select_option("#language", "ja")
    page.locator("form[action='/language'] button").last.click()
    expect(page.locator("h1")).to_have_text("設定")
    first.close()
    second = browser.new_context(base_url=portal.url, locale="de-DE")  # another browser, another language
    page = second.new_page()
    page.goto("/signin")
    expect(page.locator("h1")).to_have_text("Anmelden")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("form[action='/signin'] button").click()
    page.wait_for_url(re.compile(r".*/inbox"))
    expect(page.locator("h1")).to_have_text("受信箱")
    second.close()
