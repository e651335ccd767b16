"""Exports of the object browser's view: a STIX bundle, CSV and a blocklist hold exactly what the reader may
list with the same filters (another organisation's TLP:AMBER finding never), streamed; a view larger than
``EXCHANGE_WEB_EXPORT_MAX_ROWS`` gets a page that says so, in the reader's language."""

from __future__ import annotations

import csv
import io
import json

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

from exchange.core.settings import Settings
from exchange.orgs.models import Role
from tests.factories import indicator
from tests.web.conftest import Portal, sign_in
from tests.web.test_accessibility import WCAG_AA
from tests.web.test_producer_pages import AMBER

MAX_ROWS = 4


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"web_export_max_rows": MAX_ROWS})


def _get(page: Page, path: str) -> tuple[int, str, str]:
    """Through the signed-in browser's cookies: (status, content type, body)."""
    answer = page.request.get(path)
    return answer.status, answer.headers["content-type"], answer.text()


def test_exports_hold_the_view_and_only_what_the_reader_may_read(portal: Portal, page: Page) -> None:
    victim, victim_email = portal.person()
    _, analyst = portal.person(Role.isac)
    csirt, _ = portal.person(Role.csirt)
    phish = indicator("[domain-name:value = 'phish.test']", name="Public phishing domain")
    c2 = indicator("[ipv4-addr:value = '198.51.100.7']", name="Public C2 address")
    finding = indicator("[domain-name:value = 'www.victim.test']", name="Finding about the victim",
                        markings=[AMBER], x_exchange_recipients=[victim.org.identity_id])
    portal.publish(csirt, phish, c2, finding)

    sign_in(page, analyst)
    page.goto("/objects?type=indicator")
    page.get_by_role("link", name="STIX bundle (JSON)").wait_for()
    status, media, body = _get(page, "/export?format=stix&type=indicator")
    assert (status, media) == (200, "application/json")
    assert {o["id"] for o in json.loads(body)["objects"]} == {phish["id"], c2["id"]}
    status, media, body = _get(page, "/export?format=csv&type=indicator")
    assert (status, media) == (200, "text/csv; charset=utf-8")
    assert {(r["kind"], r["value"], r["tlp"]) for r in csv.DictReader(io.StringIO(body))} == {
        ("domain", "phish.test", "green"), ("ipv4", "198.51.100.7", "green")}
    assert _get(page, "/export?format=txt&kind=domain&type=indicator")[2] == "phish.test\n"
    assert _get(page, "/export?format=txt&kind=ipv4")[2] == "198.51.100.7\n"
    assert _get(page, "/export?format=txt&kind=domain&value=www.victim.test")[2] == ""  # the filter, then the rule
    assert "victim" not in _get(page, "/export?format=csv")[2]

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, victim_email)  # the organisation the finding names reads it in its exports
    assert _get(page, "/export?format=txt&kind=domain")[2].splitlines() == ["phish.test", "www.victim.test"]


def test_a_view_too_large_to_export_says_so_and_the_page_offers_every_format(portal: Portal, page: Page) -> None:
    csirt, _ = portal.person(Role.csirt)
    _, analyst = portal.person(Role.isac)
    portal.publish(csirt, *(indicator(f"[domain-name:value = 'bad{i}.test']", name=f"Bad {i}")
                            for i in range(MAX_ROWS + 1)))
    sign_in(page, analyst)
    status, _, body = _get(page, "/export?format=csv&type=indicator")
    assert status == 413
    assert f"more than {MAX_ROWS} objects" in body
    assert _get(page, "/export?format=txt&kind=domain&value=bad3.test")[2] == "bad3.test\n"  # a narrower view fits

    page.set_viewport_size({"width": 360, "height": 800})
    page.goto("/objects?value=bad2.test")
    with page.expect_download() as download:  # the plain GET form: works without JavaScript
        page.get_by_label("Blocklist of").select_option("domain")
        page.get_by_role("button", name="Download the blocklist").click()
    with open(download.value.path(), encoding="utf-8") as saved:
        assert saved.read() == "bad2.test\n"
    assert download.value.suggested_filename == "exchange-blocklist-domain.txt"
    problems = [v["id"] for v in Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_AA}}
                                           ).response["violations"]]
    assert problems == []
    page.context.set_extra_http_headers({"Accept-Language": "de"})
    assert "mehr als 4 Objekte" in _get(page, "/export?format=stix")[2]


def test_an_export_needs_a_signed_in_person(portal: Portal, page: Page) -> None:
    answer = page.request.get("/export?format=stix", max_redirects=0, headers={"Accept": "text/html"})
    assert answer.status == 303
    assert answer.headers["location"].startswith("/signin")
