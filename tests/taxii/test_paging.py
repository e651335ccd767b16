"""TAXII 2.1 over raw HTTP: query parameters (400), paging with limit/next/more, date_added headers and added_after.

Section numbers refer to the TAXII 2.1 specification (OASIS Committee Specification 01).
"""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from exchange.store.models import StixObject
from tests.factories import TLP2, indicator
from tests.taxii.live import (
    DEFAULT_PAGE_SIZE,
    HEADER_TS,
    MAX_PAGE_SIZE,
    TAXII,
    Hub,
    check_error,
    expect,
    flat,
    ids,
    is_last_page,
    manifest,
    many,
    match,
    obj,
    objs,
    sdo,
    start_server,
    ts,
    version_of,
    versions,
)

# --- malformed parameters (section 3.4) ------------------------------------------------------------------

BAD_ADDED_AFTER = ["yesterday", "2024-13-01T00:00:00Z", "2024-02-30T00:00:00Z", "2024-01-01", "2024-01-01T00:00:00",
                   "2024-01-01 00:00:00Z", "1704067200"]
BAD_LIMIT = ["0", "-1", "-10", "abc", "1.5", "1e3", "0x10"]
BAD_VERSION = ["newest", "2024-13-01T00:00:00Z", "last,bogus", "2024-01-01", "first;last"]
BAD_NEXT = ["garbage", "!!!", "AAAA", "0"]
BAD_SPEC_VERSION = ["abc", "2", "2.1.x", "2.1,", ",2.1", "v2.1"]
UNKNOWN_MATCH = ["match[foo]", "match[]", "match[ID]", "match[id"]


@pytest.mark.parametrize("endpoint", ["objects", "manifest", "object", "versions"])
def test_malformed_parameters_get_400(hub: Hub, endpoint: str) -> None:
    m = hub.member()
    o = indicator()
    hub.publish(m, [o])
    path = {"objects": objs(), "manifest": manifest(), "object": obj(o["id"]), "versions": versions(o["id"])}[endpoint]
    cases = [("added_after", v) for v in BAD_ADDED_AFTER] + [("limit", v) for v in BAD_LIMIT]
    cases += [("next", v) for v in BAD_NEXT]
    cases += [("match[spec_version]", v) for v in BAD_SPEC_VERSION] + [(k, "x") for k in UNKNOWN_MATCH]
    if endpoint != "versions":  # Get Object Versions has no match[version] (section 5.8)
        cases += [("match[version]", v) for v in BAD_VERSION]
    if endpoint in ("object", "versions"):  # the object is named by the URL: no match[id] or match[type] (5.6, 5.8)
        cases += [("match[id]", o["id"]), ("match[type]", "indicator")]
    wrong = []
    for name, value in cases:
        r = hub.get(path, m, params={name: value})
        if r.status_code != 400:
            wrong.append((name, value, r.status_code, r.text[:200]))
        else:
            check_error(r, 400)
    assert wrong == []
    expect(hub.get(path, m, params={"limit": "1", "added_after": "2000-01-01T00:00:00Z"}))


# --- paging (section 3.4: limit, next, more) --------------------------------------------------------------

def test_more_and_next_at_exact_page_boundaries(hub: Hub) -> None:
    m = hub.member()
    posted = many(30)
    hub.publish(m, posted)
    expected = [o["id"] for o in posted]
    pages = hub.pages(objs(), m, limit=10)
    assert [len(p) for p in pages] == [10, 10, 10]
    assert [o for p in pages for o in p] == posted  # every object once, in date_added order, as stored
    for limit, sizes in ((10, [10, 10, 10]), (30, [30]), (29, [29, 1]), (15, [15, 15])):
        assert [len(p) for p in hub.pages(manifest(), m, limit=limit)] == sizes
        got = hub.pages(objs(), m, limit=limit)
        assert [len(p) for p in got] == sizes
        assert flat(got) == expected
    assert [len(p) for p in hub.pages(objs(), m)] == [30]  # the default page size is larger


def test_paging_with_a_remainder(hub: Hub) -> None:
    m = hub.member()
    posted = many(31)
    hub.publish(m, posted)
    for path in (objs(), manifest()):
        pages = hub.pages(path, m, limit=10)
        assert [len(p) for p in pages] == [10, 10, 10, 1]
        assert flat(pages) == [o["id"] for o in posted]


