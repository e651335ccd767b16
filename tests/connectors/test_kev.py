"""A KEV-shaped vulnerability catalogue served by a real HTTP server, run through ``exchange feed run``."""

from __future__ import annotations

from typing import Any

from pytest_httpserver import HTTPServer
from sqlalchemy.orm import Session, sessionmaker

from exchange.core.settings import Settings
from tests.feeds.helpers import add, current, run


def entry(cve: str, **extra: Any) -> dict[str, Any]:
    return {"cveID": cve, "vendorProject": "Acme", "product": "Gateway ", "vulnerabilityName": "Acme Gateway RCE",
            "dateAdded": "2024-05-02", "shortDescription": "Remote code execution.",
            "requiredAction": "Apply the vendor's update.", "dueDate": "2024-05-23",
            "knownRansomwareCampaignUse": "Known", "notes": "", "cwes": ["CWE-78"], **extra}


def test_entries_become_vulnerabilities_with_their_action(settings: Settings, sessions: sessionmaker[Session],
                                                          httpserver: HTTPServer) -> None:
    catalogue = {"title": "KEV", "catalogVersion": "2024.05.02", "vulnerabilities":
                 [entry("CVE-2024-0001"), entry("CVE-2024-0002", product="Router")]}
    httpserver.expect_request("/kev.json").respond_with_json(catalogue)
    add("kev", "kev", httpserver.url_for("/kev.json"), "--tlp", "clear")
    assert run("kev") == {"fetched": 2, "added": 7, "duplicates": 0, "rejected": 0}
    vulnerabilities = {v["name"]: v for v in current(sessions, "vulnerability").values()}
    first = vulnerabilities["CVE-2024-0001"]
    assert first["external_references"] == [{"source_name": "cve", "external_id": "CVE-2024-0001"}]
    assert first["x_exchange_affected"] == [{"vendor": "acme", "product": "gateway"}]
    assert vulnerabilities["CVE-2024-0002"]["x_exchange_affected"] == [{"vendor": "acme", "product": "router"}]
    assert first["x_exchange_exploited"] is True
    (action,) = [a for a in current(sessions, "course-of-action").values() if a["name"].startswith("CVE-2024-0001")]
    assert action["description"] == "Apply the vendor's update."
    links = current(sessions, "relationship").values()
    assert {(r["source_ref"], r["target_ref"]) for r in links} >= {(action["id"], first["id"])}
    assert run("kev")["added"] == 0


def test_a_catalogue_that_lost_a_field_fails_the_run_naming_it(settings: Settings, httpserver: HTTPServer) -> None:
    broken = entry("CVE-2024-0003")
    del broken["requiredAction"]
    httpserver.expect_request("/kev.json").respond_with_json({"vulnerabilities": [broken]})
    add("kev", "kev", httpserver.url_for("/kev.json"))
    failed = run("kev", ok=False)
    assert "requiredAction" in failed["error"]
    assert failed["added"] == 0
