"""TAXII 2.1 over raw HTTP against a live server: every status code, header and error body promised.

Section numbers refer to the TAXII 2.1 specification (OASIS Committee Specification 01).
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import httpx
import orjson
import pytest

from exchange.orgs.models import Role
from tests.factories import TLP1, TLP2, indicator
from tests.taxii.live import (
    DEFAULT,
    DEFAULT_PAGE_SIZE,
    HEADER_TS,
    MAX_BODY_BYTES,
    MAX_PAGE_SIZE,
    STIX,
    STIX_TS,
    TAXII,
    Hub,
    Member,
    check_error,
    coll,
    content_type,
    expect,
    ids,
    is_last_page,
    manifest,
    many,
    obj,
    objs,
    root,
    sdo,
    status,
    ts,
    version_of,
    versions,
)

COLLECTIONS = "/taxii2/default/collections/"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def flat(pages: list[list[Any]]) -> list[str]:
    return [item["id"] for page in pages for item in page]


def match(**filters: str) -> dict[str, str]:
    """Query parameters ``match[<name>]``."""
    return {f"match[{k}]": v for k, v in filters.items()}


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


# --- content negotiation (sections 1.6.8, 3.1) ---------------------------------------------------------------

ACCEPTABLE = [
    TAXII,
    "application/taxii+json",
    "application/taxii+json; version=2.1",
    "APPLICATION/TAXII+JSON;version=2.1",
    "*/*",
    "application/*",
    "text/html, application/taxii+json;version=2.1;q=0.5",
    "application/json;q=1, application/taxii+json;q=0.1",
    "text/html;q=0.9, */*;q=0.1",
]
UNACCEPTABLE = [
    "application/json",
    "text/html",
    "application/xml",
    "application/stix+json;version=2.1",
    "application/vnd.oasis.taxii+json",
    "application/taxii+json;version=2.0",
    "application/taxii+json;version=3.0",
    "application/taxii+json;version=2.1;q=0",
    "*/*;q=0",
    "text/html, application/*;q=0",
    "application/taxii+json;q=0, */*",  # the more specific range wins (RFC 9110, 12.5.1)
]


def _negotiated_paths() -> list[str]:
    return ["/taxii2/", root(), COLLECTIONS, coll(), objs(), manifest()]


@pytest.mark.parametrize("accept", ACCEPTABLE)
def test_acceptable_accept_headers_get_taxii_json(hub: Hub, accept: str) -> None:
    m = hub.member()
    for path in _negotiated_paths():
        expect(hub.get(path, m, accept=accept))


@pytest.mark.parametrize("accept", UNACCEPTABLE)
def test_unacceptable_accept_headers_get_406(hub: Hub, accept: str) -> None:
    m = hub.member()
    o = indicator()
    hub.publish(m, [o])
    for path in [*_negotiated_paths(), obj(o["id"]), versions(o["id"])]:
        expect(hub.get(path, m, accept=accept), 406)


@pytest.mark.parametrize("ctype", [TAXII, "application/taxii+json", "application/taxii+json; version=2.1"])
def test_post_accepts_the_taxii_media_type(hub: Hub, ctype: str) -> None:
    m = hub.member()
    o = indicator()
    body = expect(hub.post(objs(), m, {"objects": [o]}, content_type=ctype), 202)
    assert body["success_count"] == 1
    assert ids(expect(hub.get(obj(o["id"]), m))) == [o["id"]]


@pytest.mark.parametrize("ctype", [
    "application/json",
    "application/stix+json;version=2.1",
    "application/taxii+json;version=2.0",
    "application/vnd.oasis.taxii+json",
    "text/plain",
    "application/x-www-form-urlencoded",
    None,
])
def test_post_with_another_content_type_gets_415(hub: Hub, ctype: str | None) -> None:
    m = hub.member()
    o = indicator()
    expect(hub.post(objs(), m, {"objects": [o]}, content_type=ctype), 415)
    expect(hub.get(obj(o["id"]), m), 404)


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

    for reader in (other, sme):
        unknown = [check_error(r, 404) for r in requests(reader, absent)]
        for o in hidden:
            secret = [check_error(r, 404) for r in requests(reader, o["id"])]
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


# --- request size (section 4.2: max_content_length) ---------------------------------------------------------

def test_bodies_over_max_content_length_get_413(hub: Hub) -> None:
    m = hub.member()
    limit = expect(hub.get(root(), m))["max_content_length"]

    def envelope_of(size: int) -> tuple[dict[str, Any], bytes]:
        o = indicator(description="")
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


# --- malformed parameters (section 3.4) ------------------------------------------------------------------

BAD_ADDED_AFTER = ["yesterday", "2024-13-01T00:00:00Z", "2024-02-30T00:00:00Z", "2024-01-01", "2024-01-01T00:00:00",
                   "2024-01-01 00:00:00Z", "1704067200"]
BAD_LIMIT = ["0", "-1", "-10", "abc", "1.5", "1e3", "0x10"]
BAD_VERSION = ["newest", "2024-13-01T00:00:00Z", "last,bogus", "2024-01-01", "first;last"]
BAD_NEXT = ["garbage", "!!!", "AAAA", "0"]


@pytest.mark.parametrize("endpoint", ["objects", "manifest", "object", "versions"])
def test_malformed_parameters_get_400(hub: Hub, endpoint: str) -> None:
    m = hub.member()
    o = indicator()
    hub.publish(m, [o])
    path = {"objects": objs(), "manifest": manifest(), "object": obj(o["id"]), "versions": versions(o["id"])}[endpoint]
    cases = [("added_after", v) for v in BAD_ADDED_AFTER] + [("limit", v) for v in BAD_LIMIT]
    cases += [("next", v) for v in BAD_NEXT]
    if endpoint != "versions":  # Get Object Versions has no match[version] (section 5.8)
        cases += [("match[version]", v) for v in BAD_VERSION]
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

    for path, params, version_key in [
        (objs(), {}, "modified"),
        (objs(), {"limit": 3}, "modified"),
        (objs(), match(version="all"), "modified"),
        (manifest(), {}, "version"),
        (manifest(), {"limit": 2, "added_after": entries[1]["date_added"]}, "version"),
    ]:
        body, r = hub.page(path, m, **params)
        page = body["objects"]
        expected = (date_of[(page[0]["id"], ts(page[0][version_key]))],
                    date_of[(page[-1]["id"], ts(page[-1][version_key]))])
        assert bounds(r) == expected, (path, params)
    _, r = hub.page(versions(v1["id"]), m)
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
    check_error(hub.delete(obj(amber["id"]), sme), 404)
    check_error(hub.delete(obj(keep["id"])), 401)
    assert expect(hub.get(obj(green["id"]), other, params=match(version="all")))["objects"] == [green, green_v2]
    deleted(hub.delete(obj(green["id"]), publisher))
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


def test_anonymous_clients_are_refused_on_other_collections(hub: Hub) -> None:
    admin = hub.member(Role.admin)
    cid = hub.create_collection()
    clear = indicator(markings=[TLP2["clear"]])
    hub.publish(admin, [clear])
    hub.publish(admin, [clear], cid)
    for c in (DEFAULT, cid, str(uuid.uuid4())):  # the same answer for a collection that does not exist
        for path in (coll(c), objs(c), manifest(c), obj(clear["id"], c), versions(clear["id"], c)):
            r = hub.get(path)
            check_error(r, 401)
            assert "Basic realm=" in r.headers.get("www-authenticate", "")
        r = hub.post(objs(c), None, {"objects": [indicator()]})
        check_error(r, 401)
        check_error(hub.delete(obj(clear["id"], c)), 401)
    listing = hub.get(COLLECTIONS)
    if listing.status_code == 200:  # anonymous listing may show public collections, and only those
        assert {c["id"] for c in expect(listing).get("collections", [])}.isdisjoint({DEFAULT, cid})
    else:
        check_error(listing, 401)


# --- robustness -----------------------------------------------------------------------------------------------

def test_garbage_requests_never_get_a_500_or_html(hub: Hub) -> None:
    m = hub.member()
    o = indicator()
    hub.publish(m, [o])
    long = "x" * 5000
    gets: list[tuple[str, dict[str, str]]] = [
        (objs(), {"limit": "99999999999999999999999"}),
        (objs(), {"limit": "１０"}),
        (objs(), {"limit": "\x00"}),
        (objs(), {"limit": ""}),
        (objs(), {"added_after": "9999-12-31T23:59:59.999999Z"}),
        (objs(), {"added_after": "0001-01-01T00:00:00Z"}),
        (objs(), {"added_after": "2024-01-01T24:00:00Z"}),
        (objs(), {"added_after": ""}),
        (objs(), match(version="")),
        (objs(), match(version=",,,")),
        (objs(), match(version="0001-01-01T00:00:00Z")),
        (objs(), match(version="9999-12-31T23:59:59.999999Z")),
        (objs(), match(type="<script>alert(1)</script>")),
        (objs(), match(type="")),
        (objs(), match(id="' OR 1=1 --")),
        (objs(), match(id=long)),
        (objs(), match(spec_version="abc")),
        (objs(), {"match[unknown]": "x", "match[": "y", "match[]": "z"}),
        (objs(), {"added_after": "2024-01-01T00:00:00.1234567Z"}),
        (objs(), {"next": long}),
        (objs(), {"next": ""}),
        (manifest(), {"limit": "-99999999999999999999999"}),
        (manifest(), match(version="last,first,all,2024-01-01T00:00:00Z")),
        (obj(o["id"]), {"limit": "abc", "next": "x"}),
        (versions(o["id"]), {"added_after": "nope", "limit": "0"}),
        (coll("%00"), {}),
        (coll("x\"'<>"), {}),
        (coll(long), {}),
        (obj("%FF"), {}),
        (obj("indicator--not-a-uuid"), {}),
        (obj(long), {}),
        (versions("indicator--not-a-uuid"), {}),
        (status("%00"), {}),
        (status(long), {}),
        ("/taxii2/%2e%2e/", {}),
        ("/taxii2/default/nothing/here/", {}),
        ("/taxii2/default/collections/" + DEFAULT + "/objects/" + o["id"] + "/versions/extra/", {}),
        ("/taxii2//", {}),
    ]
    calls: list[Callable[[], httpx.Response]] = [partial(hub.get, path, m, params=params) for path, params in gets]
    calls += [partial(hub.get, objs() + query, m) for query in (
        "?next=%FF%FE", "?limit=%FF", "?match%5Bid%5D=%C0%80", "?added_after=%00", "?%FF=1", "?match[version]=%2C")]
    calls += [partial(hub.get, p, m, params=match(version="all"), accept=a)
              for p in (objs(), "/taxii2/") for a in (";;;", "application/taxii+json;version=", "text/html",
                                                      "application/taxii+json;q=abc", "", "*/*;q=2")]
    calls += [partial(hub.request, method, path, m) for method, path in (
        ("PUT", objs()), ("PATCH", coll()), ("DELETE", COLLECTIONS), ("POST", "/taxii2/"), ("POST", root()),
        ("DELETE", status(str(uuid.uuid4()))), ("POST", manifest()), ("PUT", obj(o["id"])), ("OPTIONS", objs()),
        ("POST", versions(o["id"])), ("DELETE", objs()),
    )]
    bodies = [b"", b"{", b"[]", b"null", b"7", b'"x"', b'{"objects": 5}', b'{"objects": [1, "x", null]}',
              b'{"objects": [{}]}', b'{"objects": [{"type": "indicator"}]}', b"\xff\xfe", b"[" * 5000,
              b'{"objects": [{"x": 1e999999}]}', b'{"objects": {"type": "indicator"}}', b'{"more": true}',
              orjson.dumps({"objects": [o | {"id": long}]}), orjson.dumps({"objects": [o | {"modified": "x"}]}),
              orjson.dumps({"objects": [o | {"spec_version": "9.9"}]}), b'{"objects": [' + b"{}," * 999 + b"{}]}"]
    calls += [partial(hub.post, objs(), m, body) for body in bodies]
    calls += [partial(hub.post, objs(), m, b'{"objects": []}', content_type=ct)
              for ct in ("application/taxii+json;version=", ";", "application/taxii+json;charset=ebcdic", "x/y/z")]
    calls += [partial(hub.get, objs(), headers={"Authorization": a}) for a in (
        "Basic " + b64("no-colon"), "Basic " + b64(":"), "Basic " + b64(f"{m.slug}:"), "Bearer a b c", "Basic",
        "Bearer " + long)]
    problems: list[tuple[Any, ...]] = []
    responses = []
    for call in calls:
        try:
            responses.append(call())
        except httpx.TransportError as e:  # a dropped connection is no better than a 500
            problems.append((call.args[:2], call.keywords, repr(e)))
    for r in responses:
        where = f"{r.request.method} {r.request.url}"
        if r.status_code >= 500:
            problems.append((where, r.status_code, r.text[:200]))
            continue
        if content_type(r) != TAXII:
            problems.append((where, r.status_code, r.headers.get("content-type")))
            continue
        try:
            body = r.json()
        except ValueError:
            problems.append((where, r.status_code, "not JSON", r.text[:200]))
            continue
        if r.status_code >= 400:
            try:
                check_error(r, r.status_code)
            except AssertionError as e:
                problems.append((where, r.status_code, f"not a TAXII error: {e}", body))
    assert not problems, "\n".join(map(repr, problems))
    assert ids(expect(hub.get(obj(o["id"]), m))) == [o["id"]]


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
