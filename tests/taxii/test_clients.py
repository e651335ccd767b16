"""Real TAXII 2.1 clients against the live server: taxii2-client (v21) and stix2's TAXII data store.

These are the tools ISAC members already have; whatever they do must just work, with HTTP Basic
(org slug and key) and with a Bearer header (through the clients' ``auth`` hook).
"""

from __future__ import annotations

import uuid
from functools import partial
from typing import Any

import pytest
import requests
import stix2
from requests.exceptions import HTTPError
from stix2 import Filter, TAXIICollectionSink, TAXIICollectionSource, TAXIICollectionStore
from stix2.datastore import DataSourceError
from taxii2client.v21 import ApiRoot, Collection, Server, Status, as_pages

from exchange.orgs.models import Role
from tests.factories import TLP2, indicator
from tests.taxii.live import (
    DEFAULT,
    MAX_BODY_BYTES,
    MAX_PAGE_SIZE,
    QUEUE_FROM,
    STIX,
    TAXII,
    Hub,
    Member,
    coll,
    expect,
    many,
    objs,
    root,
    ts,
    version_of,
)


class BearerAuth(requests.auth.AuthBase):
    """``Authorization: Bearer <key>`` for taxii2-client, which only ships Basic and ``Token`` auth."""

    def __init__(self, key: str) -> None:
        self.key = key

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self.key}"
        return r


def credentials(member: Member | None, bearer: bool) -> dict[str, Any]:
    if member is None:
        return {}
    if bearer:
        return {"auth": BearerAuth(member.key)}
    return {"user": member.slug, "password": member.key}


def collection(hub: Hub, member: Member | None, cid: str = DEFAULT, *, bearer: bool = False) -> Collection:
    return Collection(hub.base + coll(cid), **credentials(member, bearer))


def ids(envelope: dict[str, Any]) -> list[str]:
    return [o["id"] for o in envelope.get("objects", [])]


AUTH = pytest.mark.parametrize("bearer", [False, True], ids=["basic", "bearer"])


@AUTH
def test_server_discovery_api_root_and_collections(hub: Hub, bearer: bool) -> None:
    isac, sme = hub.member(Role.isac), hub.member(Role.sme)
    with Server(f"{hub.base}/taxii2/", **credentials(isac, bearer)) as server:
        assert server.title
        assert server.default is not None
        assert server.default.url == f"{hub.base}/taxii2/default/"
        assert server.default.url in [r.url for r in server.api_roots]
        api_root = server.default
        assert api_root.title
        assert api_root.versions == [TAXII]
        assert 0 < api_root.max_content_length <= MAX_BODY_BYTES
        by_id = {c.id: c for c in api_root.collections}
        default = by_id[DEFAULT]
        assert (default.can_read, default.can_write) == (True, True)
        assert STIX in default.media_types
        assert default.title
        api_root.close()
    with ApiRoot(hub.base + root(), **credentials(sme, bearer)) as api_root:
        default = next(c for c in api_root.collections if c.id == DEFAULT)
        assert (default.can_read, default.can_write) == (True, False)


@AUTH
def test_every_collection_method(hub: Hub, bearer: bool) -> None:
    m = hub.member()
    c = collection(hub, m, bearer=bearer)
    assert (c.can_read, c.can_write) == (True, True)
    v1 = indicator(modified="2024-01-01T00:00:00.000Z")
    v2 = version_of(v1, "2024-02-01T00:00:00.000Z", name="v2")
    other = indicator()
    m.sign([v1, v2, other])
    first = c.add_objects({"objects": [v1, other]})
    assert isinstance(first, Status)
    assert first.status == "complete"
    assert (first.total_count, first.success_count, first.failure_count, first.pending_count) == (2, 2, 0, 0)
    assert sorted(s["id"] for s in first.successes) == sorted([v1["id"], other["id"]])
    second = c.add_objects({"objects": [v2, indicator(confidence=101)]})
    assert (second.total_count, second.success_count, second.failure_count) == (2, 1, 1)
    second.refresh()  # the status URL the client derives: .../status/{id} (no trailing slash)
    assert (second.status, second.success_count, second.failure_count) == ("complete", 1, 1)
    with ApiRoot(hub.base + root(), **credentials(m, bearer)) as api_root:
        again = api_root.get_status(first.id)
        assert (again.id, again.status, again.success_count) == (first.id, "complete", 2)

    assert c.get_objects()["objects"] == [other, v2]  # date_added order, current versions, as stored
    assert c.get_objects(version="all")["objects"] == [v1, other, v2]
    assert c.get_objects(version="first")["objects"] == [v1, other]
    assert c.get_objects(id=other["id"], type="indicator")["objects"] == [other]
    assert c.get_objects(type="malware").get("objects", []) == []
    assert c.get_object(v1["id"])["objects"] == [v2]
    assert c.get_object(v1["id"], version="first")["objects"] == [v1]
    assert c.get_object(v1["id"], version="2024-01-01T00:00:00.000Z")["objects"] == [v1]
    manifest = c.get_manifest()
    assert [(e["id"], ts(e["version"])) for e in manifest["objects"]] == [
        (other["id"], ts(other["modified"])), (v1["id"], ts(v2["modified"]))]
    assert {e["media_type"] for e in manifest["objects"]} == {STIX}
    assert len(c.get_manifest(version="all")["objects"]) == 3
    assert [ts(v) for v in c.object_versions(v1["id"])["versions"]] == [ts(v1["modified"]), ts(v2["modified"])]

    c.delete_object(v1["id"], version="first")
    assert [ts(v) for v in c.object_versions(v1["id"])["versions"]] == [ts(v2["modified"])]
    c.delete_object(v1["id"])
    for call in (partial(c.get_object, v1["id"]), partial(c.object_versions, v1["id"])):
        with pytest.raises(HTTPError) as e:
            call()
        assert e.value.response is not None
        assert e.value.response.status_code == 404
    assert c.get_objects(version="all")["objects"] == [other]