def test_paging_with_filters_ends_where_the_matches_end(hub: Hub) -> None:
    m = hub.member()
    inds = many(12)
    mals = [sdo("malware") for _ in range(12)]
    tail = [sdo("malware") for _ in range(5)]  # more rows after the last match: `more` must still be false
    hub.publish(m, [x for pair in zip(inds, mals, strict=True) for x in pair] + tail)
    for path in (objs(), manifest()):
        pages = hub.pages(path, m, limit=4, **match(type="indicator"))
        assert [len(p) for p in pages] == [4, 4, 4]
        assert flat(pages) == [o["id"] for o in inds]
        pages = hub.pages(path, m, limit=5, **match(type="indicator"))
        assert [len(p) for p in pages] == [5, 5, 2]


def test_next_works_with_and_without_limit(hub: Hub) -> None:
    m = hub.member()
    objects = many(30)
    hub.publish(m, objects)
    posted = [o["id"] for o in objects]
    first, _ = hub.page(objs(), m, limit=10)
    assert ids(first) == posted[:10]
    assert not is_last_page(first)
    token = first["next"]
    rest, _ = hub.page(objs(), m, next=token)  # default page size (40) covers the remaining 20
    assert ids(rest) == posted[10:]
    assert is_last_page(rest)
    five, _ = hub.page(objs(), m, next=token, limit=5)
    assert ids(five) == posted[10:15]
    assert not is_last_page(five)
    again, _ = hub.page(objs(), m, next=token, limit=5)  # tokens are stateless: reusable
    assert ids(again) == posted[10:15]
    twenty, _ = hub.page(objs(), m, next=token, limit=20)
    assert ids(twenty) == posted[10:]
    assert is_last_page(twenty)


def test_limit_above_the_maximum_is_capped(hub: Hub) -> None:
    m = hub.member()
    posted = many(MAX_PAGE_SIZE + 5)
    hub.publish(m, posted)
    for limit in (MAX_PAGE_SIZE + 1, 1000, 10**9):
        for path in (objs(), manifest()):
            body, _ = hub.page(path, m, limit=limit)
            assert len(body["objects"]) == MAX_PAGE_SIZE
            assert not is_last_page(body)
    for path in (objs(), manifest()):
        pages = hub.pages(path, m, limit=1000)
        assert [len(p) for p in pages] == [MAX_PAGE_SIZE, 5]
        assert flat(pages) == [o["id"] for o in posted]
        assert [len(p) for p in hub.pages(path, m)] == [DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE + 5 - DEFAULT_PAGE_SIZE]


def test_next_together_with_added_after(hub: Hub) -> None:
    m = hub.member()
    posted = many(20)
    hub.publish(m, posted)
    entries = expect(hub.get(manifest(), m))["objects"]
    assert [e["id"] for e in entries] == [o["id"] for o in posted]
    after = entries[4]["date_added"]
    for path in (objs(), manifest()):
        pages = hub.pages(path, m, limit=5, added_after=after)
        assert [len(p) for p in pages] == [5, 5, 5]
        assert flat(pages) == [o["id"] for o in posted[5:]]


def test_tampered_or_garbage_next_gets_400(hub: Hub) -> None:
    m = hub.member()
    posted = many(6)
    hub.publish(m, posted)
    for path in (objs(), manifest()):
        body, _ = hub.page(path, m, limit=2)
        token = body["next"]
        mid = len(token) // 2
        variants = [
            token[:mid] + ("A" if token[mid] != "A" else "B") + token[mid + 1:],
            ("A" if token[0] != "A" else "B") + token[1:],
            token[:-4],
            token[::-1],
            token + token,
            "garbage",
            "%%%",
        ]
        for variant in variants:
            assert variant != token
            check_error(hub.get(path, m, params={"next": variant, "limit": 2}), 400)
        genuine, _ = hub.page(path, m, next=token, limit=2)
        assert ids(genuine) == [o["id"] for o in posted[2:4]]


