"""TAXII 2.1 over raw HTTP: content negotiation (Accept, 406) and request media types (415).

Section numbers refer to the TAXII 2.1 specification (OASIS Committee Specification 01).
"""

from __future__ import annotations

import pytest

from tests.factories import indicator
from tests.taxii.live import (
    COLLECTIONS,
    TAXII,
    Hub,
    coll,
    expect,
    ids,
    manifest,
    obj,
    objs,
    root,
    status,
    versions,
)

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
    st = hub.publish(m, [indicator()])
    for path in [*_negotiated_paths(), obj(o["id"]), versions(o["id"]), status(st["id"])]:
        expect(hub.get(path, m, accept=accept), 406)
    posted = indicator()
    expect(hub.post(objs(), m, {"objects": [posted]}, accept=accept), 406)
    expect(hub.delete(obj(o["id"]), m, accept=accept), 406)
    assert ids(expect(hub.get(obj(o["id"]), m))) == [o["id"]]  # neither write happened
    expect(hub.get(obj(posted["id"]), m), 404)


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
