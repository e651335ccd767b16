"""TAXII 2.1 over raw HTTP: match[] filters and the object versions endpoint.

Section numbers refer to the TAXII 2.1 specification (OASIS Committee Specification 01).
"""

from __future__ import annotations

import uuid
from typing import Any

from tests.factories import indicator
from tests.taxii.live import (
    STIX,
    STIX_TS,
    Hub,
    check_error,
    expect,
    ids,
    is_last_page,
    manifest,
    many,
    match,
    obj,
    objs,
    sdo,
    ts,
    version_of,
    versions,
)

# --- match[] filters (section 3.4.1, 3.4.2) ------------------------------------------------------------------

def test_match_version_first_last_all_and_timestamps(hub: Hub) -> None:
    m = hub.member()
    v1 = indicator(modified="2024-01-01T00:00:00.000Z")
    v2 = version_of(v1, "2024-02-01T00:00:00.000Z", name="v2")
    v3 = version_of(v1, "2024-03-01T00:00:00.000Z", name="v3")
    single = indicator(modified="2024-06-01T00:00:00.000Z")
    hub.publish(m, [v1, v2])
    hub.publish(m, [single])
    hub.publish(m, [v3])  # date_added order: v1, v2, single, v3
    cases: list[tuple[str | None, list[dict[str, Any]]]] = [
        (None, [single, v3]),
        ("last", [single, v3]),
        ("first", [v1, single]),
        ("all", [v1, v2, single, v3]),
        ("2024-02-01T00:00:00.000Z", [v2]),
        ("2024-02-01T00:00:00Z", [v2]),  # the same instant spelt without a fraction
        ("2024-02-01T00:00:00.000001Z", []),
        ("first,last", [v1, single, v3]),
        ("2024-01-01T00:00:00.000Z,2024-03-01T00:00:00.000Z", [v1, v3]),
        ("last,2024-02-01T00:00:00.000Z", [v2, single, v3]),
        ("first,all", [v1, v2, single, v3]),
    ]
    for version, expected in cases:
        params = {} if version is None else match(version=version)
        got = expect(hub.get(objs(), m, params=params)).get("objects", [])
        assert got == expected, version
        entries = expect(hub.get(manifest(), m, params=params)).get("objects", [])
        assert [(e["id"], ts(e["version"])) for e in entries] == [(o["id"], ts(o["modified"])) for o in expected]
        for e in entries:
            assert e["media_type"] == STIX
            assert STIX_TS.fullmatch(e["date_added"])
    for version, expected in ((None, [v3]), ("last", [v3]), ("first", [v1]), ("all", [v1, v2, v3]),
                              ("2024-02-01T00:00:00.000Z", [v2]), ("first,last", [v1, v3])):
        params = {} if version is None else match(version=version)
        assert expect(hub.get(obj(v1["id"]), m, params=params))["objects"] == expected, version
        assert expect(hub.get(obj(v1["id"]).rstrip("/"), m, params=params))["objects"] == expected, version


def test_match_type_and_id_take_comma_separated_lists(hub: Hub) -> None:
    m = hub.member()
    i1, i2 = many(2)
    mal, vul = sdo("malware"), sdo("vulnerability")
    ident = sdo("identity", identity_class="organization")
    hub.publish(m, [i1, mal, i2, vul, ident])
    cases: list[tuple[dict[str, str], list[dict[str, Any]]]] = [
        (match(type="indicator"), [i1, i2]),
        (match(type="indicator,vulnerability"), [i1, i2, vul]),
        (match(type="identity,malware"), [mal, ident]),
        (match(type="campaign"), []),
        (match(id=f"{vul['id']},{i1['id']}"), [i1, vul]),  # date_added order, not the order asked
        (match(id=mal["id"]), [mal]),
        (match(id=f"indicator--{uuid.uuid4()}"), []),
        (match(id=mal["id"], type="indicator"), []),  # different fields are ANDed
        (match(id=f"{mal['id']},{i2['id']}", type="indicator,identity"), [i2]),
    ]
    for params, expected in cases:
        for path in (objs(), manifest()):
            assert ids(expect(hub.get(path, m, params=params))) == [o["id"] for o in expected], (path, params)


def test_match_spec_version(hub: Hub) -> None:
    m = hub.member()
    posted = many(3)
    hub.publish(m, posted)
    for value, expected in (("2.1", posted), ("2.0", []), ("2.0,2.1", posted)):
        for path in (objs(), manifest()):
            assert ids(expect(hub.get(path, m, params=match(spec_version=value)))) == [o["id"] for o in expected]
        r = hub.get(versions(posted[0]["id"]), m, params=match(spec_version=value))
        if expected:
            assert len(expect(r)["versions"]) == 1
        elif r.status_code == 200:  # no version left after filtering: an empty resource, or 404
            assert expect(r).get("versions", []) == []
        else:
            check_error(r, 404)


def test_versions_endpoint_lists_every_version(hub: Hub) -> None:
    m = hub.member()
    v1 = indicator(modified="2024-01-01T00:00:00.000Z")
    v2 = version_of(v1, "2024-02-01T00:00:00.000Z")
    v3 = version_of(v1, "2024-03-01T00:00:00.000Z")
    hub.publish(m, [v1])
    _, r = hub.page(objs(), m)
    bookmark = r.headers["X-TAXII-Date-Added-Last"]
    hub.publish(m, [v2])
    hub.publish(m, [v3])
    hub.publish(m, [indicator()])
    for path in (versions(v1["id"]), versions(v1["id"]).rstrip("/")):
        body, _ = hub.page(path, m)
        assert [ts(v) for v in body["versions"]] == [ts(o["modified"]) for o in (v1, v2, v3)]
        assert is_last_page(body)
    pages = hub.pages(versions(v1["id"]), m, key="versions", limit=2)
    assert [[ts(v) for v in p] for p in pages] == [[ts(v1["modified"]), ts(v2["modified"])], [ts(v3["modified"])]]
    pages = hub.pages(versions(v1["id"]), m, key="versions", limit=1)
    assert len(pages) == 3
    after, _ = hub.page(versions(v1["id"]), m, added_after=bookmark)
    assert [ts(v) for v in after["versions"]] == [ts(v2["modified"]), ts(v3["modified"])]
    check_error(hub.get(versions(f"indicator--{uuid.uuid4()}"), m), 404)
