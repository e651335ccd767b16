"""Hostile and broken input against the publish and query endpoints, REST and TAXII alike.

Every case must get a clear 4xx JSON error (never a 500, HTML or a stack trace) and leave the
store as it was: the rows of stix_object, observable and taxii_status are counted before and after.
The exception is a well-formed envelope of bad objects: those are rejected one by one in a 200
(REST) or 202 (TAXII, which stores the status of the request) and none of them is stored.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import httpx
import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from exchange.core.media import TAXII
from exchange.core.settings import Settings
from exchange.orgs.models import Role
from exchange.store.reads import DEFAULT_COLLECTION_ID
from tests.factories import bundle, indicator
from tests.orgs_factory import MakeOrg, auth
from tests.serving import serving

REST_PUBLISH = "/api/v1/objects"
TAXII_OBJECTS = f"/taxii2/default/collections/{DEFAULT_COLLECTION_ID}/objects/"
TABLES = ("stix_object", "observable", "taxii_status")
LEAKS = ("Traceback", "<html", "<!DOCTYPE", 'File "', "sqlalchemy", "root:x:0:0")

def rows(engine: Engine, tables: tuple[str, ...]) -> dict[str, int]:
    with engine.connect() as conn:
        return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in tables}  # noqa: S608


@contextmanager
def unchanged(engine: Engine, tables: tuple[str, ...] = TABLES) -> Iterator[None]:
    """The store after the block is the store before it. A context, not a fixture: a fixture's
    teardown can run after conftest's cleanup, and would then compare two empty stores."""
    before = rows(engine, tables)
    yield
    assert rows(engine, tables) == before


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """conftest's client, except that a server error comes back as the 500 a real client would see."""
    with serving(settings) as c:
        yield c


@pytest.fixture
def writer(make_org: MakeOrg) -> dict[str, str]:
    _, key = make_org(Role.csirt)
    return auth(key)


Send = Callable[[bytes], httpx.Response]


def senders(client: TestClient, writer: dict[str, str]) -> dict[str, Send]:
    return {
        "rest": lambda body: client.post(REST_PUBLISH, content=body,
                                         headers=writer | {"Content-Type": "application/json"}),
        "taxii": lambda body: client.post(TAXII_OBJECTS, content=body,
                                          headers=writer | {"Content-Type": TAXII, "Accept": TAXII}),
    }


def check_error(r: httpx.Response, *statuses: int) -> dict[str, Any]:
    """A clear JSON error with one of ``statuses``, in the media type of the API that answered."""
    assert r.status_code in statuses, (r.status_code, r.text[:300])
    taxii = r.request.url.path.startswith("/taxii2")
    assert r.headers["content-type"].replace(" ", "") == (TAXII if taxii else "application/json")
    body = r.json()
    assert isinstance(body, dict)
    assert body["http_status"] == str(r.status_code)
    assert body["title"]
    assert body["description"]
    for leak in LEAKS:
        assert leak not in r.text
    return body


def an_indicator_with(**extra: Any) -> bytes:
    return orjson.dumps({"objects": [indicator(**extra)]})


def an_indicator_with_raw(token: bytes, **extra: Any) -> bytes:
    """A valid indicator whose custom property ``x_value`` is ``token`` as written, JSON or not."""
    return an_indicator_with(x_value="TOKEN", **extra).replace(b'"TOKEN"', token)


def deep(levels: int) -> str:
    return "[" * levels + "]" * levels


def duplicate_keys() -> bytes:
    """An indicator whose pattern says one thing to a first-wins parser and another to a last-wins one."""
    o = orjson.dumps(indicator("[domain-name:value = 'harmless.example']"))
    return b'{"objects": [' + o[:-1] + b""", "pattern": "[domain-name:value = 'victim.example']"}]}"""


def indicator_nested(levels: int) -> bytes:
    """An envelope whose indicator has a custom property, so the body nests ``levels`` deep in all."""
    return an_indicator_with(x_nested=orjson.loads(deep(levels - 3)))  # envelope, objects, indicator


BODIES: list[Any] = [
    pytest.param(b'{"objects": [{"type": "indicator", "id": "indic', id="truncated"),
    pytest.param(b"", id="empty"),
    pytest.param(b"42", id="a number"),
    pytest.param(b'"objects"', id="a string"),
    pytest.param(b"null", id="null"),
    pytest.param(b'{"objects": [', id="cut after the bracket"),
    pytest.param(b'{"objects": 7}', id="objects a number"),
    pytest.param(b'{"objects": {"type": "indicator"}}', id="objects not a list"),
    pytest.param(b'{"objects": "' + b"x" * 1000 + b'"}', id="objects a string"),
    pytest.param(b"\xff\xfe", id="not utf-8"),
    pytest.param(b'{"objects": [{"type": "indicator", "name": "\xff\xfe"}]}', id="invalid utf-8"),
    pytest.param(b'{"objects": [{"type": "indic\x00ator"}]}', id="raw NUL in a string"),
    pytest.param(b'{"objects": [{"type": "indicator"}]}\x00', id="NUL after the body"),
    pytest.param(b'{"objects": [' + deep(100_000).encode() + b"]}", id="depth 100000"),
    pytest.param(b'{"objects": [NaN, Infinity]}', id="NaN"),
]


