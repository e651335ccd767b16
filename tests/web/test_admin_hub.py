"""The hub admin's other pages in Chromium: sharing groups and their members, collections and grants (checked by
what the API then lets the grantee do), feeds (run now, switch off: the schedule's own answer), the audit log's
paging; then every admin page through axe (WCAG 2.1 AA), at 360 px, and in another language."""

from __future__ import annotations

import re

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from exchange.core.db import transaction
from exchange.core.timestamps import now_micros
from exchange.feeds import schedule
from exchange.feeds.models import Feed
from exchange.orgs import audit
from exchange.orgs.models import Role
from exchange.sharing import groups
from tests.orgs_factory import auth
from tests.web.conftest import Portal, screenshot, sign_in
from tests.web.test_accessibility import NARROW, WCAG_AA


def test_an_admin_runs_a_sharing_group(portal: Portal, page: Page) -> None:
    admin_org, admin = portal.person(Role.admin)
    isac, _ = portal.person(Role.isac)
    sme, _ = portal.person()
    sign_in(page, admin)
    page.goto("/admin/groups")
    page.fill("#group-name", "Bakers' circle")
    page.fill("#group-description", "Bakeries of the region")
    page.get_by_role("button", name="Create the group").click()
    for slug in (isac.org.slug, sme.org.slug):
        page.fill("#member-slug", slug)
        page.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator("table tbody tr")).to_have_count(3)  # the admin organisation owns it and is a member
    page.get_by_role("button", name=f"Remove {sme.org.slug} from the group").click()
    expect(page.locator("table tbody tr")).to_have_count(2)
    page.fill("#member-slug", "no-such-org")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator("h1")).to_have_text("Not found")
    with portal.sessions() as s:
        [group] = [g for g in groups.visible_to(s, isac.org) if g.name == "Bakers' circle"]
        assert {m.slug for m in groups.members(s, group)} == {isac.org.slug, admin_org.org.slug}
    page.goto("/admin/groups")
    expect(page.get_by_role("link", name="Bakers' circle")).to_be_visible()


def test_a_grant_made_on_the_page_is_what_the_api_enforces(portal: Portal, page: Page) -> None:
    _, admin = portal.person(Role.admin)
    reader = portal.make_org(Role.sme)
    sign_in(page, admin)
    page.goto("/admin/collections")
    page.fill("#c-title", "Granted only")
    page.uncheck("#c-members-read")
    page.select_option("#c-tlp", "amber")
    page.get_by_role("button", name="Create the collection").click()
    collection_id = page.url.rsplit("/", 1)[1]
    listing = f"{portal.url}/api/v1/collections"
    assert collection_id not in httpx.get(listing, headers=auth(reader.key), timeout=60).text
    page.fill("#grant-slug", reader.org.slug)
    page.get_by_role("button", name="Save the rights").click()
    expect(page.locator("table tbody tr")).to_contain_text(reader.org.slug)
    mine = {c["id"]: c for c in httpx.get(listing, headers=auth(reader.key), timeout=60).json()}
    assert (mine[collection_id]["can_read"], mine[collection_id]["can_write"]) == (True, False)
    page.fill("#grant-slug", reader.org.slug)
    page.uncheck("#grant-read")
    page.get_by_role("button", name="Save the rights").click()
    assert collection_id not in httpx.get(listing, headers=auth(reader.key), timeout=60).text
    page.goto("/admin/collections")
    row = page.locator("tr", has_text="Granted only")
    expect(row).to_contain_text("TLP:AMBER")
    expect(row).to_contain_text("Granted organisations only")


