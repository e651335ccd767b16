"""A versioned object lives in one collection, the one it was first published to (decision 0003,
"Versions"): versions posted to another collection are refused for everyone, so every read path
shows one current version per id and revocation is final across collections. And
``match[version]=first`` gives the first version the reader may see, never an empty page.

Against a live ``exchange serve`` (TAXII and REST over HTTP) and the CLI, on the test database.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from exchange.core import db
from exchange.orgs import service as orgs
from exchange.orgs.models import Role
from exchange.sharing import catalog
from exchange.store import reads
from exchange.store.ingest import ingest
from tests.factories import TLP2, indicator
from tests.taxii.live import (
    Hub,
    Member,
    check_error,
    expect,
    manifest,
    match,
    obj,
    objs,
    versions,
)

V1, V2, V3, V4 = (f"2024-0{m}-01T00:00:00.000Z" for m in range(1, 5))
DOMAIN = "moved.example"


def post_taxii(hub: Hub, who: Member, cid: str, *objects: dict[str, Any]) -> list[tuple[str, str]]:
    """(status, message) per object of a TAXII POST, from its status resource."""
    st = expect(hub.post(objs(cid), who, {"objects": list(objects)}), 202)
    assert st["status"] == "complete", st
    outcome = {(s["id"], s["version"]): ("added", s.get("message", "")) for s in st.get("successes", [])}
    outcome |= {(f["id"], f["version"]): ("rejected", f.get("message", "")) for f in st.get("failures", [])}
    return [outcome[(o["id"], o["modified"])] for o in objects]


def post_rest(hub: Hub, who: Member, cid: str, *objects: dict[str, Any]) -> list[tuple[str, str]]:
    who.sign(list(objects))
    r = hub.http.post("/api/v1/objects", params={"collection": cid}, headers=who.bearer,
                      json={"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": list(objects)})
    assert r.status_code == 200, r.text
    return [(x["status"], x.get("message") or "") for x in r.json()["results"]]


def seen(hub: Hub, who: Member, oid: str, cids: tuple[str, str]) -> dict[str, Any]:
    """What ``who`` gets of object ``oid`` on every read path of decision 0003's table: the
    ``modified`` of each version returned (TAXII per collection), or 404."""

    def taxii(path: str, key: str = "objects", **params: str) -> list[str] | int:
        r = hub.get(path, who, params=params)
        if r.status_code == 404:
            check_error(r, 404)
            return 404
        body = expect(r)
        if key == "versions":
            return [v[:10] for v in body.get("versions", [])]
        return [o["modified"][:10] for o in body.get(key, []) if o["id"] == oid]

    def rest(path: str, **params: str) -> list[str] | int:
        r = hub.http.get(path, headers=who.bearer, params=params)
        if r.status_code == 404:
            return 404
        assert r.status_code == 200, r.text
        return [o["modified"][:10] for o in r.json()["objects"] if o["id"] == oid]

    got: dict[str, Any] = {}
    for name, cid in zip("AB", cids, strict=True):
        got[f"taxii objects {name}"] = taxii(objs(cid), **match(id=oid))
        got[f"taxii objects all {name}"] = taxii(objs(cid), **match(id=oid, version="all"))
        got[f"taxii manifest {name}"] = [v[:10] for v in (x["version"] for x in expect(
            hub.get(manifest(cid), who, params=match(id=oid, version="all"))).get("objects", []))]
        got[f"taxii object {name}"] = taxii(obj(oid, cid))
        got[f"taxii versions {name}"] = taxii(versions(oid, cid), key="versions")
    got["rest list"] = rest("/api/v1/objects", type="indicator")
    got["rest single"] = rest(f"/api/v1/objects/{oid}")
    got["rest versions"] = rest(f"/api/v1/objects/{oid}", versions="all")
    r = hub.http.get("/api/v1/observables", headers=who.bearer, params={"value": DOMAIN})
    assert r.status_code == 200, r.text
    got["lookup"] = [m["object_id"] for m in r.json()["matches"]].count(oid)
    exported = orjson.loads(hub.cli("export", "--as-org", who.slug))["objects"]
    got["cli export"] = [o["modified"][:10] for o in exported if o["id"] == oid]
    return got


def only(version: str | None) -> dict[str, Any]:
    """What every path shows when the object's one visible current version is ``version`` (in A)."""
    v = [version[:10]] if version else []
    absent: list[str] | int = v if v else 404
    return {
        "taxii objects A": v, "taxii objects all A": v, "taxii manifest A": v, "taxii object A": absent,
        "taxii versions A": absent,
        "taxii objects B": [], "taxii objects all B": [], "taxii manifest B": [], "taxii object B": 404,
        "taxii versions B": 404,
        "rest list": v, "rest single": absent, "rest versions": absent, "lookup": len(v), "cli export": v,
    }