@pytest.mark.parametrize("api", ["rest", "taxii"])
@pytest.mark.parametrize("body", BODIES)
def test_a_malformed_body_is_a_clear_4xx(client: TestClient, engine: Engine, writer: dict[str, str], api: str,
                                         body: bytes) -> None:
    with unchanged(engine):
        r = senders(client, writer)[api](body)
    check_error(r, 422 if api == "taxii" and _is_json(body) else 400)  # TAXII: JSON, but no envelope (5.5)


def _is_json(body: bytes) -> bool:
    try:
        orjson.loads(body)
    except orjson.JSONDecodeError:
        return False
    return True


# Refused whole by the ingest path (exchange.stix.jsonlimits, called from objects_of, and orjson),
# which both REST and TAXII hand the raw body to.
REFUSED_BY_INGEST: list[Any] = [
    pytest.param(indicator_nested(65), 400, "levels", id="depth 65"),
    pytest.param(duplicate_keys(), 400, "more than once", id="duplicate keys"),
    pytest.param(b'{"objects": [' + b",".join([b"{}"] * 100_001) + b"]}", 413, "in one request", id="100001 objects"),
    pytest.param(an_indicator_with_raw(b'"\\ud800"'), 400, "JSON", id="escaped lone surrogate"),
    pytest.param(an_indicator_with_raw(b'"\xed\xa0\x80"'), 400, "JSON", id="lone surrogate as UTF-8"),
    pytest.param(an_indicator_with_raw(b"NaN"), 400, "JSON", id="NaN in an object"),
    pytest.param(an_indicator_with_raw(b"-Infinity"), 400, "JSON", id="Infinity in an object"),
]


@pytest.mark.parametrize("api", ["rest", "taxii"])
@pytest.mark.parametrize(("body", "status", "reason"), REFUSED_BY_INGEST)
def test_a_body_ingest_cannot_take_is_refused_whole(client: TestClient, engine: Engine, writer: dict[str, str],
                                                    api: str, body: bytes, status: int, reason: str) -> None:
    with unchanged(engine):
        r = senders(client, writer)[api](body)
    assert reason in check_error(r, status)["description"]


@pytest.mark.parametrize("api", ["rest", "taxii"])
@pytest.mark.parametrize("number", [b"123456789012345678901234567890", b"-99999999999999999999"])
def test_an_integer_beyond_64_bits_is_refused_not_rounded(client: TestClient, engine: Engine, writer: dict[str, str],
                                                          api: str, number: bytes) -> None:
    with unchanged(engine):
        r = senders(client, writer)[api](an_indicator_with_raw(number))
    assert "64 bits" in check_error(r, 400)["description"]


@pytest.mark.parametrize("number", [b"18446744073709551615", b"-9223372036854775808", b"1234567890123456789.5"])
def test_integers_within_64_bits_and_long_decimals_pass(client: TestClient, writer: dict[str, str],
                                                        number: bytes) -> None:
    r = senders(client, writer)["rest"](an_indicator_with_raw(number))
    assert r.json()["added"] == 1, r.text


def test_the_depth_limit_leaves_room_for_real_objects(client: TestClient, writer: dict[str, str]) -> None:
    r = senders(client, writer)["taxii"](indicator_nested(64))
    assert r.status_code == 202, r.text


@pytest.mark.parametrize("api", ["rest", "taxii"])
def test_a_body_over_the_size_limit_is_413(client: TestClient, engine: Engine, settings: Settings,
                                           writer: dict[str, str], api: str) -> None:
    with unchanged(engine):
        r = senders(client, writer)[api](an_indicator_with(description="x" * settings.max_body_bytes))
    check_error(r, 413)


# --- well-formed envelopes of bad objects: refused one by one, nothing stored ---------------------------

BAD_OBJECTS: list[Any] = [
    pytest.param({"type": 123, "id": "x"}, id="type 123"),
    pytest.param({"type": None}, id="type null"),
    pytest.param([], id="an array as object"),
    pytest.param(7, id="a number as object"),
    pytest.param(indicator(stix_id="indicator--../../etc/passwd"), id="traversal in id"),
    pytest.param(indicator(stix_id="../../etc/passwd"), id="traversal as id"),
    pytest.param(indicator(stix_id="indicator--' OR 1=1 --"), id="sql in id"),
    pytest.param(indicator(stix_id="indicator--%"), id="wildcard id"),
    pytest.param(indicator(stix_id="indicator--\x00" + str(uuid.uuid4())[1:]), id="NUL in id"),
    pytest.param(indicator(created="2024-01-01T00:00:00\x00Z"), id="NUL in a timestamp"),
    pytest.param(indicator(pattern="[domain-name:value = 'a\x00b.example'] AND"), id="NUL in a bad pattern"),
]