def test_feeds_run_now_and_switch_off(portal: Portal, page: Page) -> None:
    admin_org, admin = portal.person(Role.admin)
    csirt, _ = portal.person(Role.csirt)
    portal.feed_run(csirt.org.pk, "peer-feed", added=42)
    sign_in(page, admin)
    page.goto("/admin/feeds")
    row = page.locator("tr", has_text="peer-feed")
    expect(row).to_contain_text("complete")
    with portal.sessions() as s:
        assert "peer-feed" not in schedule.due(s, now_micros())  # it has just run
    row.get_by_role("button", name="Run now: peer-feed").click()
    expect(page.locator("tr", has_text="peer-feed")).to_contain_text("Waiting for the worker")
    with portal.sessions() as s:
        assert "peer-feed" in schedule.due(s, now_micros())
    page.locator("tr", has_text="peer-feed").get_by_role("button", name="Switch off: peer-feed").click()
    expect(page.locator("tr", has_text="peer-feed")).to_contain_text("Off")
    with portal.sessions() as s:
        assert "peer-feed" not in schedule.due(s, now_micros())
        assert s.scalars(select(Feed.enabled).where(Feed.name == "peer-feed")).one() is False
    page.locator("tr", has_text="peer-feed").get_by_role("button", name="Switch on: peer-feed").click()
    with portal.sessions() as s:
        assert "peer-feed" in schedule.due(s, now_micros())
    page.goto(f"/admin/audit?org={admin_org.org.slug}&action=feed.disable")
    expect(page.locator("table tbody tr")).to_contain_text("peer-feed")


def test_an_admin_adds_a_feed_as_the_api_would_and_removes_it(portal: Portal, page: Page) -> None:
    admin_org, admin = portal.person(Role.admin)
    csirt, _ = portal.person(Role.csirt)
    sme, _ = portal.person()
    sign_in(page, admin)
    page.goto("/admin/feeds")
    page.fill("#f-name", "cert-xy")
    page.select_option("#f-kind", "taxii")
    page.fill("#f-url", "https://taxii.cert-xy.test/api1/collections/91a7b528-80eb-42ed-a74d-c6fbd5a26116/")
    page.fill("#f-owner", csirt.org.slug)
    page.select_option("#f-tlp", "amber")
    page.fill("#f-confidence", "80")
    page.fill("#f-cron", "0 6 * * *")
    page.fill("#f-username", "hub")
    page.fill("#f-password-env", "CERT_XY_TOKEN")
    page.fill("#f-options", '{"page_size": 500}')
    page.get_by_role("button", name="Add the feed").click()
    expect(page.locator("h1")).to_have_text("cert-xy")
    expect(page.get_by_text("It has not run yet.")).to_be_visible()
    shown = httpx.get(f"{portal.url}/api/v1/feeds/cert-xy", headers=auth(admin_org.key), timeout=60).json()
    assert {k: shown[k] for k in ("kind", "owner", "tlp", "confidence", "cron", "username", "password_env",
                                  "options", "enabled")} == {
        "kind": "taxii", "owner": csirt.org.slug, "tlp": "amber", "confidence": 80, "cron": "0 6 * * *",
        "username": "hub", "password_env": "CERT_XY_TOKEN", "options": {"page_size": 500}, "enabled": True}
    for field, value, message in (("#f-owner", sme.org.slug, "only csirt, isac and admin organisations"),
                                  ("#f-options", "[1, 2]", "options: a JSON object"),
                                  ("#f-name", "cert-xy", "a feed named 'cert-xy' exists")):
        page.goto("/admin/feeds")
        page.fill("#f-name", "cert-xy" if field == "#f-name" else "another")
        page.fill("#f-url", "https://feeds.test/list.txt")
        if field != "#f-name":
            page.fill(field, value)
        page.get_by_role("button", name="Add the feed").click()
        expect(page.locator("h1")).to_have_text("Bad request" if field != "#f-name" else "Already there")
        expect(page.locator("main")).to_contain_text(message)
    page.goto("/admin/feeds/cert-xy")
    page.get_by_role("button", name="Remove the feed cert-xy").click()
    expect(page.locator("h1")).to_have_text("Feeds")
    assert httpx.get(f"{portal.url}/api/v1/feeds/cert-xy", headers=auth(admin_org.key),
                     timeout=60).status_code == 404
    page.goto(f"/admin/audit?org={admin_org.org.slug}&action=feed.remove")
    expect(page.locator("table tbody tr")).to_contain_text("cert-xy")


def test_a_feed_page_says_what_its_runs_rejected(portal: Portal, page: Page) -> None:
    _, admin = portal.person(Role.admin)
    csirt, _ = portal.person(Role.csirt)
    portal.feed_run(csirt.org.pk, "noisy", added=5,
                    problems="line 3: not an address: 999.1.1.1\nline 9: not an address: example..test")
    sign_in(page, admin)
    page.goto("/admin/feeds")
    page.get_by_role("link", name="noisy").click()
    expect(page.locator("table tbody tr")).to_have_count(1)
    expect(page.locator(".problems li")).to_have_text(["line 3: not an address: 999.1.1.1",
                                                       "line 9: not an address: example..test"])


