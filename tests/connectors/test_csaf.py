"""CSAF 2.0 advisories from a provider the test builds (provider-metadata.json, a ROLIE feed or a
directory's changes.csv, the advisories), served by a real HTTP server: schema validation, the
mapping (CVE, CVSS, affected and fixed products, remediations, TLP), per-listing bookmarks, and an
SME told by alert matching that it runs an affected version."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pytest_httpserver import HTTPServer
from sqlalchemy.orm import Session, sessionmaker

from exchange.assets.models import AssetKind
from exchange.core.settings import Settings
from exchange.orgs.models import Role
from exchange.stix import tlp
from tests.alerts.conftest import World
from tests.feeds.helpers import add, current, run
from tests.orgs_factory import MakeOrg

CVSS = {"version": "3.1", "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "baseScore": 9.8,
        "baseSeverity": "CRITICAL"}
TREE = {"branches": [{"category": "vendor", "name": "Acme", "branches": [
    {"category": "product_name", "name": "Gateway", "branches": [
        {"category": "product_version_range", "name": "vers:generic/>=2.0|<2.2.0",
         "product": {"product_id": "GW-2", "name": "Acme Gateway 2.0 to 2.1",
                     "product_identification_helper": {"cpe": "cpe:2.3:a:acme:gateway:*:*:*:*:*:*:*:*"}}},
        {"category": "product_version", "name": "2.2.0",
         "product": {"product_id": "GW-2.2.0", "name": "Acme Gateway 2.2.0",
                     "product_identification_helper": {"cpe": "cpe:2.3:a:acme:gateway:2.2.0:*:*:*:*:*:*:*"}}}]},
    {"category": "product_name", "name": "Router", "branches": [
        {"category": "product_version", "name": "1.5", "product": {"product_id": "RT-1.5",
                                                                    "name": "Acme Router 1.5"}}]}]}]}


def advisory(tracking: str, *, cve: str, version: str = "1", updated: str = "2024-03-01T10:00:00Z",
             label: str = "WHITE") -> dict[str, Any]:
    return {
        "document": {
            "category": "csaf_security_advisory", "csaf_version": "2.0", "title": f"Acme advisory {tracking}",
            "distribution": {"tlp": {"label": label}},
            "publisher": {"category": "vendor", "name": "Acme PSIRT", "namespace": "https://psirt.acme.example"},
            "tracking": {"id": tracking, "status": "final", "version": version,
                         "initial_release_date": "2024-03-01T10:00:00Z", "current_release_date": updated,
                         "revision_history": [{"date": updated, "number": version, "summary": "released"}]}},
        "product_tree": TREE,
        "vulnerabilities": [{
            "cve": cve, "notes": [{"category": "description", "text": f"{cve}: remote code execution"}],
            "product_status": {"known_affected": ["GW-2", "RT-1.5"], "fixed": ["GW-2.2.0"]},
            "scores": [{"products": ["GW-2"], "cvss_v3": dict(CVSS)}],
            "remediations": [
                {"category": "vendor_fix", "details": "Update to 2.2.0.", "product_ids": ["GW-2"],
                 "url": "https://psirt.acme.example/fix"},
                {"category": "workaround", "details": "Disable the web interface.", "product_ids": ["GW-2"]},
                {"category": "none_available", "details": "No fix for the router.", "product_ids": ["RT-1.5"]}]}]}


def rolie(httpserver: HTTPServer, entries: list[tuple[str, str]], *, hashed: bool = False) -> None:
    httpserver.expect_request("/.well-known/csaf/provider-metadata.json").respond_with_json({
        "canonical_url": httpserver.url_for("/.well-known/csaf/provider-metadata.json"), "metadata_version": "2.0",
        "list_on_CSAF_aggregators": True, "mirror_on_CSAF_aggregators": True, "role": "csaf_provider",
        "last_updated": "2024-03-01T10:00:00Z",
        "publisher": {"category": "vendor", "name": "Acme PSIRT", "namespace": "https://psirt.acme.example"},
        "distributions": [{"rolie": {"feeds": [{"summary": "public", "tlp_label": "WHITE",
                                                "url": httpserver.url_for("/.well-known/csaf/white/feed.json")}]},
                           "directory_url": httpserver.url_for("/.well-known/csaf/white/")}]})
    httpserver.expect_request("/.well-known/csaf/white/feed.json").respond_with_json({"feed": {
        "id": "acme-white", "title": "Acme advisories", "updated": "2024-03-01T10:00:00Z",
        "entry": [{"id": name, "title": name, "published": "2024-03-01T10:00:00Z", "updated": when,
                   "link": [{"rel": "self", "href": httpserver.url_for(f"/.well-known/csaf/white/{name}.json")},
                            *([{"rel": "hash", "href": f"{name}.json.sha256"}] if hashed else [])],
                   "content": {"type": "application/json",
                               "src": httpserver.url_for(f"/.well-known/csaf/white/{name}.json")},
                   "format": {"schema": "https://docs.oasis-open.org/csaf/csaf/v2.0/csaf_json_schema.json",
                              "version": "2.0"}} for name, when in entries]}})


def test_advisories_from_a_rolie_feed_map_to_vulnerabilities_fixes_and_actions(
        settings: Settings, sessions: sessionmaker[Session], make_org: MakeOrg, httpserver: HTTPServer) -> None:
    csirt = make_org(Role.csirt).org
    rolie(httpserver, [("acme-2024-001", "2024-03-01T10:00:00Z"), ("acme-2024-002", "2024-03-02T10:00:00Z"),
                       ("acme-2024-003", "2024-03-03T10:00:00Z")])
    base = "/.well-known/csaf/white"
    httpserver.expect_request(f"{base}/acme-2024-001.json").respond_with_json(
        advisory("ACME-2024-001", cve="CVE-2024-1001"))
    httpserver.expect_request(f"{base}/acme-2024-002.json").respond_with_json(
        advisory("ACME-2024-002", cve="CVE-2024-1002", updated="2024-03-02T10:00:00Z", label="AMBER"))
    broken = advisory("ACME-2024-003", cve="CVE-2024-1003", updated="2024-03-03T10:00:00Z")
    broken["vulnerabilities"][0]["scores"][0]["cvss_v3"]["vectorString"] = "not a vector"
    httpserver.expect_request(f"{base}/acme-2024-003.json").respond_with_json(broken)
    add("acme", "csaf", httpserver.url_for("/.well-known/csaf/provider-metadata.json"), "--owner", csirt.slug)

    counts = run("acme")
    # per advisory: vulnerability, 2 actions, 2 links; once: the feed's identity and the publisher (then a duplicate)
    assert counts == {"fetched": 3, "added": 12, "duplicates": 1, "rejected": 1}
    vulnerabilities = {v["name"]: v for v in current(sessions, "vulnerability").values()}
    assert set(vulnerabilities) == {"CVE-2024-1001", "CVE-2024-1002"}  # the invalid one was rejected
    first = vulnerabilities["CVE-2024-1001"]
    assert first["external_references"][0] == {"source_name": "cve", "external_id": "CVE-2024-1001"}
    assert first["external_references"][1]["external_id"] == "ACME-2024-001"
    assert first["x_exchange_cvss"] == [{"version": "3.1", "vector": CVSS["vectorString"], "base_score": 9.8,
                                         "base_severity": "critical"}]
    assert first["x_exchange_affected"] == [
        {"cpe": "cpe:2.3:a:acme:gateway:*:*:*:*:*:*:*:*", "versions": "vers:generic/>=2.0|<2.2.0"},
        {"vendor": "acme", "product": "router", "versions": "vers:generic/1.5"}]
    assert first["x_exchange_fixed"] == [{"cpe": "cpe:2.3:a:acme:gateway:2.2.0:*:*:*:*:*:*:*"}]
    assert first["description"] == "CVE-2024-1001: remote code execution"
    assert tlp.marked_level(first) == tlp.Tlp.clear
    assert tlp.marked_level(vulnerabilities["CVE-2024-1002"]) == tlp.Tlp.amber  # the document's own TLP
    (publisher,) = [i for i in current(sessions, "identity").values() if i["name"] == "Acme PSIRT"]
    assert first["created_by_ref"] == publisher["id"]
    assert tlp.marked_level(publisher) is None  # one identity for advisories of every TLP: not marked by one
    actions = [a for a in current(sessions, "course-of-action").values() if a["name"].startswith("CVE-2024-1001")]
    assert sorted(a["x_exchange_remediation"] for a in actions) == ["vendor_fix", "workaround"]  # not none_available
    links = {(r["source_ref"], r["target_ref"]) for r in current(sessions, "relationship").values()
             if r["relationship_type"] == "mitigates"}
    assert {(a["id"], first["id"]) for a in actions} <= links

    assert run("acme")["fetched"] == 0  # the bookmark: nothing new
    httpserver.clear()
    rolie(httpserver, [("acme-2024-001", "2024-03-05T10:00:00Z"), ("acme-2024-002", "2024-03-02T10:00:00Z"),
                       ("acme-2024-003", "2024-03-03T10:00:00Z")])
    revised = advisory("ACME-2024-001", cve="CVE-2024-1001", version="2", updated="2024-03-05T10:00:00Z")
    httpserver.expect_request(f"{base}/acme-2024-001.json").respond_with_json(revised)
    # only the revision is read (nothing else is served now): a new version of its five objects
    assert run("acme") == {"fetched": 1, "added": 5, "duplicates": 2, "rejected": 0}
    assert current(sessions, "vulnerability")[first["id"]]["modified"] == "2024-03-05T10:00:00.000Z"


def test_an_advisory_that_differs_from_its_published_hash_is_rejected(
        settings: Settings, sessions: sessionmaker[Session], httpserver: HTTPServer) -> None:
    rolie(httpserver, [("acme-2024-001", "2024-03-01T10:00:00Z"), ("acme-2024-002", "2024-03-02T10:00:00Z")],
          hashed=True)
    base = "/.well-known/csaf/white"
    for name, cve in (("acme-2024-001", "CVE-2024-1001"), ("acme-2024-002", "CVE-2024-1002")):
        body = json.dumps(advisory(name.upper(), cve=cve)).encode()
        httpserver.expect_request(f"{base}/{name}.json").respond_with_data(body)
        published = body if name.endswith("001") else body.replace(b"remote code execution", b"nothing to see")
        httpserver.expect_request(f"{base}/{name}.json.sha256").respond_with_data(
            f"{hashlib.sha256(published).hexdigest()}  {name}.json\n")
    add("hashed", "csaf", httpserver.url_for("/.well-known/csaf/provider-metadata.json"))
    assert run("hashed")["rejected"] == 1
    assert [v["name"] for v in current(sessions, "vulnerability").values()] == ["CVE-2024-1001"]


def test_a_directory_provider_is_read_through_changes_csv_with_its_own_bookmark(
        settings: Settings, sessions: sessionmaker[Session], httpserver: HTTPServer) -> None:
    httpserver.expect_request("/advisories/changes.csv").respond_with_data(
        '"2024/acme-2024-010.json","2024-04-01T00:00:00Z"\n"2024/acme-2024-011.json","2024-04-02T00:00:00+02:00"\n'
        '"2024/acme-2024-012.json","2024-04-03T00:00:00Z"\n')
    httpserver.expect_request("/advisories/2024/acme-2024-010.json").respond_with_json(
        advisory("ACME-2024-010", cve="CVE-2024-1010", updated="2024-04-01T00:00:00Z"))
    httpserver.expect_request("/advisories/2024/acme-2024-011.json").respond_with_data("{not json")
    undated = advisory("ACME-2024-012", cve="CVE-2024-1012", updated="the day before yesterday")
    httpserver.expect_request("/advisories/2024/acme-2024-012.json").respond_with_json(undated)
    add("acme-dir", "csaf", httpserver.url_for("/advisories/"))
    counts = run("acme-dir")
    assert (counts["fetched"], counts["rejected"]) == (3, 2)
    assert [v["name"] for v in current(sessions, "vulnerability").values()] == ["CVE-2024-1010"]
    assert run("acme-dir")["fetched"] == 0


def test_a_listing_that_lost_a_field_fails_the_run_naming_it(settings: Settings, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed.json").respond_with_json({"feed": {"entry": [{"id": "x", "title": "x"}]}})
    add("lost", "csaf", httpserver.url_for("/feed.json"))
    assert "updated" in run("lost", ok=False)["error"]


def test_an_sme_running_an_affected_version_is_alerted(settings: Settings, sessions: sessionmaker[Session],
                                                       make_org: MakeOrg, httpserver: HTTPServer) -> None:
    world = World(sessions, settings.model_copy(update={"assets_allow_reserved": True}), make_org)
    world.match()
    affected, patched = world.org().org, world.org().org
    world.asset(affected, AssetKind.software, "cpe:2.3:a:acme:gateway:2.1.3")
    world.asset(patched, AssetKind.software, "cpe:2.3:a:acme:gateway:2.2.0")
    rolie(httpserver, [("acme-2024-001", "2024-03-01T10:00:00Z")])
    httpserver.expect_request("/.well-known/csaf/white/acme-2024-001.json").respond_with_json(
        advisory("ACME-2024-001", cve="CVE-2024-1001"))
    add("acme", "csaf", httpserver.url_for("/.well-known/csaf/provider-metadata.json"))
    assert run("acme")["rejected"] == 0
    world.match()
    assert [(a.kind, a.matched) for a in world.alerts(affected)] == [("software", "CVE-2024-1001")]
    assert world.alerts(patched) == []