def test_next_is_bound_to_its_listing(hub: Hub) -> None:
    """A token continues the query it came from, on the endpoint it came from: with other filters, on
    another endpoint or collection it is refused, never silently applied to a different result."""
    m = hub.member()
    posted = many(6)
    hub.publish(m, posted)
    other = hub.create_collection("--publishers-write")
    hub.publish(m, many(6), cid=other)
    body, _ = hub.page(objs(), m, limit=2, **match(type="indicator"))
    token = body["next"]
    check_error(hub.get(objs(), m, params={"next": token, "limit": 2}), 400)  # the filter left out
    check_error(hub.get(objs(), m, params={"next": token, **match(type="malware")}), 400)
    check_error(hub.get(objs(), m, params={"next": token, **match(type="indicator", version="all")}), 400)
    check_error(hub.get(manifest(), m, params={"next": token, **match(type="indicator")}), 400)
    check_error(hub.get(objs(other), m, params={"next": token, **match(type="indicator")}), 400)
    genuine, _ = hub.page(objs(), m, next=token, limit=2, **match(type="indicator"))
    assert ids(genuine) == [o["id"] for o in posted[2:4]]


def test_next_continues_on_another_server_process(hub: Hub, database_url: str, tmp_path: Any) -> None:
    """No server memory: a second process on the same database (a replica, or the same hub after a
    restart) continues a listing from the first one's token."""
    m = hub.member()
    posted = many(9)
    hub.publish(m, posted)
    body, _ = hub.page(objs(), m, limit=4)
    for replica in start_server(database_url, tmp_path):
        r = replica.http.get(objs(), params={"next": body["next"], "limit": 4}, headers={"Accept": TAXII, **m.bearer})
        assert ids(expect(r)) == [o["id"] for o in posted[4:8]]
        assert not is_last_page(r.json())


def test_pages_stay_full_when_objects_are_hidden_from_the_reader(hub: Hub) -> None:
    """The read rule is part of the query, not a filter on its result: a reader who may see every other
    object still gets full pages, the right ``more``, and each visible object exactly once."""
    publisher, reader = hub.member(), hub.member()
    objects = [indicator(markings=[TLP2["amber" if i % 2 else "green"]]) for i in range(24)]
    hub.publish(publisher, objects)
    green = [o["id"] for i, o in enumerate(objects) if i % 2 == 0]
    for path in (objs(), manifest()):
        pages = hub.pages(path, reader, limit=4)
        assert [len(p) for p in pages] == [4, 4, 4]
        assert flat(pages) == green
        assert flat(hub.pages(path, publisher, limit=4)) == [o["id"] for o in objects]


# --- date_added headers and added_after (sections 3.3, 3.4) ---------------------------------------------------

def test_date_added_headers_bound_every_page_with_microseconds(hub: Hub) -> None:
    m = hub.member()
    first_batch, second_batch = many(4), many(3)
    v1 = indicator(modified="2024-01-01T00:00:00.000Z")
    v2 = version_of(v1, "2024-02-01T00:00:00.000Z")
    hub.publish(m, [*first_batch, v1])
    hub.publish(m, [*second_batch, v2])
    entries = expect(hub.get(manifest(), m, params=match(version="all")))["objects"]
    added = [ts(e["date_added"]) for e in entries]
    assert added == sorted(set(added)), "date_added must strictly increase in insertion order"
    date_of = {(e["id"], ts(e["version"])): ts(e["date_added"]) for e in entries}
    by_id: dict[str, list[Any]] = {}
    for (oid, _), when in date_of.items():
        by_id.setdefault(oid, []).append(when)

    def bounds(r: httpx.Response) -> tuple[Any, Any]:
        first, last = r.headers["X-TAXII-Date-Added-First"], r.headers["X-TAXII-Date-Added-Last"]
        assert HEADER_TS.fullmatch(first), first
        assert HEADER_TS.fullmatch(last), last
        return ts(first), ts(last)

    cases: list[tuple[str, dict[str, Any], str]] = [
        (objs(), {}, "modified"),
        (objs(), {"limit": 3}, "modified"),
        (objs(), match(version="all"), "modified"),
        (manifest(), {}, "version"),
        (manifest(), {"limit": 2, "added_after": entries[1]["date_added"]}, "version"),
    ]
    for path, params, version_key in cases:
        body, r = hub.page(path, m, **params)
        page = body["objects"]
        expected = (date_of[(page[0]["id"], ts(page[0][version_key]))],
                    date_of[(page[-1]["id"], ts(page[-1][version_key]))])
        assert bounds(r) == expected, (path, params)
    _, r = hub.page(versions(v1["id"]), m)
    assert bounds(r) == (min(by_id[v1["id"]]), max(by_id[v1["id"]]))
    _, r = hub.page(obj(v1["id"]), m)  # the current version only
    assert bounds(r) == (max(by_id[v1["id"]]),) * 2
    _, r = hub.page(obj(v1["id"]), m, **match(version="all"))
    assert bounds(r) == (min(by_id[v1["id"]]), max(by_id[v1["id"]]))


