""""Is this known bad?" answers from what the reader may read, exactly as the REST look-up does: another group's
TLP:AMBER indicator is "nothing known" for a bystander and known for its recipient; an address inside a
published range is known. The exposure summary counts the organisation's open alerts by asset and severity
as the alerts table holds them, and gives the median time its fixes took."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import httpx
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select, update

from exchange.alerts import service as alerts
from exchange.alerts.models import Alert, AlertState
from exchange.assets.models import Asset
from exchange.core.db import transaction
from exchange.core.timestamps import HOUR
from exchange.orgs.models import Role
from tests.factories import indicator
from tests.orgs_factory import OrgKey, auth
from tests.web.conftest import Portal, sign_in
from tests.web.test_accessibility import NARROW, WCAG_AA
from tests.web.test_producer_pages import AMBER


def _shown(page: Page, value: str) -> list[str]:
    page.goto(f"/lookup?value={value}")
    return sorted(re.findall(r'href="/objects/([^"]+)"', page.content()))


def _api(portal: Portal, who: OrgKey, value: str) -> list[str]:
    answer = httpx.get(portal.url + "/api/v1/observables", params={"value": value}, headers=auth(who.key), timeout=30)
    assert answer.status_code == 200, answer.text
    return sorted(m["object_id"] for m in answer.json()["matches"])


def test_the_look_up_answers_what_the_reader_may_read(portal: Portal, browser: Browser) -> None:
    victim, victim_email = portal.person()
    bystander, bystander_email = portal.person()
    csirt, _ = portal.person(Role.csirt)
    public = indicator("[domain-name:value = 'phish.test']", name="Public phishing domain")
    finding = indicator("[domain-name:value = 'www.victim.test']", name="Finding about the victim",
                        markings=[AMBER], x_exchange_recipients=[victim.org.identity_id])
    scanners = indicator("[ipv4-addr:value = '198.51.100.0/24']", name="Scanning hosts")
    portal.publish(csirt, public, finding, scanners)
    for who, email in ((bystander, bystander_email), (victim, victim_email)):
        # the bystander's browser without JavaScript (the form works without it); axe needs it in the other
        context = browser.new_context(base_url=portal.url, java_script_enabled=who is victim)
        page = context.new_page()
        try:
            _ask(portal, page, who, email, victim is who, public, finding, scanners)
        finally:
            context.close()


def _ask(portal: Portal, page: Page, who: OrgKey, email: str, recipient: bool, public: dict[str, Any],
         finding: dict[str, Any], scanners: dict[str, Any]) -> None:
    sign_in(page, email)
    for value in ("phish.test", "PHISH.test", "www.victim.test", "198.51.100.7", "192.0.2.1"):
        assert _shown(page, value) == _api(portal, who, value), (who.org.slug, value)
    assert _shown(page, "phish.test") == [public["id"]]
    assert _shown(page, "198.51.100.7") == [scanners["id"]]
    victim_sees = _shown(page, "www.victim.test")
    if not recipient:
        assert victim_sees == []
        expect(page.get_by_text("Nothing known about www.victim.test")).to_be_visible()
        assert "Finding about the victim" not in page.content()
    else:
        assert victim_sees == [finding["id"]]
    page.goto("/lookup")
    page.fill("#value", "phish.test")
    page.get_by_role("button", name="Look up").click()
    expect(page.get_by_role("link", name="Public phishing domain")).to_be_visible()
    if recipient:
        found = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_AA}}).response["violations"]
        assert [(v["id"], v["impact"]) for v in found] == []


def test_the_exposure_summary_counts_open_alerts_and_the_median_fix(portal: Portal, browser: Browser) -> None:
    sme, email = portal.person()
    csirt, _ = portal.person(Role.csirt)
    other, _ = portal.person()
    for org, domain in ((sme, "bakery.test"), (sme, "shop.test"), (other, "bakery.test")):
        portal.asset(org.org.pk, domain)
    portal.publish(csirt, *(indicator(f"[domain-name:value = '{host}']", name=f"About {host}")
                            for host in ("a.bakery.test", "b.bakery.test", "c.bakery.test", "d.bakery.test",
                                         "a.shop.test", "bakery-shop.test")))
    portal.match()
    took = [1, 3, 8]  # hours from alert to "fixed"
    with transaction(portal.sessions) as s:
        mine = list(s.scalars(select(Alert).where(Alert.org_pk == sme.org.pk).order_by(Alert.pk)))
        assert len(mine) >= 5
        for alert, hours in zip(mine[:3], took, strict=True):
            alerts.answer(s, alert, AlertState.fixed)
            s.flush()
            s.execute(update(Alert).where(Alert.pk == alert.pk).values(answered_at=alert.created_at + hours * HOUR))
        alerts.answer(s, mine[3], AlertState.acknowledged)  # still open
    with portal.sessions() as s:
        open_ = Counter((value, a.severity) for a, value in s.execute(
            select(Alert, Asset.value).join(Asset, Asset.pk == Alert.asset_pk).where(
                Alert.org_pk == sme.org.pk, Alert.state.in_(["new", "acknowledged", "need-help"]))))
    context = browser.new_context(base_url=portal.url)
    page = context.new_page()
    sign_in(page, email)
    page.get_by_role("link", name="Exposure").click()
    table = page.locator("table.exposure")
    expect(table).to_be_visible()  # the click only starts loading; all_inner_texts does not wait
    severities = [h.lower().replace("information", "info") for h in table.locator("thead th").all_inner_texts()[1:-1]]
    shown: Counter[tuple[str, str]] = Counter()
    for row in table.locator("tbody tr").all():
        asset = row.locator("th").inner_text()
        for severity, cell in zip(severities, row.locator("td").all_inner_texts()[:-1], strict=True):
            if int(cell):
                shown[(asset, severity)] = int(cell)
    assert shown == open_
    assert table.locator("tfoot td").last.inner_text() == str(sum(open_.values()))
    figures = dict(zip(page.locator("dl.figures dt").all_inner_texts(), page.locator("dl.figures dd").all_inner_texts(),
                       strict=True))
    assert figures["Alerts fixed"] == "3"
    assert figures["Median time to fix"] == "3 h"
    found = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_AA}}).response["violations"]
    assert [(v["id"], v["impact"]) for v in found] == []
    page.set_viewport_size(NARROW)
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]
    context.close()
