"""TAXII 2.1 over raw HTTP: authentication (401), authorisation (403), hidden objects as 404, anonymous access.

Section numbers refer to the TAXII 2.1 specification (OASIS Committee Specification 01).
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import orjson

from exchange.orgs.models import Role
from tests.factories import TLP1, TLP2, indicator
from tests.taxii.live import (
    COLLECTIONS,
    DEFAULT,
    TAXII,
    Hub,
    Member,
    b64,
    check_error,
    coll,
    expect,
    ids,
    manifest,
    match,
    obj,
    objs,
    root,
    status,
    versions,
)

# --- authentication and authorisation -----------------------------------------------------------------------

def wrong_credentials(m: Member, other: Member) -> list[dict[str, str]]:
    return [
        {"Authorization": "Bearer exk_nope_nope"},
        {"Authorization": "Bearer"},
        {"Authorization": f"Bearer {m.key}x"},
        {"Authorization": "Basic " + b64(f"{other.slug}:{m.key}")},
        {"Authorization": "Basic " + b64(f"{m.slug}:wrong")},
        {"Authorization": "Basic " + b64(m.key)},
        {"Authorization": "Basic !!!"},
        {"Authorization": "Digest username=x"},
    ]


def test_bad_or_missing_credentials_get_401_with_a_basic_challenge(hub: Hub) -> None:
    m = hub.member()
    other = hub.member()
    o = indicator()
    status_id = hub.publish(m, [o])["id"]
    paths = [coll(), objs(), manifest(), obj(o["id"]), versions(o["id"]), status(status_id)]
    for headers in wrong_credentials(m, other):
        for path in paths:
            r = hub.get(path, headers=headers)
            check_error(r, 401)
            assert "Basic realm=" in r.headers.get("www-authenticate", ""), (headers, path)
        r = hub.post(objs(), None, {"objects": [indicator()]}, headers=headers)
        check_error(r, 401)
    for path in (coll(), objs(), manifest(), obj(o["id"]), versions(o["id"]), status(status_id)):
        r = hub.get(path)  # anonymous, and the default collection is not public
        check_error(r, 401)
        assert "Basic realm=" in r.headers.get("www-authenticate", "")
    check_error(hub.post(objs(), None, {"objects": [indicator()]}), 401)
    check_error(hub.delete(obj(o["id"])), 401)
    assert ids(expect(hub.get(obj(o["id"]), m))) == [o["id"]]


def test_invalid_credentials_are_refused_even_where_anonymous_clients_are_welcome(hub: Hub) -> None:
    """A wrong or revoked key is an error on every endpoint, never a silent downgrade to anonymous."""
    m, other = hub.member(), hub.member()
    cid = hub.create_collection("--public")
    for headers in wrong_credentials(m, other):
        for path in ("/taxii2/", root(), COLLECTIONS, coll(cid), objs(cid)):
            r = hub.get(path, headers=headers)
            check_error(r, 401)
            assert "Basic realm=" in r.headers.get("www-authenticate", ""), (headers, path)


def test_basic_and_bearer_credentials_both_work(hub: Hub) -> None:
    m = hub.member()
    a, b = indicator(), indicator()
    r = hub.request("POST", objs(), headers=m.basic | {"Content-Type": TAXII}, content=orjson.dumps({"objects": [a]}))
    assert expect(r, 202)["success_count"] == 1
    hub.publish(m, [b])  # Bearer
    for headers in (m.basic, m.bearer):
        assert ids(expect(hub.get(objs(), headers=headers))) == [a["id"], b["id"]]


def test_write_rights(hub: Hub) -> None:
    sme, csirt, isac, admin = (hub.member(r) for r in (Role.sme, Role.csirt, Role.isac, Role.admin))
    o = indicator()
    expect(hub.post(objs(), sme, {"objects": [o]}), 403)
    expect(hub.get(obj(o["id"]), csirt), 404)
    for m in (csirt, isac, admin):
        hub.publish(m, [indicator()])
    cid = hub.create_collection()
    p = indicator()
    for m in (csirt, isac, sme):
        expect(hub.post(objs(cid), m, {"objects": [p]}), 403)
    hub.publish(admin, [indicator()], cid)
    hub.grant(cid, csirt, "--write")
    hub.publish(csirt, [p], cid)
    assert ids(expect(hub.get(obj(p["id"], cid), isac))) == [p["id"]]
    expect(hub.post(objs(cid), isac, {"objects": [indicator()]}), 403)


def test_key_scopes_over_taxii(hub: Hub) -> None:
    csirt = hub.member(Role.csirt)
    reader, writer = hub.with_scopes(csirt, "read"), hub.with_scopes(csirt, "write")
    o = indicator()
    check_error(hub.post(objs(), reader, {"objects": [o]}), 403)
    posted = expect(hub.post(objs(), writer, {"objects": [o]}), 202)
    assert expect(hub.get(status(posted["id"]), writer))["success_count"] == 1  # a writer polls its status
    check_error(hub.get(objs(), writer), 403)
    check_error(hub.delete(obj(o["id"]), reader), 403)
    assert ids(expect(hub.get(obj(o["id"]), reader))) == [o["id"]]
    assert hub.delete(obj(o["id"]), writer).status_code == 200


def test_hidden_objects_look_exactly_like_absent_ones(hub: Hub) -> None:
    producer, other, sme, admin = (hub.member(r) for r in (Role.csirt, Role.csirt, Role.sme, Role.admin))
    hidden = [indicator(markings=[ref]) for ref in
              (TLP1["amber"], TLP2["amber"], TLP2["amber+strict"], TLP2["red"], TLP1["red"])]
    green = indicator(markings=[TLP2["green"]])
    hub.publish(producer, [*hidden, green])
    absent = f"indicator--{uuid.uuid4()}"

    def shape(body: dict[str, Any]) -> tuple[Any, ...]:
        return (sorted(body), body["title"], body["http_status"], body["error_code"])

    def requests(reader: Member, oid: str) -> list[httpx.Response]:
        return [hub.get(obj(oid), reader), hub.get(versions(oid), reader),
                hub.get(obj(oid), reader, params=match(version="all")), hub.delete(obj(oid), reader)]

    for reader, delete_status in ((other, 404), (sme, 403)):  # an sme may not write here at all
        unknown = [check_error(r, code) for r, code in zip(requests(reader, absent), (404, 404, 404, delete_status),
                                                             strict=True)]
        for o in hidden:
            secret = [check_error(r, code) for r, code in zip(requests(reader, o["id"]), (404, 404, 404, delete_status),
                                                              strict=True)]
            assert [shape(b) for b in secret] == [shape(b) for b in unknown]
        everything = expect(hub.get(objs(), reader, params=match(version="all")))
        assert ids(everything) == [green["id"]]
        assert ids(expect(hub.get(manifest(), reader))) == [green["id"]]
        assert ids(expect(hub.get(objs(), reader, params=match(id=hidden[0]["id"])))) == []
    for reader in (producer, admin):
        assert ids(expect(hub.get(objs(), reader))) == [o["id"] for o in [*hidden, green]]
        for o in hidden:
            assert expect(hub.get(obj(o["id"]), reader))["objects"] == [o]
    absent_shape = shape(check_error(hub.get(obj(absent), other), 404))
    for path in (coll(str(uuid.uuid4())), objs(str(uuid.uuid4())), manifest(str(uuid.uuid4())),
                 obj(green["id"], str(uuid.uuid4()))):
        assert shape(check_error(hub.get(path, other), 404))[:3] == absent_shape[:3]


# --- anonymous access ----------------------------------------------------------------------------------------

def test_anonymous_clients_read_public_collections_clear_only(hub: Hub) -> None:
    admin, sme = hub.member(Role.admin), hub.member(Role.sme)
    cid = hub.create_collection("--public", "--tlp", "green")
    clear, white = indicator(markings=[TLP2["clear"]]), indicator(markings=[TLP1["white"]])
    green, unmarked = indicator(markings=[TLP2["green"]]), indicator()
    amber = indicator(markings=[TLP1["amber"]])
    hub.publish(admin, [clear, white, green, unmarked, amber], cid)
    info = expect(hub.get(coll(cid)))
    assert (info["id"], info["can_read"], info["can_write"]) == (cid, True, False)
    assert expect(hub.get(objs(cid)))["objects"] == [clear, white]
    assert ids(expect(hub.get(manifest(cid)))) == [clear["id"], white["id"]]
    assert expect(hub.get(obj(clear["id"], cid)))["objects"] == [clear]
    assert len(expect(hub.get(versions(white["id"], cid)))["versions"]) == 1
    for o in (green, unmarked, amber):
        check_error(hub.get(obj(o["id"], cid)), 404)
        check_error(hub.get(versions(o["id"], cid)), 404)
    r = hub.post(objs(cid), None, {"objects": [indicator(markings=[TLP2["clear"]])]})
    check_error(r, 401)
    assert "Basic realm=" in r.headers.get("www-authenticate", "")
    check_error(hub.delete(obj(clear["id"], cid)), 401)
    assert ids(expect(hub.get(objs(cid), sme))) == [o["id"] for o in (clear, white, green, unmarked)]
    assert ids(expect(hub.get(objs(cid), admin))) == [o["id"] for o in (clear, white, green, unmarked, amber)]


def test_a_collections_default_tlp_applies_to_unmarked_objects(hub: Hub) -> None:
    """Unmarked objects take the collection's TLP: CLEAR in a public collection reaches anonymous
    clients, AMBER in a community collection only its producer (and admins)."""
    publisher, reader, admin = hub.member(Role.csirt), hub.member(Role.csirt), hub.member(Role.admin)
    clear_cid = hub.create_collection("--public", "--tlp", "clear", "--publishers-write")
    amber_cid = hub.create_collection("--tlp", "amber", "--publishers-write")
    # an object lives in one collection (decision 0003), so each collection gets its own pair
    clear_unmarked, clear_green = indicator(), indicator(markings=[TLP2["green"]])
    hub.publish(publisher, [clear_unmarked, clear_green], clear_cid)
    unmarked, green = indicator(), indicator(markings=[TLP2["green"]])
    hub.publish(publisher, [unmarked, green], amber_cid)
    assert ids(expect(hub.get(objs(clear_cid)))) == [clear_unmarked["id"]]
    assert ids(expect(hub.get(objs(clear_cid), reader))) == [clear_unmarked["id"], clear_green["id"]]
    for path in (objs(amber_cid), manifest(amber_cid)):
        assert ids(expect(hub.get(path, reader))) == [green["id"]]
        assert ids(expect(hub.get(path, publisher))) == [unmarked["id"], green["id"]]
        assert ids(expect(hub.get(path, admin))) == [unmarked["id"], green["id"]]
    check_error(hub.get(obj(unmarked["id"], amber_cid), reader), 404)
    check_error(hub.get(versions(unmarked["id"], amber_cid), reader), 404)


def test_anonymous_clients_are_refused_on_other_collections(hub: Hub) -> None:
    admin = hub.member(Role.admin)
    cid = hub.create_collection()
    clear = {c: indicator(markings=[TLP2["clear"]]) for c in (DEFAULT, cid)}  # one collection per object
    hub.publish(admin, [clear[DEFAULT]])
    hub.publish(admin, [clear[cid]], cid)
    for c in (DEFAULT, cid, str(uuid.uuid4())):  # the same answer for a collection that does not exist
        oid = clear.get(c, clear[DEFAULT])["id"]
        for path in (coll(c), objs(c), manifest(c), obj(oid, c), versions(oid, c)):
            r = hub.get(path)
            check_error(r, 401)
            assert "Basic realm=" in r.headers.get("www-authenticate", "")
        r = hub.post(objs(c), None, {"objects": [indicator()]})
        check_error(r, 401)
        check_error(hub.delete(obj(oid, c)), 401)
    public = hub.create_collection("--public")
    listing = expect(hub.get(COLLECTIONS))  # anonymous clients list the public collections, and only those
    assert [(c["id"], c["can_read"], c["can_write"]) for c in listing["collections"]] == [(public, True, False)]
