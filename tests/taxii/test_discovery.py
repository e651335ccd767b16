"""TAXII 2.1 over raw HTTP: discovery, API root information and the collections listing with rights.

Section numbers refer to the TAXII 2.1 specification (OASIS Committee Specification 01).
"""

from __future__ import annotations

import uuid

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
