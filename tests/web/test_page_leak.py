"""No page leaks a TLP:AMBER object of a sharing group to an organisation outside it: every GET page of every
router in ``web.routes.PAGES`` (so a page added later is covered without touching this test), fetched as an
SME and as a CSIRT outside the group, with the object's id and domain in its path and query, never shows the
object. The reader even registered the object's domain as its own asset."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute
from playwright.sync_api import Page

from exchange.core.db import transaction
from exchange.orgs.models import Org, Role
from exchange.sharing import catalog, groups
from exchange.store.ingest import ingest
from exchange.web.routes import PAGES
from tests.factories import TLP2, indicator
from tests.web.conftest import Portal, sign_in

SECRET = "amber-only-finding"
HOST = "secret-portal.test"


def _routes() -> list[str]:
    return sorted({route.path for router in PAGES for route in router.routes
                   if isinstance(route, APIRoute) and "GET" in (route.methods or ())})


def test_every_page_is_listed() -> None:
    assert {"/inbox", "/objects/{stix_id}", "/advisories", "/sightings", "/roster/{slug}", "/admin/orgs",
            "/admin/audit"} <= set(_routes())


@pytest.mark.parametrize("role", [Role.sme, Role.csirt])
def test_no_page_shows_another_groups_amber_object(portal: Portal, page: Page, role: Role) -> None:
    isac, _ = portal.person(Role.isac)
    member, _ = portal.person()
    reader, email = portal.person(role)
    published = indicator(f"[domain-name:value = '{HOST}']", name=SECRET, description=f"{SECRET} details",
                          markings=[TLP2["amber"]])
    with transaction(portal.sessions) as s:
        owner = s.get_one(Org, isac.org.pk)
        group = groups.create(s, owner, name="members only")
        groups.add_member(s, group, s.get_one(Org, member.org.pk))
        collection = catalog.create(s, title="group feed", owner=owner, sharing_group=group)
        result = ingest(s, [published], collection=collection, org=owner)
        assert result.added == 1
    asset = portal.asset(reader.org.pk, HOST)  # its own domain, named in the group's finding
    portal.publish(portal.make_org(Role.csirt), indicator(f"[domain-name:value = 'www.{HOST}']", name="public"))
    portal.match()
    alerts = portal.alert_ids(reader.org.pk)
    assert alerts, "the public indicator should alert the reader about its asset"
    assert portal.alert_ids(member.org.pk) == []  # the member has no asset: nothing to match
    values = {"alert_id": str(alerts[0]), "asset_id": str(asset), "stix_id": published["id"],
              "slug": reader.org.slug, "token": "x" * 43}
    sign_in(page, email)
    fetched = 0
    for path in _routes():
        if path.startswith("/signin") or path == "/signout":
            continue
        url = re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), "1"), path)
        for query in ("", f"?value={HOST}&q={HOST}&type=indicator", f"?value={published['id']}&show=all"):
            answer = page.request.get(url + query, max_redirects=0)
            assert answer.status in (200, 303, 403, 404, 422), f"{url}{query}: {answer.status}"
            # its name, never typed: the id and the domain are in the query, and a search form echoes them
            assert SECRET not in answer.text(), f"{url}{query} shows the group's object"
            fetched += 1
    assert fetched >= 3 * 10