def test_the_audit_log_pages_with_its_filters(portal: Portal, page: Page) -> None:
    _, admin = portal.person(Role.admin)
    with transaction(portal.sessions) as s:
        for n in range(60):
            audit.record(s, org=None, action="test.bulk", target=f"item-{n:02d}", actor="cli")
        audit.record(s, org=None, action="test.other", target="other", actor="cli")
    sign_in(page, admin)
    page.goto("/admin/audit?action=test.bulk")
    targets = page.locator("table tbody tr td:nth-child(4)")
    expect(targets).to_have_text([f"item-{n:02d}" for n in range(59, 9, -1)])
    page.get_by_role("link", name="Older entries").click()
    assert re.search(r"action=test\.bulk", page.url)
    expect(targets).to_have_text([f"item-{n:02d}" for n in range(9, -1, -1)])  # waits: the click only starts loading
    expect(page.get_by_role("link", name="Older entries")).to_have_count(0)
    page.goto("/admin/audit?action=test.bulk&until=2000-01-01")
    expect(page.get_by_text("No entries match.")).to_be_visible()
    assert page.goto("/admin/audit?since=2024-02-31").status == 400  # type: ignore[union-attr]
    expect(page.locator("h1")).to_have_text("Bad request")


@pytest.fixture
def admin_pages(portal: Portal) -> tuple[str, list[str]]:
    """A hub admin, with an organisation, a group, a collection and a feed to show; the admin pages' paths."""
    admin_org, email = portal.person(Role.admin)
    csirt, _ = portal.person(Role.csirt)
    portal.feed_run(csirt.org.pk, "kev", added=3)
    collection = httpx.post(f"{portal.url}/api/v1/collections", json={"title": "Members' reports"},
                            headers=auth(admin_org.key), timeout=60).json()["id"]
    group = httpx.post(f"{portal.url}/api/v1/groups", json={"name": "Circle"}, headers=auth(admin_org.key),
                       timeout=60).json()["id"]
    return email, ["/admin/orgs", f"/admin/orgs/{csirt.org.slug}", f"/admin/orgs/{admin_org.org.slug}",
                   "/admin/groups", f"/admin/groups/{group}", "/admin/collections", f"/admin/collections/{collection}",
                   "/admin/feeds", "/admin/feeds/kev", "/admin/audit"]


def test_every_admin_page_passes_axe_and_fits_360_px(portal: Portal, browser: Browser,
                                                     admin_pages: tuple[str, list[str]]) -> None:
    email, paths = admin_pages
    axe = Axe()
    for name, viewport in (("desktop", None), ("narrow", NARROW)):
        context = browser.new_context(base_url=portal.url, viewport=viewport)
        page = context.new_page()
        sign_in(page, email)
        for path in paths:
            page.goto(path)
            if viewport is None:
                results = axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG_AA}})
                problems = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
                            for v in results.response["violations"]]
                assert problems == [], f"{path}: {problems}"
            else:
                width = page.evaluate("document.documentElement.scrollWidth")
                assert width <= NARROW["width"], f"{path} scrolls sideways: {width} px"
            screenshot(page, f"{name}{path.replace('/', '-')}")
        page.goto(f"/admin/orgs/{paths[1].rsplit('/', 1)[1]}")
        page.get_by_role("button", name="Create the key").click()
        page.wait_for_load_state()  # the style sheet too: a click, unlike goto, does not wait for it
        expect(page.locator("#secret")).to_be_visible()
        screenshot(page, f"{name}-admin-key")
        if viewport is None:
            assert axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG_AA}}).response["violations"] == []
        else:
            assert page.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]
        context.close()


def test_the_admin_pages_speak_the_readers_language(portal: Portal, browser: Browser,
                                                     admin_pages: tuple[str, list[str]]) -> None:
    email, paths = admin_pages
    context = browser.new_context(base_url=portal.url, locale="ja")
    page = context.new_page()
    sign_in(page, email)
    for path, heading in (("/admin/orgs", "組織"), ("/admin/audit", "監査ログ"), ("/admin/feeds", "フィード")):
        page.goto(path)
        expect(page.locator("h1")).to_have_text(heading)
    context.close()