def test_versions_of_an_object_go_only_to_its_first_collection(hub: Hub) -> None:
    producer, reader, admin = hub.member(Role.csirt), hub.member(Role.sme), hub.member(Role.admin)
    a, b = hub.create_collection("--publishers-write"), hub.create_collection("--publishers-write")
    v1 = indicator(f"[domain-name:value = '{DOMAIN}']", markings=[TLP2["green"]])
    assert post_taxii(hub, producer, a, v1) == [("added", "")]

    # v2 RED to another collection: refused on every write path, for the producer and an admin
    red = dict(v1, modified=V2, object_marking_refs=[TLP2["red"]])
    refusal = f"collection: this object lives in collection {a}; post its versions there"
    assert post_taxii(hub, producer, b, red) == [("rejected", refusal)]
    assert post_rest(hub, producer, b, red) == [("rejected", refusal)]
    assert post_rest(hub, admin, b, dict(red, modified=V3)) == [("rejected", refusal)]
    # the same version again elsewhere is refused too, not a "duplicate" success
    assert post_taxii(hub, producer, b, v1) == [("rejected", refusal)]
    # so the reader sees one current version, GREEN v1, in A only, on every path
    assert seen(hub, reader, v1["id"], (a, b)) == only(V1)

    # v2 RED in its own collection: the newest version hides the object everywhere
    assert post_rest(hub, producer, a, red) == [("added", "")]
    assert seen(hub, reader, v1["id"], (a, b)) == only(None)

    # revoked in A: a later version in B is refused as living elsewhere, in A as revoked
    assert post_taxii(hub, producer, a, dict(v1, modified=V3, revoked=True)) == [("added", "")]
    assert post_taxii(hub, producer, b, dict(v1, modified=V4)) == [("rejected", refusal)]
    assert post_taxii(hub, producer, a, dict(v1, modified=V4))[0][1].startswith("revoked:")
    assert seen(hub, producer, v1["id"], (a, b))["rest versions"] == [V1[:10], V2[:10], V3[:10]]


def test_scos_stay_kept_per_collection(hub: Hub) -> None:
    """Unversioned objects (ids derived from content) are not bound to a collection."""
    producer = hub.member(Role.csirt)
    a, b = hub.create_collection("--publishers-write"), hub.create_collection("--publishers-write")
    ip = {"type": "ipv4-addr", "spec_version": "2.1", "id": f"ipv4-addr--{uuid.uuid4()}", "value": "192.0.2.7"}
    for cid in (a, b):
        st = expect(hub.post(objs(cid), producer, {"objects": [ip]}), 202)
        assert (st["success_count"], st["failure_count"]) == (1, 0), st


def test_match_version_first_is_the_first_version_the_reader_may_see(hub: Hub) -> None:
    """v1 RED, v2 GREEN (re-marked laxer): a bystander may read v2, never v1; its ``first`` is v2."""
    producer, reader, admin = hub.member(Role.csirt), hub.member(Role.sme), hub.member(Role.admin)
    v1 = indicator(markings=[TLP2["red"]])
    v2 = dict(v1, modified=V2, object_marking_refs=[TLP2["green"]])
    hidden = indicator(markings=[TLP2["red"]])  # a single version the reader may not see
    hub.publish(producer, [v1, v2, hidden])

    def first(who: Member, oid: str) -> tuple[list[str] | int, list[str]]:
        r = hub.get(obj(oid), who, params=match(version="first"))
        single = [o["modified"] for o in expect(r)["objects"]] if r.status_code == 200 else r.status_code
        listed = expect(hub.get(objs(), who, params=match(version="first", id=oid)))
        return single, [o["modified"] for o in listed.get("objects", [])]

    assert first(reader, v1["id"]) == ([V2], [V2])
    assert first(producer, v1["id"]) == ([V1], [V1])
    assert first(admin, v1["id"]) == ([V1], [V1])
    assert first(reader, hidden["id"]) == (404, [])
    assert expect(hub.get(obj(v1["id"]), reader, params=match(version="first,last")))["objects"] == [v2]


def test_a_database_holding_one_id_in_two_collections_converges(sessions: sessionmaker[Session]) -> None:
    """Rows stored before the rule may hold one id in two collections. Its home is the collection of
    its first stored row; the next version there becomes the one current version hub-wide, and a
    reader then sees no stale copy in the other collection."""
    with db.transaction(sessions) as s:
        producer = orgs.create(s, name=f"p{uuid.uuid4().hex[:6]}", role=Role.csirt).org
        reader = orgs.create(s, name=f"r{uuid.uuid4().hex[:6]}", role=Role.sme).org
        a, b = (catalog.create(s, title=f"c{uuid.uuid4().hex[:6]}") for _ in range(2))
        v1 = indicator(created_by_ref=producer.identity_id)
        twin = dict(v1, id=f"indicator--{uuid.uuid4()}", modified=V2)
        assert ingest(s, [v1], collection=a, org=producer).added == 1
        assert ingest(s, [twin], collection=b, org=producer).added == 1
        # what an older hub could store: the same id current in both collections
        s.execute(text("UPDATE stix_object SET stix_id = :id WHERE stix_id = :twin"),
                  {"id": v1["id"], "twin": twin["id"]})
    with db.transaction(sessions) as s:
        assert len(reads.list_objects(s, reader, limit=10).rows) == 2
        refused = ingest(s, [dict(v1, modified=V3)], collection=b, org=producer).results[0]
        assert refused.message == f"collection: this object lives in collection {a.id}; post its versions there"
        assert ingest(s, [dict(v1, modified=V3)], collection=a, org=producer).added == 1
    with db.transaction(sessions) as s:
        assert [json.loads(r.raw)["modified"] for r in reads.list_objects(s, reader, limit=10).rows] == [V3]
        assert reads.page(s, reader, b, reads.Filters(versions=("all",)), limit=10).rows == []