def test_a_large_envelope_is_queued_and_the_client_waits_for_it(hub: Hub) -> None:
    """From QUEUE_FROM objects on the server answers "pending" and stores the envelope in the
    background (parsed by its helper process); taxii2-client polls the status until it is complete."""
    m = hub.member()
    c = collection(hub, m)
    posted = m.sign([indicator() for _ in range(QUEUE_FROM + 50)] + [indicator(confidence=101)])
    first = posted[:QUEUE_FROM]
    pending = expect(hub.post(objs(), m, {"objects": first}), 202)
    assert (pending["status"], pending["pending_count"], pending["success_count"]) == ("pending", QUEUE_FROM, 0)
    assert [p["id"] for p in pending["pendings"]] == [o["id"] for o in first]
    done = c.add_objects({"objects": posted[QUEUE_FROM:] + first[:10]}, poll_interval=0.05)  # 61: stored at once
    assert (done.status, done.success_count, done.failure_count) == ("complete", 60, 1)
    queued = c.add_objects({"objects": posted}, poll_interval=0.05)  # waits until complete
    assert (queued.status, queued.success_count, queued.failure_count) == ("complete", QUEUE_FROM + 50, 1)
    assert "confidence" in queued.failures[0]["message"]
    assert hub.completed(m, pending["id"])["success_count"] == QUEUE_FROM
    listed = [o["id"] for page in hub.pages(objs(), m, limit=500) for o in page]
    assert sorted(listed) == sorted(o["id"] for o in posted[:-1])


@pytest.mark.parametrize(("total", "per_request", "sizes"), [
    (30, 10, [10, 10, 10]),  # an exact multiple: three requests, no empty fourth page
    (25, 10, [10, 10, 5]),
    (9, 10, [9]),
    (MAX_PAGE_SIZE + 5, 1000, [MAX_PAGE_SIZE, 5]),  # the server caps the page; the client follows
])
def test_as_pages_returns_every_object_once(hub: Hub, total: int, per_request: int, sizes: list[int]) -> None:
    m = hub.member()
    posted = many(total)
    hub.publish(m, posted)
    c = collection(hub, m, bearer=True)
    pages = list(as_pages(c.get_objects, per_request=per_request))
    assert [len(p.get("objects", [])) for p in pages] == sizes
    assert [o for p in pages for o in p["objects"]] == posted
    manifests = list(as_pages(c.get_manifest, per_request=per_request))
    assert [len(p.get("objects", [])) for p in manifests] == sizes
    assert [e["id"] for p in manifests for e in p["objects"]] == [o["id"] for o in posted]
    filtered = list(as_pages(c.get_objects, per_request=per_request, type="indicator", version="all"))
    assert [len(p.get("objects", [])) for p in filtered] == sizes


def test_as_pages_with_added_after(hub: Hub) -> None:
    m = hub.member()
    posted = many(26)
    hub.publish(m, posted)
    c = collection(hub, m)
    after = c.get_manifest(limit=6)["objects"][5]["date_added"]
    pages = list(as_pages(c.get_objects, per_request=10, added_after=after))
    assert [len(p["objects"]) for p in pages] == [10, 10]
    assert [o["id"] for p in pages for o in p["objects"]] == [o["id"] for o in posted[6:]]


