"""REST of the inventory: each organisation sees and changes only its own assets; csirt and admin
organisations may act for others; bad input is a clear 4xx."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from exchange.orgs.models import AuditEntry, Role
from tests.orgs_factory import auth


def _add(client: TestClient, key: str, kind: str, value: str, **extra: Any) -> httpx.Response:
    response: httpx.Response = client.post("/api/v1/assets", json={"kind": kind, "value": value, **extra},
                                           headers=auth(key))
    return response


def test_add_normalises_and_lists_in_pages(client, make_org) -> None:  # type: ignore[no-untyped-def]
    org, key = make_org(Role.sme)
    added = [_add(client, key, kind, value) for kind, value in (
        ("domain", "Bücher.TEST"), ("cidr", "203.0.113.7/24"), ("asn", "AS64501"),
        ("software", "pkg:pypi/Django@4.2.1"), ("url", "https://Shop.test/Login"))]
    assert [r.status_code for r in added] == [201] * 5
    assert [r.json()["value"] for r in added] == ["xn--bcher-kva.test", "203.0.113.0/24", "64501",
                                                  "pkg:pypi/django@4.2.1", "https://shop.test/Login"]
    assert added[0].json()["org"] == org.slug
    assert added[0].json()["verified"] is False
    assert added[0].json()["challenge"]["dns_txt"].startswith("exchange-verification=")
    software = added[3].json()
    assert software["verified"] is True
    assert software["challenge"] is None
    assert software["software"] == {"vendor": None, "product": "django", "version": "4.2.1", "purl_type": "pypi"}
    first = client.get("/api/v1/assets?limit=2", headers=auth(key)).json()
    assert first["more"] is True
    assert len(first["assets"]) == 2
    rest = client.get(f"/api/v1/assets?limit=10&next={first['next']}", headers=auth(key)).json()
    assert rest["more"] is False
    assert rest["next"] is None
    assert [a["id"] for a in first["assets"] + rest["assets"]] == [r.json()["id"] for r in added]
    only = client.get("/api/v1/assets?kind=cidr", headers=auth(key)).json()["assets"]
    assert [a["value"] for a in only] == ["203.0.113.0/24"]


def test_the_same_asset_twice_is_a_conflict_but_another_org_may_claim_it(client, make_org) -> None:  # type: ignore[no-untyped-def]
    _, key = make_org(Role.sme)
    _, other = make_org(Role.sme)
    assert _add(client, key, "domain", "shop.test").status_code == 201
    again = _add(client, key, "domain", "SHOP.test.")
    assert again.status_code == 409
    assert "already has" in again.json()["description"]
    assert _add(client, other, "domain", "shop.test").status_code == 201  # claims are proved, not first-come


def test_another_orgs_assets_are_invisible(client, make_org) -> None:  # type: ignore[no-untyped-def]
    owner, key = make_org(Role.sme)
    _, intruder = make_org(Role.sme)
    asset = _add(client, key, "domain", "shop.test").json()
    for method, path in (("GET", f"/api/v1/assets/{asset['id']}"), ("DELETE", f"/api/v1/assets/{asset['id']}")):
        assert client.request(method, path, headers=auth(intruder)).status_code == 404
    r = client.post(f"/api/v1/assets/{asset['id']}/verify", json={"method": "dns"}, headers=auth(intruder))
    assert r.status_code == 404
    assert client.get(f"/api/v1/assets?org={owner.slug}", headers=auth(intruder)).status_code == 404
    assert _add(client, intruder, "domain", "x.test", org=owner.slug).status_code == 404
    assert client.get("/api/v1/assets", headers=auth(intruder)).json()["assets"] == []


def test_a_csirt_acts_for_its_constituents(client, make_org, sessions) -> None:  # type: ignore[no-untyped-def]
    sme, sme_key = make_org(Role.sme)
    csirt, csirt_key = make_org(Role.csirt)
    made = _add(client, csirt_key, "cidr", "198.51.100.0/24", org=sme.slug)
    assert made.status_code == 201
    assert made.json()["org"] == sme.slug
    listed = client.get(f"/api/v1/assets?org={sme.slug}", headers=auth(csirt_key)).json()["assets"]
    assert [a["value"] for a in listed] == ["198.51.100.0/24"]
    assert client.get("/api/v1/assets", headers=auth(sme_key)).json()["assets"][0]["id"] == made.json()["id"]
    assert client.delete(f"/api/v1/assets/{made.json()['id']}", headers=auth(csirt_key)).status_code == 204
    assert client.get("/api/v1/assets", headers=auth(sme_key)).json()["assets"] == []
    with sessions() as s:
        actions = s.execute(select(AuditEntry.action, AuditEntry.actor, AuditEntry.target)
                            .where(AuditEntry.action.like("asset.%")).order_by(AuditEntry.pk)).all()
    assert [tuple(a) for a in actions][-2:] == [("asset.add", csirt.slug, f"{sme.slug}/cidr/198.51.100.0/24"),
                                                ("asset.remove", csirt.slug, "cidr/198.51.100.0/24")]


@pytest.mark.parametrize(("body", "status", "says"), [
    ({"kind": "domain", "value": "co.uk"}, 400, "public suffix"),
    ({"kind": "cidr", "value": "203.0.0.0/15"}, 400, "wider than /16"),
    ({"kind": "planet", "value": "earth"}, 422, ""),
    ({"kind": "domain", "value": ""}, 422, ""),
    ({"kind": "domain", "value": "a" * 1025}, 422, ""),
    ({"kind": "domain"}, 422, ""),
    ({"kind": "domain", "value": "shop.test", "org": "Not A Slug"}, 422, ""),
])
def test_bad_input_is_a_clear_4xx(client, make_org, body, status, says) -> None:  # type: ignore[no-untyped-def]
    _, key = make_org(Role.sme)
    r = client.post("/api/v1/assets", json=body, headers=auth(key))
    assert r.status_code == status, r.text
    assert says in r.text


@pytest.mark.parametrize("query", ["next=abc", "next=99999999999999999999", "limit=0", "kind=planet", "cursor=1"])
def test_bad_paging_is_a_4xx(client, make_org, query) -> None:  # type: ignore[no-untyped-def]
    _, key = make_org(Role.sme)
    assert client.get(f"/api/v1/assets?{query}", headers=auth(key)).status_code in (400, 422)


def test_writes_need_a_key_with_write_scope(client, make_org) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/api/v1/assets").status_code == 401
    assert client.post("/api/v1/assets", json={"kind": "domain", "value": "shop.test"}).status_code == 401
    assert client.get("/api/v1/assets/99999999999999999999", headers=auth(make_org(Role.sme)[1])).status_code == 422


def test_profile_sector_and_country(client, make_org) -> None:  # type: ignore[no-untyped-def]
    org, key = make_org(Role.sme)
    assert client.get("/api/v1/profile", headers=auth(key)).json() == {
        "org": org.slug, "sector": None, "sector_name": None, "country": None}
    r = client.put("/api/v1/profile", json={"sector": "c", "country": "fr"}, headers=auth(key))
    assert r.json() == {"org": org.slug, "sector": "C", "sector_name": "Manufacturing", "country": "FR"}
    assert client.put("/api/v1/profile", json={"country": "DE"}, headers=auth(key)).json()["sector"] == "C"
    bad = client.put("/api/v1/profile", json={"country": "XX"}, headers=auth(key))
    assert bad.status_code == 400
    assert "ISO 3166-1" in bad.json()["description"]
    assert client.put("/api/v1/profile", json={"sector": "Z"}, headers=auth(key)).status_code == 422