@pytest.mark.parametrize("api", ["rest", "taxii"])
@pytest.mark.parametrize("bad", BAD_OBJECTS)
def test_bad_objects_are_rejected_one_by_one_and_nothing_is_stored(
    client: TestClient, engine: Engine, writer: dict[str, str], api: str, bad: Any
) -> None:
    with unchanged(engine, ("stix_object", "observable")):  # a TAXII POST does leave its status behind
        r = senders(client, writer)[api](orjson.dumps(bundle(bad) if api == "rest" else {"objects": [bad]}))
    if api == "rest":
        assert r.status_code == 200, r.text
        assert [x["status"] for x in r.json()["results"]] == ["rejected"]
        assert r.json()["results"][0]["message"]
    else:
        assert r.status_code == 202, r.text
        assert (r.json()["success_count"], r.json()["failure_count"]) == (0, 1)


def test_a_10_mb_id_is_rejected_as_one_bad_object(settings: Settings, make_org: MakeOrg, engine: Engine) -> None:
    _, key = make_org(Role.csirt)
    huge = indicator(stix_id="indicator--" + "a" * 10 * 1024 * 1024)
    with unchanged(engine, ("stix_object", "observable")), serving(settings, max_body_bytes=16 * 1024 * 1024) as client:
        r = client.post(TAXII_OBJECTS, content=orjson.dumps({"objects": [huge]}),
                        headers=auth(key) | {"Content-Type": TAXII, "Accept": TAXII})
    assert r.status_code == 202, r.text[:300]
    assert r.json()["failure_count"] == 1


# --- URLs: NUL, wildcards, injection, traversal ----------------------------------------------------------


@pytest.fixture
def stored(client: TestClient, writer: dict[str, str]) -> list[str]:
    """Objects a wildcard or an injection would wrongly return."""
    objects = [indicator(f"[domain-name:value = 'stored{i}.example']") for i in range(3)]
    assert client.post(REST_PUBLISH, json=bundle(*objects), headers=writer).json()["added"] == 3
    return [o["id"] for o in objects]


NUL_URLS = [
    "/api/v1/objects/indicator--%00",
    "/api/v1/objects?type=%00",
    "/api/v1/objects?type=indicator%00",
    "/api/v1/objects?value=stored0.example%00",
    "/api/v1/objects?collection=%00",
    "/api/v1/observables?value=%00",
    "/api/v1/objects?since=2024-01-01T00:00:00Z%00",
    "/taxii2/%00/",
    "/taxii2/default/collections/%00/objects/",
    f"{TAXII_OBJECTS}?match[id]=%00",
    f"{TAXII_OBJECTS}?match[type]=indicator%00",
    f"{TAXII_OBJECTS}?match[version]=%00",
    f"{TAXII_OBJECTS}?added_after=%00",
    f"{TAXII_OBJECTS}?next=%00",
    f"{TAXII_OBJECTS}indicator--%00/",
    f"{TAXII_OBJECTS}indicator--%00/versions/",
    f"/taxii2/default/collections/{DEFAULT_COLLECTION_ID}/manifest/?match[id]=%00",
    "/taxii2/default/status/%00/",
]


@pytest.mark.parametrize("url", NUL_URLS)
def test_nul_in_a_url_is_400(client: TestClient, engine: Engine, writer: dict[str, str], stored: list[str],
                            url: str) -> None:
    with unchanged(engine):
        r = client.get(url, headers=writer)
    check_error(r, 400)


WILDCARDS = ["%", "_", "%%", "*", "' OR 1=1 --", "\" OR \"\"=\"", "') OR ('1'='1", "indicator--%", "indicator--_%",
             "%.example", "stored_.example", "%stored%", "\\", "[", "1; DROP TABLE stix_object"]


def _not_leaking(r: httpx.Response, stored: list[str]) -> None:
    """An empty answer or a clear 4xx, never rows the filter did not name."""
    if r.status_code == 200:
        assert not any(stix_id in r.text for stix_id in stored), r.text[:300]
    else:
        check_error(r, 400, 404, 422)