def stix2_indicator(name: str, **kwargs: Any) -> stix2.v21.Indicator:
    return stix2.v21.Indicator(
        name=name, pattern=f"[domain-name:value = '{uuid.uuid4().hex[:10]}.example']", pattern_type="stix",
        valid_from="2024-01-01T00:00:00Z", created="2024-01-01T00:00:00.000Z", modified="2024-01-01T00:00:00.000Z",
        **kwargs,
    )


@AUTH
def test_stix2_taxii_collection_store(hub: Hub, bearer: bool) -> None:
    m = hub.member()
    store = TAXIICollectionStore(collection(hub, m, bearer=bearer))
    ind = stix2_indicator("store test")
    store.add(ind)  # the sink posts a STIX bundle as the envelope
    got = store.get(ind.id)
    assert got is not None
    assert (got.id, got.name, got.modified) == (ind.id, "store test", ind.modified)
    newer = ind.new_version(name="store test v2", modified="2024-02-01T00:00:00.000Z")
    store.add(newer)
    assert store.get(ind.id).name == "store test v2"
    assert sorted(v.modified for v in store.all_versions(ind.id)) == [ind.modified, newer.modified]
    malware = stix2.v21.Malware(name="evil", is_family=False)
    other = stix2_indicator("other")
    store.add([malware, other])
    found = store.query([Filter("type", "=", "indicator")])
    assert sorted(o.id for o in found) == sorted([ind.id, other.id])
    assert {o.id: o.name for o in found}[ind.id] == "store test v2"  # current versions only
    assert [o.id for o in store.query([Filter("type", "=", "malware"), Filter("name", "=", "evil")])] == [malware.id]
    assert store.query([Filter("type", "=", "malware"), Filter("name", "=", "good")]) == []
    assert [o.id for o in store.query([Filter("id", "=", other.id)])] == [other.id]
    assert store.get(f"indicator--{uuid.uuid4()}") is None


def test_stix2_source_and_sink_respect_rights_and_tlp(hub: Hub) -> None:
    producer, reader = hub.member(Role.csirt), hub.member(Role.sme)
    sink = TAXIICollectionSink(collection(hub, producer))
    secret = stix2_indicator("secret", object_marking_refs=[TLP2["amber"]])
    shared = stix2_indicator("shared", object_marking_refs=[TLP2["green"]])
    sink.add([secret, shared])
    source = TAXIICollectionSource(collection(hub, reader, bearer=True))
    assert source.get(secret.id) is None
    assert source.get(shared.id).id == shared.id
    assert source.all_versions(secret.id) == []
    assert [o.id for o in source.query([Filter("type", "=", "indicator")])] == [shared.id]
    assert sorted(o.id for o in TAXIICollectionSource(collection(hub, producer)).query()) == sorted(
        [secret.id, shared.id])
    with pytest.raises(DataSourceError):
        TAXIICollectionSink(collection(hub, reader))  # SMEs may not write to the default collection


def test_stix2_source_reads_past_the_server_page_size(hub: Hub) -> None:
    m = hub.member()
    posted = many(MAX_PAGE_SIZE + 5)
    hub.publish(m, posted)
    source = TAXIICollectionSource(collection(hub, m))  # asks for 5000 per page; the server caps it
    got = source.query([Filter("type", "=", "indicator")])
    assert sorted(o.id for o in got) == sorted(o["id"] for o in posted)
    after = collection(hub, m).get_manifest(limit=MAX_PAGE_SIZE)["objects"][-1]["date_added"]
    later = source.query([Filter("added_after", "=", after)])
    assert sorted(o.id for o in later) == sorted(o["id"] for o in posted[MAX_PAGE_SIZE:])


def test_anonymous_clients_on_a_public_collection(hub: Hub) -> None:
    admin = hub.member(Role.admin)
    cid = hub.create_collection("--public")
    clear, green = indicator(markings=[TLP2["clear"]]), indicator(markings=[TLP2["green"]])
    hub.publish(admin, [clear, green], cid)
    c = collection(hub, None, cid)
    assert (c.can_read, c.can_write) == (True, False)
    assert c.get_objects()["objects"] == [clear]
    assert ids(c.get_manifest()) == [clear["id"]]
    source = TAXIICollectionSource(c)
    assert source.get(green["id"]) is None
    assert source.get(clear["id"]).id == clear["id"]
    with pytest.raises(DataSourceError):
        TAXIICollectionSink(c)
    with pytest.raises(HTTPError) as e:
        collection(hub, None).refresh()  # the default collection is not public
    assert e.value.response is not None
    assert e.value.response.status_code == 401
