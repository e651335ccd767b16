"""An inbox of 5,000 alerts pages by key: 25 at a time, newest first, each page continuing where the last
stopped, with the open / fixed filter applied in the query (the open page is full of open alerts)."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import insert

from exchange.alerts.models import Alert
from exchange.core.db import transaction
from exchange.core.timestamps import now_micros
from exchange.orgs.models import Role
from exchange.web.inbox import PAGE_SIZE
from tests.factories import indicator
from tests.web.conftest import PASSWORD, Portal
from tests.web.test_signin import form_token

ALERTS = 5000


def test_an_inbox_of_5000_alerts_pages_by_key(portal: Portal) -> None:
    sme, email = portal.person()
    csirt, _ = portal.person(Role.csirt)
    published = indicator("[domain-name:value = 'login.bakery.test']")
    portal.publish(csirt, published)
    now = now_micros()
    with transaction(portal.sessions) as s:
        s.execute(insert(Alert), [
            {"org_pk": sme.org.pk, "asset_pk": None, "match_key": f"bench:{i}", "object_id": published["id"],
             "object_modified": now, "kind": "listed", "severity": "high", "grade": "unknown",
             "state": "new" if i % 2 else "fixed", "matched": f"host{i}.bakery.test", "created_at": now + i,
             "updated_at": now + i, "withheld": False} for i in range(ALERTS)])
    with httpx.Client(timeout=60, base_url=portal.url) as http:
        http.post("/signin", data={"csrf": form_token(http), "email": email, "password": PASSWORD})
        seen: list[int] = []
        url: str | None = "/inbox?show=all"
        for _ in range(3):
            assert url is not None
            body = http.get(url).text
            ids = [int(i) for i in re.findall(r'href="/inbox/(\d+)"', body)]
            assert len(ids) == PAGE_SIZE
            seen += ids
            older = re.search(r'href="(/inbox\?show=all&amp;after=\d+)"', body)
            url = older.group(1).replace("&amp;", "&") if older else None
        assert seen == sorted(seen, reverse=True)
        assert len(set(seen)) == 3 * PAGE_SIZE
        open_page = http.get("/inbox?show=open").text
        assert len(re.findall(r'href="/inbox/(\d+)"', open_page)) == PAGE_SIZE
        assert open_page.count('class="state">New<') == PAGE_SIZE
