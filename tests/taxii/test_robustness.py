"""TAXII 2.1 over raw HTTP: garbage requests never get a 500, HTML or a dropped connection.

Section numbers refer to the TAXII 2.1 specification (OASIS Committee Specification 01).
"""

from __future__ import annotations

import uuid
from functools import partial
from typing import Any

import httpx
import orjson

from tests.factories import indicator
from tests.taxii.live import (
    COLLECTIONS,
    DEFAULT,
    TAXII,
    Hub,
    b64,
    check_error,
    coll,
    content_type,
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
    calls: list[partial[httpx.Response]] = [partial(hub.get, path, m, params=params) for path, params in gets]
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
