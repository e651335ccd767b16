"""TAXII 2.1 over raw HTTP: discovery, API root information and the collections listing with rights.

Section numbers refer to the TAXII 2.1 specification (OASIS Committee Specification 01).
"""

from __future__ import annotations

import json
import uuid

from typer.testing import CliRunner

from exchange.cli import app as cli
from exchange.orgs.models import Role
from tests.taxii.live import (
    COLLECTIONS,
    DEFAULT,
    MAX_BODY_BYTES,
    STIX,
    TAXII,
    Hub,
    check_error,
    coll,
    expect,
)

# --- discovery, API root, collections (sections 4.1, 4.2, 5.1, 5.2) ----------------------------------------

def test_discovery_names_the_default_api_root(hub: Hub) -> None:
    m = hub.member(Role.sme)
    for path in ("/taxii2/", "/taxii2"):
        body = expect(hub.get(path, m))
        assert isinstance(body["title"], str)
        assert body["title"]
        assert isinstance(body["description"], str)
        assert body["default"] == f"{hub.base}/taxii2/default/"
        assert body["default"] in body["api_roots"]
        for url in body["api_roots"]:
            assert url.startswith(f"{hub.base}/taxii2/")
            assert url.endswith("/")


def test_api_root_information(hub: Hub) -> None:
    m = hub.member(Role.sme)
    for path in ("/taxii2/default/", "/taxii2/default"):
        body = expect(hub.get(path, m))
        assert isinstance(body["title"], str)
        assert body["title"]
        assert body["versions"] == [TAXII]
        limit = body["max_content_length"]
        assert type(limit) is int
        assert 0 < limit <= MAX_BODY_BYTES  # never more than the server really accepts
    expect(hub.get("/taxii2/no-such-root/", m), 404)
    expect(hub.get("/taxii2/no-such-root/collections/", m), 404)
    expect(hub.get(f"/taxii2/no-such-root/collections/{DEFAULT}/objects/", m), 404)


def test_collections_show_each_member_its_rights(hub: Hub) -> None:
    csirt, isac, sme, admin = (hub.member(r) for r in (Role.csirt, Role.isac, Role.sme, Role.admin))
    cid = hub.create_collection(title="Partners feed")
    rights = {
        DEFAULT: {csirt: (True, True), isac: (True, True), sme: (True, False), admin: (True, True)},
        cid: {csirt: (True, False), isac: (True, False), sme: (True, False), admin: (True, True)},
    }
    for m in (csirt, isac, sme, admin):
        for path in (COLLECTIONS, COLLECTIONS.rstrip("/")):
            listing = expect(hub.get(path, m))
            by_id = {c["id"]: c for c in listing["collections"]}
            assert {DEFAULT, cid} <= set(by_id)
            for c in (DEFAULT, cid):
                entry = by_id[c]
                assert (entry["can_read"], entry["can_write"]) == rights[c][m], (m.role, c, entry)
                assert isinstance(entry["title"], str)
                assert entry["title"]
                assert isinstance(entry["description"], str)
                assert STIX in entry["media_types"]
                assert expect(hub.get(coll(c), m)) == entry
                assert expect(hub.get(coll(c).rstrip("/"), m)) == entry
            assert by_id[cid]["title"] == "Partners feed"
    hub.grant(cid, csirt, "--write")
    assert expect(hub.get(coll(cid), csirt))["can_write"] is True
    assert expect(hub.get(coll(cid), isac))["can_write"] is False
    check_error(hub.get(coll(str(uuid.uuid4())), csirt), 404)
    check_error(hub.get(coll("not-a-collection"), csirt), 404)


def test_api_roots_are_configured_in_the_database(hub: Hub) -> None:
    """An operator adds an API root (CLI or REST); discovery lists it, and its collections live under it
    alone. Rights on a collection that members may not read come from grants."""
    admin, csirt, isac = hub.member(Role.admin), hub.member(Role.csirt), hub.member(Role.isac)
    name = f"energy-{uuid.uuid4().hex[:6]}"
    created = json.loads(hub.cli("api-root", "create", name, "--title", "Energy ISAC", "--description", "sector",
                                 "--json"))
    assert created == {"name": name, "url_path": f"/taxii2/{name}/"}
    discovered = expect(hub.get("/taxii2/", csirt))
    assert discovered["api_roots"][0] == discovered["default"] == f"{hub.base}/taxii2/default/"
    assert f"{hub.base}/taxii2/{name}/" in discovered["api_roots"]
    info = expect(hub.get(f"/taxii2/{name}/", csirt))
    assert (info["title"], info["description"], info["versions"]) == ("Energy ISAC", "sector", [TAXII])
    assert expect(hub.get(f"/taxii2/{name}/collections/", csirt)).get("collections", []) == []

    cid = hub.create_collection("--api-root", name, "--no-members-read", title="Grid operators")
    hub.grant(cid, csirt, "--read")
    listed = expect(hub.get(f"/taxii2/{name}/collections/", csirt))["collections"]
    assert [(c["id"], c["can_read"], c["can_write"]) for c in listed] == [(cid, True, False)]
    assert expect(hub.get(f"/taxii2/{name}/collections/", isac)).get("collections", []) == []
    check_error(hub.get(f"/taxii2/{name}/collections/{cid}/objects/", isac), 404)
    expect(hub.get(f"/taxii2/{name}/collections/{cid}/objects/", csirt))
    check_error(hub.get(coll(cid), csirt), 404)  # not under another root
    check_error(hub.get(f"/taxii2/{name}/collections/{DEFAULT}/", csirt), 404)

    rest = f"{hub.base}/api/v1/api-roots"
    other = f"water-{uuid.uuid4().hex[:6]}"
    made = hub.http.post(rest, json={"name": other, "title": "Water"}, headers=admin.bearer)
    assert made.status_code == 201, made.text
    assert made.json() == {"name": other, "title": "Water", "description": "", "url": f"{hub.base}/taxii2/{other}/"}
    assert f"{hub.base}/taxii2/{other}/" in expect(hub.get("/taxii2/", csirt))["api_roots"]
    listed_roots = hub.http.get(rest, headers=csirt.bearer).json()
    assert {r["name"] for r in listed_roots} >= {"default", name, other}
    assert hub.http.post(rest, json={"name": "mine", "title": "x"}, headers=csirt.bearer).status_code == 403
    assert hub.http.post(rest, json={"name": other, "title": "again"}, headers=admin.bearer).status_code == 409
    for bad in ("Upper", "-dash", "with space", "a/b", "x" * 65, ""):
        assert hub.http.post(rest, json={"name": bad, "title": "x"}, headers=admin.bearer).status_code == 422, bad
    refused = CliRunner().invoke(cli, ["api-root", "create", "Not/A/Name", "--title", "x"])
    assert refused.exit_code != 0
    assert "lower-case" in refused.output
