"""The analyst's object browser: filters by kind, value, day added, collection and TLP (the export writes the
same view), an object's page shows the relationships and sightings about it that the reader may read and
none that it may not, and a bad filter is a clear 4xx."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.sync_api import Page, expect

from exchange.orgs.models import Role
from exchange.store.reads import DEFAULT_COLLECTION_ID
from tests.factories import TLP2, indicator
from tests.web.conftest import Portal, sign_in


def _relationship(source: str, verb: str, target: str, markings: list[str], **extra: Any) -> dict[str, Any]:
    return {"type": "relationship", "spec_version": "2.1", "id": f"relationship--{uuid.uuid4()}",
            "created": "2024-01-02T00:00:00.000Z", "modified": "2024-01-02T00:00:00.000Z",
            "relationship_type": verb, "source_ref": source, "target_ref": target,
            "object_marking_refs": markings, **extra}


def _ids(page: Page) -> set[str]:
    return {href.removeprefix("/objects/") for href in page.locator("main table a").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))")}


def test_the_browser_filters_by_day_collection_and_tlp_and_exports_that_view(portal: Portal, page: Page) -> None:
    csirt, _ = portal.person(Role.csirt)
    _, analyst = portal.person(Role.isac)
    public = indicator("[domain-name:value = 'public.test']", name="Public", markings=[TLP2["clear"]])
    shared = indicator("[domain-name:value = 'shared.test']", name="Shared", markings=[TLP2["green"]])
    portal.publish(csirt, public, shared)
    sign_in(page, analyst)

    page.goto("/objects")
    page.get_by_label("TLP").select_option("clear")
    page.get_by_role("button", name="Search").click()
    assert _ids(page) == {public["id"]}
    assert "tlp=clear" in page.url
    status = page.request.get(page.locator("a", has_text="STIX bundle (JSON)").get_attribute("href") or "")
    assert [o["id"] for o in json.loads(status.text())["objects"]] == [public["id"]]

    today = datetime.now(UTC).date()
    page.goto(f"/objects?type=indicator&since={today.isoformat()}&collection={DEFAULT_COLLECTION_ID}")
    assert _ids(page) == {public["id"], shared["id"]}
    page.goto(f"/objects?type=indicator&since={(today + timedelta(days=1)).isoformat()}")
    assert _ids(page) == set()
    assert page.get_by_text("Nothing found that you may read.").is_visible()

    bad_day = page.request.get("/objects?since=2026-02-30", headers={"Accept": "text/html"})
    assert bad_day.status == 400
    assert "is not a day" in bad_day.text()
    unknown = page.request.get(f"/objects?collection={uuid.uuid4()}", headers={"Accept": "text/html"})
    assert unknown.status == 404
    assert page.request.get("/objects?tlp=purple").status in (400, 422)


def test_an_objects_page_shows_what_points_at_it_that_the_reader_may_read(portal: Portal, page: Page) -> None:
    csirt, _ = portal.person(Role.csirt)
    _, analyst = portal.person(Role.isac)
    victim, _ = portal.person()
    phish = indicator("[domain-name:value = 'phish.test']", name="Phishing kit", markings=[TLP2["green"]])
    kit: dict[str, Any] = {"type": "malware", "spec_version": "2.1", "id": f"malware--{uuid.uuid4()}", "name": "Kit",
           "is_family": True, "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
           "object_marking_refs": [TLP2["green"]]}
    indicates = _relationship(phish["id"], "indicates", kit["id"], [TLP2["green"]])
    private = _relationship(phish["id"], "related-to", f"malware--{uuid.uuid4()}", [TLP2["amber+strict"]],
                            x_exchange_recipients=[victim.org.identity_id])
    seen_by = f"identity--{uuid.uuid4()}"
    seen = {"type": "sighting", "spec_version": "2.1", "id": f"sighting--{uuid.uuid4()}",
            "created": "2024-01-03T00:00:00.000Z", "modified": "2024-01-03T00:00:00.000Z",
            "sighting_of_ref": kit["id"], "where_sighted_refs": [seen_by], "object_marking_refs": [TLP2["green"]]}
    portal.publish(csirt, phish, kit, indicates, private, seen)
    sign_in(page, analyst)

    page.goto(f"/objects/{kit['id']}")
    about = page.get_by_role("table")
    assert about.get_by_role("cell", name="indicates").is_visible()
    sighted = about.get_by_role("row").filter(has=page.get_by_role("cell", name="sighted-by", exact=True))
    expect(sighted.get_by_role("link", name=seen_by)).to_have_attribute("href", f"/objects/{seen_by}")
    about.get_by_role("link", name=phish["id"]).click()
    assert page.url.endswith(f"/objects/{phish['id']}")
    content = page.goto(f"/objects/{phish['id']}")
    assert content is not None
    assert content.status == 200
    assert private["id"] not in page.content()  # the AMBER+STRICT relationship names someone else
    assert "related-to" not in page.content()
