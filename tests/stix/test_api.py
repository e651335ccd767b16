"""The REST API through HTTP: auth, publish, list, paging, single objects, look-ups, errors, ops."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import orjson
import pytest
from fastapi.testclient import TestClient

from exchange.orgs.models import Role
from tests.factories import TLP1, bundle, indicator
from tests.orgs_factory import MakeOrg, auth


def test_requests_without_valid_credentials_get_401_with_challenge(client: TestClient) -> None:
    for headers in ({}, auth("exk_nope_nope"), {"Authorization": "Basic !!!"}, {"Authorization": "Digest x"}):
        r = client.get("/api/v1/objects", headers=headers)
        assert r.status_code == 401
        assert r.headers["www-authenticate"].startswith("Basic realm=")
        assert set(r.json()) >= {"title", "description"}


def test_basic_auth_needs_the_matching_slug(client: TestClient, make_org: MakeOrg) -> None:
    org, key = make_org(Role.isac)
    other, _ = make_org(Role.isac)
    good = base64.b64encode(f"{org.slug}:{key}".encode()).decode()
    wrong = base64.b64encode(f"{other.slug}:{key}".encode()).decode()
    assert client.get("/api/v1/objects", headers={"Authorization": f"Basic {good}"}).status_code == 200
    assert client.get("/api/v1/objects", headers={"Authorization": f"Basic {wrong}"}).status_code == 401


def test_publish_reports_every_object(client: TestClient, make_org: MakeOrg) -> None:
    _, key = make_org(Role.csirt)
    good, bad = indicator(), indicator(confidence=101)
    r = client.post("/api/v1/objects", json=bundle(good, bad, good), headers=auth(key))
    assert r.status_code == 200
    body = r.json()
    assert (body["added"], body["duplicates"], body["rejected"]) == (1, 1, 1)
    assert [x["status"] for x in body["results"]] == ["added", "rejected", "duplicate"]
    assert "confidence" in body["results"][1]["message"]


def test_smes_cannot_publish(client: TestClient, make_org: MakeOrg) -> None:
    _, key = make_org(Role.sme)
    r = client.post("/api/v1/objects", json=bundle(indicator()), headers=auth(key))
    assert r.status_code == 403
    assert r.json()["title"] == "Forbidden"


def test_list_filters_and_cursor_paging(client: TestClient, make_org: MakeOrg) -> None:
    _, key = make_org(Role.csirt)
    objs = [indicator(f"[domain-name:value = 'd{i}.example']") for i in range(7)]
    vuln = {
        "type": "vulnerability",
        "spec_version": "2.1",
        "id": "vulnerability--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061",
        "created": "2024-01-01T00:00:00.000Z",
        "modified": "2024-01-01T00:00:00.000Z",
        "name": "CVE-2024-3400",
        "external_references": [{"source_name": "cve", "external_id": "CVE-2024-3400"}],
    }
    client.post("/api/v1/objects", json=bundle(*objs, vuln), headers=auth(key))
    seen, cursor = [], None
    while True:
        params = {"limit": 3, "type": "indicator"} | ({"next": cursor} if cursor else {})
        page = client.get("/api/v1/objects", params=params, headers=auth(key)).json()
        seen += [o["id"] for o in page["objects"]]
        assert page["more"] == (page["next"] is not None)
        if not page["more"]:
            break
        cursor = page["next"]
    assert seen == [o["id"] for o in objs]
    by_value = client.get("/api/v1/objects", params={"value": "D3.example."}, headers=auth(key)).json()
    assert [o["id"] for o in by_value["objects"]] == [objs[3]["id"]]
    by_type = client.get("/api/v1/objects", params={"type": "vulnerability"}, headers=auth(key)).json()
    assert [o["id"] for o in by_type["objects"]] == [vuln["id"]]
    later = client.get("/api/v1/objects", params={"since": "2999-01-01T00:00:00Z"}, headers=auth(key)).json()
    assert later["objects"] == []


def test_get_object_current_and_all_versions(client: TestClient, make_org: MakeOrg) -> None:
    _, key = make_org(Role.csirt)
    v1 = indicator()
    v2 = dict(v1, modified="2024-06-01T00:00:00.000Z", name="updated")
    client.post("/api/v1/objects", json=bundle(v1, v2), headers=auth(key))
    current = client.get(f"/api/v1/objects/{v1['id']}", headers=auth(key)).json()["objects"]
    assert [o["name"] for o in current] == ["updated"]
    every = client.get(f"/api/v1/objects/{v1['id']}", params={"versions": "all"}, headers=auth(key)).json()
    assert [o["modified"] for o in every["objects"]] == [v1["modified"], v2["modified"]]
    assert client.get("/api/v1/objects/indicator--nope", headers=auth(key)).status_code == 404


def test_observable_lookup(client: TestClient, make_org: MakeOrg) -> None:
    _, key = make_org(Role.csirt)
    net = indicator("[ipv4-addr:value = '203.0.113.0/24']", name="Bad network")
    dom = indicator("[domain-name:value = 'login.bakery-example.test']", name="Phishing")
    client.post("/api/v1/objects", json=bundle(net, dom), headers=auth(key))
    hit = client.get("/api/v1/observables", params={"value": "203.0.113.77"}, headers=auth(key)).json()
    assert hit["known"] is True
    assert [m["object_id"] for m in hit["matches"]] == [net["id"]]
    assert hit["matches"][0]["name"] == "Bad network"
    by_domain = client.get("/api/v1/observables", params={"value": "LOGIN.bakery-example.test"}, headers=auth(key))
    assert [m["object_id"] for m in by_domain.json()["matches"]] == [dom["id"]]
    miss = client.get("/api/v1/observables", params={"value": "203.0.114.1"}, headers=auth(key)).json()
    assert miss == {"value": "203.0.114.1", "known": False, "matches": []}


def test_amber_is_invisible_to_other_orgs_and_looks_absent(client: TestClient, make_org: MakeOrg) -> None:
    _, producer = make_org(Role.csirt)
    _, reader = make_org(Role.sme)
    _, admin = make_org(Role.admin)
    secret = indicator("[domain-name:value = 'amber.example']", markings=[TLP1["amber"]])
    client.post("/api/v1/objects", json=bundle(secret), headers=auth(producer))
    assert client.get(f"/api/v1/objects/{secret['id']}", headers=auth(reader)).status_code == 404
    assert client.get("/api/v1/objects", headers=auth(reader)).json()["objects"] == []
    lookup = client.get("/api/v1/observables", params={"value": "amber.example"}, headers=auth(reader)).json()
    assert lookup["known"] is False
    for key in (producer, admin):
        assert client.get(f"/api/v1/objects/{secret['id']}", headers=auth(key)).status_code == 200


def test_oversized_bodies_get_413(client: TestClient, make_org: MakeOrg) -> None:
    _, key = make_org(Role.csirt)
    huge = orjson.dumps(bundle(indicator(description="x" * (3 * 1024 * 1024))))
    r = client.post("/api/v1/objects", content=huge, headers=auth(key) | {"Content-Type": "application/json"})
    assert r.status_code == 413
    assert r.json()["title"] == "Payload too large"

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit is enforced while streaming
        for _ in range(40):
            yield b"x" * 100_000

    r = client.post("/api/v1/objects", content=chunks(), headers=auth(key) | {"Content-Type": "application/json"})
    assert r.status_code == 413


def test_operations_endpoints(client: TestClient, make_org: MakeOrg) -> None:
    _, key = make_org(Role.csirt)
    client.post("/api/v1/objects", json=bundle(indicator()), headers=auth(key))
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready"}
    from_loopback = TestClient(client.app, client=("127.0.0.1", 50000))  # /metrics: loopback by default
    metrics = from_loopback.get("/metrics").text
    assert 'exchange_ingested_objects_total{status="added"} 1.0' in metrics
    assert 'exchange_http_requests_total{method="POST",route="/api/v1/objects",status="200"}' in metrics


def test_security_headers_on_every_response(client: TestClient) -> None:
    for path in ("/healthz", "/api/v1/objects", "/nothing", "/taxii2/"):
        h = client.get(path).headers
        assert h["x-content-type-options"] == "nosniff"
        assert h["x-frame-options"] == "DENY"
        assert h["cache-control"] == "no-store"
        assert h["content-security-policy"].startswith("default-src 'none'")
    assert "content-security-policy" not in client.get("/docs").headers  # Swagger UI needs its scripts


def test_openapi_documents_every_model(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    assert {"IngestOut", "ObjectPageOut", "ObservableLookupOut", "ErrorOut", "AuditPageOut", "CollectionOut",
            "KeyOut", "UserOut", "GroupOut"} <= set(schemas)
    body = spec["paths"]["/api/v1/objects"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["properties"]["objects"]["type"] == "array"  # the bundle, documented though parsed by ingest
    for path in ("/api/v1/objects", "/api/v1/objects/{object_id}", "/api/v1/observables"):
        for op in spec["paths"][path].values():
            assert op.get("summary")
            assert "401" in op["responses"]


# --- query parameters: one paging name, unknown names refused, integers in range (issue 14, items 9 and 15) ---

def test_rest_listing_pages_with_next_as_the_answer_says(client: TestClient, make_org: MakeOrg) -> None:
    _, key = make_org(Role.csirt)
    objs = [indicator(f"[domain-name:value = 'p{i}.example']") for i in range(3)]
    client.post("/api/v1/objects", json=bundle(*objs), headers=auth(key))
    first = client.get("/api/v1/objects", params={"limit": 2}, headers=auth(key)).json()
    second = client.get("/api/v1/objects", params={"limit": 2, "next": first["next"]}, headers=auth(key)).json()
    assert [o["id"] for o in first["objects"] + second["objects"]] == [o["id"] for o in objs]
    assert second["more"] is False
    old_name = client.get("/api/v1/objects", params={"limit": 2, "cursor": first["next"]}, headers=auth(key))
    assert old_name.status_code == 400
    assert "'cursor'" in old_name.json()["description"]


REST_GETS = ["/api/v1/objects", "/api/v1/objects/indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
             "/api/v1/observables?value=example.com", "/api/v1/collections", "/api/v1/api-roots", "/api/v1/me",
             "/api/v1/orgs", "/api/v1/groups", "/api/v1/audit", "/api/v1/orgs/{slug}/keys", "/api/v1/orgs/{slug}/users"]


def test_unknown_query_parameters_get_400_on_every_rest_endpoint(client: TestClient, make_org: MakeOrg) -> None:
    admin, key = make_org(Role.admin)
    h = auth(key)
    client.post("/api/v1/objects", json=bundle(indicator()), headers=h)
    typo = client.get("/api/v1/objects", params={"typ": "malware"}, headers=h)
    assert typo.status_code == 400
    assert "'typ'" in typo.json()["description"]
    assert "type" in typo.json()["description"]
    for path in REST_GETS:
        path = path.format(slug=admin.slug)
        r = client.get(path + ("&" if "?" in path else "?") + "bogus=1", headers=h)
        assert r.status_code == 400, (path, r.status_code, r.text)
        assert r.json()["title"] == "Bad request"
    r = client.post("/api/v1/groups?bogus=1", json={"name": "g"}, headers=h)
    assert r.status_code == 400
    assert client.get("/api/v1/groups", headers=h).json() == []  # refused before anything was written


@pytest.mark.parametrize(("path", "name"), [("/api/v1/objects", "limit"), ("/api/v1/audit", "limit"),
                                            ("/api/v1/audit", "before")])
def test_integer_parameters_out_of_range_get_a_json_4xx(client: TestClient, make_org: MakeOrg, path: str,
                                                        name: str) -> None:
    _, key = make_org(Role.admin)
    for value in ("9223372036854775808", "99999999999999999999999", "-1", "-9223372036854775809", "0"):
        r = client.get(path, params={name: value}, headers=auth(key))
        assert r.status_code == 422, (name, value, r.status_code, r.text)
        assert {"title", "description"} <= set(r.json())
    assert client.get(path, params={name: "9223372036854775807"}, headers=auth(key)).status_code == 200
