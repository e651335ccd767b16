"""The API documents itself completely and its docs pages work on a network without internet access.

Issue 14, item 16: ``/docs`` loaded Swagger UI from a CDN (a blank page offline), had no Authorize
button (no security schemes), and the TAXII operations, which parse their query strings by hand,
showed none of their parameters or bodies.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from exchange.orgs.models import Role
from tests.orgs_factory import MakeOrg, auth

TAXII_LISTING = {"match[id]", "match[type]", "match[version]", "match[spec_version]", "added_after", "limit", "next"}
COLLECTION = "/taxii2/{api_root}/collections/{collection_id}"
EXPECTED_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}


class _Assets(HTMLParser):
    """Every URL a page makes the browser load (scripts, styles, icons) or point at."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in ("src", "href", "spec-url") and value]


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_reference_only_local_assets_and_they_are_served(client: TestClient, page: str) -> None:
    r = client.get(page)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    parser = _Assets()
    parser.feed(r.text)
    assets = [u for u in parser.urls if not u.endswith("openapi.json")]
    assert len(assets) >= 2  # at least the script and the icon (Swagger UI also has its stylesheet)
    assert "cdn" not in r.text.lower()
    for url in parser.urls:
        parts = urlsplit(url)
        assert (parts.scheme, parts.netloc) == ("", ""), url  # same origin: nothing from the internet
        assert url.startswith("/"), url
    for url in assets:
        served = client.get(url)
        assert served.status_code == 200, url
        suffix = url[url.rfind("."):]
        assert served.headers["content-type"].startswith(EXPECTED_TYPES[suffix]), (url, served.headers)
        assert len(served.content) > 1000, url  # the real dist file, not a stub


def test_swagger_ui_has_its_script_and_stylesheet(client: TestClient) -> None:
    parser = _Assets()
    parser.feed(client.get("/docs").text)
    assert any(u.endswith("swagger-ui-bundle.js") for u in parser.urls)
    assert any(u.endswith("swagger-ui.css") for u in parser.urls)
    assert client.get("/openapi.json").status_code == 200


def test_openapi_declares_both_security_schemes_and_every_operation_uses_them(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    schemes = spec["components"]["securitySchemes"]
    assert sorted((s["type"], s["scheme"]) for s in schemes.values()) == [("http", "basic"), ("http", "bearer")]
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            named = {name for requirement in op["security"] for name in requirement}
            assert named == set(schemes), (method, path)
            anonymous_allowed = {} in op["security"]
            assert anonymous_allowed == (not path.startswith("/api/v1/")), (method, path)


def test_every_operation_has_a_tag(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    untagged = [(m, p) for p, ops in spec["paths"].items() for m, op in ops.items() if not op.get("tags")]
    assert untagged == []
    assert {"stix", "organisations", "taxii", "operations"} <= {t for ops in spec["paths"].values()
                                                                for op in ops.values() for t in op["tags"]}


def _query_names(op: dict[str, Any]) -> set[str]:
    return {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}


def test_taxii_operations_list_their_parameters_and_body(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert _query_names(paths[f"{COLLECTION}/objects/"]["get"]) == TAXII_LISTING
    assert _query_names(paths[f"{COLLECTION}/manifest/"]["get"]) == TAXII_LISTING
    one = f"{COLLECTION}/objects/{{object_id}}/"
    assert _query_names(paths[one]["get"]) == TAXII_LISTING - {"match[id]", "match[type]"}
    assert _query_names(paths[one]["delete"]) == {"match[version]", "match[spec_version]"}
    assert _query_names(paths[f"{one}versions/"]["get"]) == {"match[spec_version]", "added_after", "limit", "next"}
    limit = next(p for p in paths[f"{COLLECTION}/objects/"]["get"]["parameters"] if p["name"] == "limit")
    assert limit["schema"] == {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}
    body = paths[f"{COLLECTION}/objects/"]["post"]["requestBody"]
    assert body["required"] is True
    envelope = body["content"]["application/taxii+json;version=2.1"]["schema"]
    assert envelope["required"] == ["objects"]
    assert envelope["properties"]["objects"]["type"] == "array"


def test_documented_taxii_parameters_are_the_ones_the_server_accepts(client: TestClient, make_org: MakeOrg) -> None:
    """Every documented listing parameter, given a valid value, is accepted (no 400 for a documented name)."""
    _, key = make_org(Role.csirt)
    h = auth(key) | {"Accept": "application/taxii+json;version=2.1"}
    collections = client.get("/taxii2/default/collections/", headers=h).json()["collections"]
    cid = collections[0]["id"]
    valid = {"match[id]": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "match[type]": "indicator",
             "match[version]": "all", "match[spec_version]": "2.1", "added_after": "2024-01-01T00:00:00.000Z",
             "limit": "5"}
    spec = client.get("/openapi.json").json()
    for name in _query_names(spec["paths"][f"{COLLECTION}/objects/"]["get"]) - {"next"}:
        r = client.get(f"/taxii2/default/collections/{cid}/objects/", params={name: valid[name]}, headers=h)
        assert r.status_code == 200, (name, r.text)
