"""A MISP feed (manifest.json + one file per event) that the test builds, served by a real HTTP
server: conversion with misp-stix, TLP from tags and distribution, ``to_ids: false`` never an
indicator, incremental by event timestamp."""

from __future__ import annotations

import uuid
from typing import Any

from pytest_httpserver import HTTPServer
from sqlalchemy.orm import Session, sessionmaker

from exchange.core.settings import Settings
from exchange.stix import tlp
from tests.feeds.helpers import add, current, run

ORG = {"name": "CERT-X", "uuid": "5f4a2b1c-3d6e-4f70-8a9b-0c1d2e3f4a5b"}


def event(stamp: int, *, tags: list[str], distribution: str, attributes: list[tuple[str, str, bool]]) -> dict[str, Any]:
    return {"Event": {"uuid": str(uuid.uuid4()), "info": f"event {stamp}", "date": "2024-05-01",
                      "timestamp": str(stamp), "publish_timestamp": str(stamp), "analysis": "2",
                      "threat_level_id": "2", "distribution": distribution, "published": True, "Orgc": ORG,
                      "Tag": [{"name": t} for t in tags],
                      "Attribute": [{"uuid": str(uuid.uuid4()), "type": kind, "category": "Network activity",
                                     "value": value, "to_ids": to_ids, "timestamp": str(stamp)}
                                    for kind, value, to_ids in attributes], "Object": []}}


def serve(httpserver: HTTPServer, events: list[dict[str, Any]]) -> None:
    httpserver.clear()
    manifest = {e["Event"]["uuid"]: {"timestamp": e["Event"]["timestamp"], "info": e["Event"]["info"],
                                     "Orgc": ORG, "Tag": e["Event"]["Tag"]} for e in events}
    httpserver.expect_request("/feed/manifest.json").respond_with_json(manifest)
    for e in events:
        httpserver.expect_request(f"/feed/{e['Event']['uuid']}.json").respond_with_json(e)


def test_events_convert_incrementally_with_their_tlp(settings: Settings, sessions: sessionmaker[Session],
                                                     httpserver: HTTPServer) -> None:
    amber = event(1714550400, tags=["tlp:amber", "type:osint"], distribution="3",
                  attributes=[("domain", "bad.example", True), ("ip-dst", "203.0.113.5", False)])
    private = event(1714550500, tags=[], distribution="0", attributes=[("domain", "worse.example", True)])
    serve(httpserver, [amber, private])
    add("misp", "misp", httpserver.url_for("/feed/"))
    first = run("misp")
    assert (first["fetched"], first["rejected"]) == (2, 0)
    indicators = current(sessions, "indicator").values()
    assert sorted(i["pattern"] for i in indicators) == ["[domain-name:value = 'bad.example']",
                                                         "[domain-name:value = 'worse.example']"]
    levels = {i["pattern"]: tlp.marked_level(i) for i in indicators}
    assert levels == {"[domain-name:value = 'bad.example']": tlp.Tlp.amber,
                      "[domain-name:value = 'worse.example']": tlp.Tlp.amber_strict}
    assert any(o["value"] == "203.0.113.5" for o in current(sessions, "ipv4-addr").values())  # observed only
    later = event(1714550600, tags=["tlp:green"], distribution="3", attributes=[("url", "http://x.example/a", True)])
    serve(httpserver, [amber, private, later])
    again = run("misp")
    assert again["fetched"] == 1
    assert len(httpserver.log) == 2  # the manifest and the one new event, nothing older


def test_a_manifest_without_timestamps_fails_naming_the_field(settings: Settings, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed/manifest.json").respond_with_json({str(uuid.uuid4()): {"info": "x"}})
    add("misp", "misp", httpserver.url_for("/feed/"))
    assert "timestamp" in run("misp", ok=False)["error"]