@pytest.mark.parametrize("value", WILDCARDS)
def test_wildcards_and_sql_in_filters_match_nothing(client: TestClient, engine: Engine, writer: dict[str, str],
                                                    stored: list[str], value: str) -> None:
    taxii = writer | {"Accept": TAXII}
    manifest = f"/taxii2/default/collections/{DEFAULT_COLLECTION_ID}/manifest/"
    with unchanged(engine):
        answers = [
            client.get("/api/v1/objects", params={"type": value}, headers=writer),
            client.get("/api/v1/objects", params={"value": value}, headers=writer),
            client.get("/api/v1/objects", params={"collection": value}, headers=writer),
            client.get("/api/v1/observables", params={"value": value}, headers=writer),
            client.get("/api/v1/objects/" + quote(value, safe=""), headers=writer),
            client.get(TAXII_OBJECTS, params={"match[id]": value}, headers=taxii),
            client.get(TAXII_OBJECTS, params={"match[type]": value}, headers=taxii),
            client.get(TAXII_OBJECTS, params={"match[version]": value}, headers=taxii),
            client.get(TAXII_OBJECTS, params={"match[spec_version]": value}, headers=taxii),
            client.get(manifest, params={"match[id]": value}, headers=taxii),
        ]
    for r in answers:
        _not_leaking(r, stored)
    lookup = answers[3]
    if lookup.status_code == 200:
        assert lookup.json()["known"] is False


def test_the_filters_do_find_what_they_name(client: TestClient, writer: dict[str, str], stored: list[str]) -> None:
    """The other side of the wildcard test: the same requests with real values do return the rows."""
    taxii = writer | {"Accept": TAXII}
    assert stored[0] in client.get("/api/v1/objects", params={"type": "indicator"}, headers=writer).text
    assert client.get("/api/v1/observables", params={"value": "stored1.example"}, headers=writer).json()["known"]
    assert stored[2] in client.get(TAXII_OBJECTS, params={"match[id]": stored[2]}, headers=taxii).text


TRAVERSALS = [
    "/api/v1/objects/..%2F..%2Fetc%2Fpasswd",
    "/api/v1/objects/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/api/v1/objects/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd?versions=all",
    "/api/v1/objects/indicator--..%2F..%2Fetc%2Fpasswd",
    "/api/v1/objects/..%5C..%5Cwindows%5Cwin.ini",
    "/api/v1/%2e%2e/%2e%2e/etc/passwd",
    "/taxii2/..%2F..%2Fetc%2Fpasswd/",
    "/taxii2/default/collections/..%2F..%2Fetc%2Fpasswd/objects/",
    "/taxii2/default/collections/%2e%2e%2f%2e%2e%2fetc%2fpasswd/",
    f"{TAXII_OBJECTS}..%2F..%2Fetc%2Fpasswd/",
    f"{TAXII_OBJECTS}%2e%2e%2f%2e%2e%2fetc%2fpasswd/versions/",
    "/taxii2/default/status/..%2F..%2Fetc%2Fpasswd/",
    "/static/..%2F..%2Fetc%2Fpasswd",
    "/docs/..%2F..%2Fetc%2Fpasswd",
]


@pytest.mark.parametrize("url", TRAVERSALS)
def test_path_traversal_in_ids_is_a_clear_4xx(client: TestClient, engine: Engine, writer: dict[str, str],
                                              url: str) -> None:
    with unchanged(engine):
        r = client.get(url, headers=writer | {"Accept": TAXII} if "/taxii2" in url else writer)
    check_error(r, 400, 404)


@pytest.mark.parametrize(("url", "status"), [
    ("/api/v1/objects?limit=-1", 422),
    ("/api/v1/objects?next=%25%25%25", 400),
    ("/api/v1/objects?since=yesterday", 400),
    ("/api/v1/objects?value=" + "x" * 5000, 422),
    ("/api/v1/nothing-here", 404),
])
def test_a_bad_rest_query_is_a_clear_4xx(client: TestClient, engine: Engine, writer: dict[str, str], url: str,
                                         status: int) -> None:
    with unchanged(engine):
        r = client.get(url, headers=writer)
    check_error(r, status)


@pytest.mark.parametrize("limit", ["²", "1²", "٣", "9" * 5000, "-1", "0x10", "1e3"])
def test_a_limit_that_is_not_plain_digits_is_a_400(client: TestClient, writer: dict[str, str], limit: str) -> None:
    check_error(client.get(TAXII_OBJECTS, params={"limit": limit}, headers=writer | {"Accept": TAXII}), 400)


@pytest.mark.parametrize("value", ["::1/²", "::1/٣", "::1/129", "::1/01"])
def test_an_ipv6_prefix_must_be_plain_digits(client: TestClient, engine: Engine, writer: dict[str, str],
                                             value: str) -> None:
    sco = {"type": "ipv6-addr", "spec_version": "2.1", "id": f"ipv6-addr--{uuid.uuid4()}", "value": value}
    with unchanged(engine, ("stix_object", "observable")):
        r = senders(client, writer)["rest"](orjson.dumps(bundle(sco)))
    assert [x["status"] for x in r.json()["results"]] == ["rejected"], r.text