def test_added_after_the_last_header_returns_exactly_what_came_later(hub: Hub) -> None:
    m = hub.member()
    batch = many(10)
    hub.publish(m, batch)
    _, r = hub.page(objs(), m, limit=3)
    rest = hub.pages(objs(), m, added_after=r.headers["X-TAXII-Date-Added-Last"])
    assert flat(rest) == [o["id"] for o in batch[3:]]  # strictly after: the third object is not repeated
    _, r = hub.page(objs(), m)
    bookmark = r.headers["X-TAXII-Date-Added-Last"]
    _, rm = hub.page(manifest(), m)
    assert rm.headers["X-TAXII-Date-Added-Last"] == bookmark
    later = many(4)
    hub.publish(m, later)
    for path in (objs(), manifest()):
        pages = hub.pages(path, m, added_after=bookmark)
        assert flat(pages) == [o["id"] for o in later]
    _, r = hub.page(objs(), m, added_after=bookmark)
    body, _ = hub.page(objs(), m, added_after=r.headers["X-TAXII-Date-Added-Last"])
    assert body.get("objects", []) == []
    assert is_last_page(body)
    body, _ = hub.page(objs(), m, added_after="2999-01-01T00:00:00Z")
    assert body.get("objects", []) == []
    all_ids = flat(hub.pages(objs(), m, added_after="2000-01-01T00:00:00.000000Z"))
    assert all_ids == [o["id"] for o in batch + later]


# --- cursors are opaque (issue 14, item 7) and every integer has a range (item 9) ------------------------

def _encodings(n: int) -> list[bytes]:
    """Every way a token could carry the key ``n`` readably."""
    return [str(n).encode(), n.to_bytes(8, "big"), n.to_bytes(8, "little"), n.to_bytes(4, "big"),
            n.to_bytes(4, "little")]


def test_next_tells_nothing_about_hidden_rows(hub: Hub, session: Any) -> None:
    """A reader paging with limit 1 over rows it may not see between two of its own gets two tokens of
    the same length that decode to no key: the gap of hidden rows (15 here) cannot be counted."""
    publisher, reader = hub.member(), hub.member()
    first, last = indicator(), indicator()
    hidden = [indicator(markings=[TLP2["amber"]]) for _ in range(15)]
    hub.publish(publisher, [first, *hidden, last, indicator()])
    pks = {row.stix_id: row.pk for row in session.execute(select(StixObject.stix_id, StixObject.pk))}
    assert pks[last["id"]] - pks[first["id"]] == 16  # the gap is there to be seen, if tokens showed keys
    one, _ = hub.page(objs(), reader, limit=1)
    two, _ = hub.page(objs(), reader, limit=1, next=one["next"])
    assert ids(one) == [first["id"]]
    assert ids(two) == [last["id"]]
    tokens = [one["next"], two["next"]]
    assert len(tokens[0]) == len(tokens[1])
    for token, pk in zip(tokens, (pks[first["id"]], pks[last["id"]]), strict=True):
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        assert not any(form in raw or form in token.encode() for form in _encodings(pk))
    again, _ = hub.page(objs(), reader, limit=1)  # a fresh nonce: the same position gives another token
    assert again["next"] != tokens[0]
    tampered = tokens[0][:-2] + ("A" if tokens[0][-2] != "A" else "B") + tokens[0][-1]
    check_error(hub.get(objs(), reader, params={"next": tampered, "limit": 1}), 400)


@pytest.mark.parametrize("endpoint", ["objects", "manifest", "object", "versions"])
def test_limit_out_of_range_gets_400(hub: Hub, endpoint: str) -> None:
    m = hub.member()
    o = indicator()
    hub.publish(m, [o])
    path = {"objects": objs(), "manifest": manifest(), "object": obj(o["id"]), "versions": versions(o["id"])}[endpoint]
    for value in ("9223372036854775808", "99999999999999999999", "-9223372036854775809", "-1", "0"):
        check_error(hub.get(path, m, params={"limit": value}), 400)
    expect(hub.get(path, m, params={"limit": "9223372036854775807"}))  # the top of the range is capped, not refused
