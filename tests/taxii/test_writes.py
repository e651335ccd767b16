"""TAXII 2.1 writes over raw HTTP: request size (413), status resources, delete, read-after-write.

Section numbers refer to the TAXII 2.1 specification (OASIS Committee Specification 01).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from sqlalchemy import update

from exchange.core import db
from exchange.core.timestamps import now_micros
from exchange.jobs import scheduler
from exchange.orgs.models import Role
from exchange.store.models import TaxiiStatus
from exchange.taxii.status import RETENTION_US
from tests.factories import TLP2, indicator
from tests.taxii.live import (
    DEFAULT,
    STIX_TS,
    TAXII,
    Hub,
    check_error,
    content_type,
    expect,
    ids,
    manifest,
    many,
    match,
    obj,
    objs,
    root,
    status,
    ts,
    version_of,
    versions,
)

DAY_US = 24 * 3600 * 10**6

# --- request size (section 4.2: max_content_length) ---------------------------------------------------------

def test_bodies_over_max_content_length_get_413(hub: Hub) -> None:
    m = hub.member()
    limit = expect(hub.get(root(), m))["max_content_length"]

    def envelope_of(size: int) -> tuple[dict[str, Any], bytes]:
        o = indicator(description="", created_by_ref=m.identity)
        o["description"] = "x" * (size - len(orjson.dumps({"objects": [o]})))
        body = orjson.dumps({"objects": [o]})
        assert len(body) == size
        return o, body

    fits, body = envelope_of(limit)
    assert expect(hub.post(objs(), m, body), 202)["success_count"] == 1
    assert expect(hub.get(obj(fits["id"]), m))["objects"] == [fits]
    over, body = envelope_of(limit + 1)
    expect(hub.post(objs(), m, body), 413)

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit must hold while the body streams
        yield body[:1000]
        yield body[1000:]

    expect(hub.request("POST", objs(), m, content=chunks(), headers={"Content-Type": TAXII}), 413)
    expect(hub.get(obj(over["id"]), m), 404)


# --- status resources (section 4.3, 5.4) -----------------------------------------------------------------

def test_status_resource_counts_and_later_retrieval(hub: Hub) -> None:
    poster, other, admin = hub.member(Role.csirt), hub.member(Role.csirt), hub.member(Role.admin)
    earlier = indicator()
    hub.publish(poster, [earlier])
    good1, good2 = many(2)
    bad = indicator(confidence=101)
    request = [good1, bad, earlier, good2, good1]  # a repeated version, in this POST and from before
    st = expect(hub.post(objs(), poster, {"objects": request}), 202)
    assert {"id", "status", "request_timestamp", "total_count", "success_count", "failure_count",
            "pending_count", "successes", "failures"} <= set(st)
    assert isinstance(st["id"], str)
    assert st["id"]
    assert st["status"] == "complete"
    assert STIX_TS.fullmatch(st["request_timestamp"])
    counts = (st["total_count"], st["success_count"], st["failure_count"], st["pending_count"])
    assert counts == (5, 4, 1, 0)
    assert len(st["successes"]) == 4
    assert len(st["failures"]) == 1
    assert st.get("pendings", []) == []
    assert sorted((s["id"], ts(s["version"])) for s in st["successes"]) == sorted(
        (o["id"], ts(o["modified"])) for o in (good1, earlier, good2, good1))
    failure = st["failures"][0]
    assert (failure["id"], ts(failure["version"])) == (bad["id"], ts(bad["modified"]))
    assert "confidence" in failure["message"]
    for path in (status(st["id"]), status(st["id"]).rstrip("/")):
        assert expect(hub.get(path, poster)) == st
        assert expect(hub.get(path, admin)) == st
        check_error(hub.get(path, other), 404)
    check_error(hub.get(status(str(uuid.uuid4())), poster), 404)
    assert ids(expect(hub.get(objs(), other))) == [earlier["id"], good1["id"], good2["id"]]
    failed = expect(hub.post(objs(), poster, {"objects": [indicator(pattern="[nope")]}), 202)
    assert (failed["total_count"], failed["success_count"], failed["failure_count"]) == (1, 0, 1)
    assert expect(hub.get(status(failed["id"]), poster)) == failed


def test_status_resources_outlive_a_day_and_are_purged_after_the_retention(hub: Hub, sessions: Any) -> None:
    """Clients may poll a status for at least 24 hours (section 4.3); the worker's purge keeps it that
    long and drops it once the retention has passed."""
    m = hub.member()
    day_old, week_old = (expect(hub.post(objs(), m, {"objects": [indicator()]}), 202) for _ in range(2))
    now = now_micros()
    with db.transaction(sessions) as session:
        for st, age in ((day_old, DAY_US + 3600 * 10**6), (week_old, RETENTION_US + 60 * 10**6)):
            session.execute(update(TaxiiStatus).where(TaxiiStatus.id == st["id"]).values(created_at=now - age))
    with db.transaction(sessions) as session:
        scheduler.purge_statuses(session)
    assert expect(hub.get(status(day_old["id"]), m)) == day_old
    check_error(hub.get(status(week_old["id"]), m), 404)


@pytest.mark.parametrize("body", [b"{", b'{"objects": [', b"\xff\xfe", b"", b"nul\x00l", b'{"objects": []}}'])
def test_a_body_that_is_not_json_gets_400(hub: Hub, body: bytes) -> None:
    check_error(hub.post(objs(), hub.member(), body), 400)


@pytest.mark.parametrize("body", [
    [], [indicator()], indicator(), {}, {"more": True}, {"objects": "all"}, {"objects": {"0": indicator()}},
    {"objects": None}, "objects", 42, None,
])
def test_json_that_is_not_an_envelope_gets_422(hub: Hub, body: Any) -> None:
    """Section 5.5: content the server cannot process is a 422, and nothing of it is stored."""
    m = hub.member()
    check_error(hub.post(objs(), m, orjson.dumps(body)), 422)
    assert expect(hub.get(objs(), m)).get("objects", []) == []


# --- delete (section 5.7) ---------------------------------------------------------------------------------------

def deleted(r: Any) -> None:
    assert r.status_code == 200, (r.status_code, r.text)
    assert content_type(r) == TAXII


def test_delete_rules(hub: Hub) -> None:
    publisher, other, sme, admin = (hub.member(r) for r in (Role.csirt, Role.csirt, Role.sme, Role.admin))
    green = indicator(markings=[TLP2["green"]])
    green_v2 = version_of(green, "2024-02-01T00:00:00.000Z")
    amber = indicator(markings=[TLP2["amber"]])
    keep = indicator()
    hub.publish(publisher, [green, green_v2, amber, keep])
    check_error(hub.delete(obj(green["id"]), other), 403)
    check_error(hub.delete(obj(green["id"]), sme), 403)
    check_error(hub.delete(obj(amber["id"]), other), 404)
    check_error(hub.delete(obj(amber["id"]), sme), 403)  # an sme may not write to the collection at all
    check_error(hub.delete(obj(keep["id"])), 401)
    assert expect(hub.get(obj(green["id"]), other, params=match(version="all")))["objects"] == [green, green_v2]
    deleted(hub.delete(obj(green["id"]), publisher))
    audited = json.loads(hub.cli("audit", "list", "--action", "taxii.delete_object", "--org", publisher.slug,
                                 "--json"))
    assert [(e["target"], e["detail"]) for e in audited] == [(green["id"], f"2 version(s) from collection {DEFAULT}")]
    for reader in (publisher, other, admin):
        check_error(hub.get(obj(green["id"]), reader), 404)
        check_error(hub.get(versions(green["id"]), reader), 404)
        assert green["id"] not in ids(expect(hub.get(objs(), reader, params=match(version="all"))))
        assert green["id"] not in ids(expect(hub.get(manifest(), reader, params=match(version="all"))))
    check_error(hub.delete(obj(green["id"]), publisher), 404)
    deleted(hub.delete(obj(amber["id"]).rstrip("/"), admin))
    check_error(hub.get(obj(amber["id"]), publisher), 404)
    check_error(hub.delete(obj(f"indicator--{uuid.uuid4()}"), publisher), 404)
    assert ids(expect(hub.get(objs(), publisher))) == [keep["id"]]


def test_delete_selected_versions(hub: Hub) -> None:
    m = hub.member()
    v1 = indicator(modified="2024-01-01T00:00:00.000Z")
    v2, v3, v4 = (version_of(v1, f"2024-0{i}-01T00:00:00.000Z", name=f"v{i}") for i in (2, 3, 4))
    hub.publish(m, [v1, v2, v3, v4])

    def remaining() -> list[Any]:
        return [ts(v) for v in expect(hub.get(versions(v1["id"]), m))["versions"]]

    deleted(hub.delete(obj(v1["id"]), m, params=match(version="first")))
    assert remaining() == [ts(o["modified"]) for o in (v2, v3, v4)]
    deleted(hub.delete(obj(v1["id"]), m, params=match(version="2024-03-01T00:00:00.000Z")))
    assert remaining() == [ts(o["modified"]) for o in (v2, v4)]
    deleted(hub.delete(obj(v1["id"]), m, params=match(version="last")))
    assert remaining() == [ts(v2["modified"])]
    assert expect(hub.get(obj(v1["id"]), m))["objects"] == [v2]  # the newest remaining version is current
    assert expect(hub.get(objs(), m))["objects"] == [v2]
    assert [ts(e["version"]) for e in expect(hub.get(manifest(), m))["objects"]] == [ts(v2["modified"])]
    deleted(hub.delete(obj(v1["id"]), m, params=match(spec_version="2.1")))
    check_error(hub.get(obj(v1["id"]), m), 404)
    assert expect(hub.get(objs(), m, params=match(version="all"))).get("objects", []) == []


# --- consistency -----------------------------------------------------------------------------------------------

def test_a_write_is_visible_to_the_very_next_request(hub: Hub) -> None:
    """202 and 200 mean committed: the very next request already sees the change (read-your-writes)."""
    m = hub.member()
    late = []
    for i in range(20):
        o = indicator()
        st = hub.publish(m, [o])
        r = hub.get(obj(o["id"]), m)
        if r.status_code != 200 or ids(r.json()) != [o["id"]]:
            late.append((i, "GET object after POST", r.status_code, r.text[:100]))
        r = hub.get(status(st["id"]), m)
        if r.status_code != 200:
            late.append((i, "GET status after POST", r.status_code, r.text[:100]))
        r = hub.delete(obj(o["id"]), m)
        if r.status_code != 200:
            late.append((i, "DELETE after POST", r.status_code, r.text[:100]))
        r = hub.get(obj(o["id"]), m)
        if r.status_code != 404:
            late.append((i, "GET object after DELETE", r.status_code, r.text[:100]))
    assert late == []


def test_deleting_a_shared_sco_removes_only_ones_own_copy(hub: Hub) -> None:
    first, second, reader = hub.member(Role.csirt), hub.member(Role.isac), hub.member(Role.sme)
    sco = {"type": "domain-name", "spec_version": "2.1", "id": f"domain-name--{uuid.uuid4()}",
           "value": "shared.example"}
    hub.publish(first, [dict(sco)])
    hub.publish(second, [dict(sco)])
    assert ids(expect(hub.get(obj(sco["id"]), reader))) == [sco["id"], sco["id"]]
    deleted(hub.delete(obj(sco["id"]), first))
    assert ids(expect(hub.get(obj(sco["id"]), reader))) == [sco["id"]]
    check_error(hub.delete(obj(sco["id"]), first), 403)  # what is left is the other reporter's
    deleted(hub.delete(obj(sco["id"]), second))
    check_error(hub.get(obj(sco["id"]), reader), 404)
