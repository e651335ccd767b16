"""The demo bundle is what newcomers see first, so it must be valid STIX, reproducible and hit the SMEs."""

from __future__ import annotations

import ipaddress
import json
import os
import re
import subprocess
from collections import Counter
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import stix2
from stix2.v21 import TLP_AMBER, TLP_GREEN, TLP_WHITE

from exchange.bench.taxii_run import free_port
from exchange.demo import DEMO_ORGS, DEMO_SME_DOMAINS, DEMO_SME_NETWORK, DEMO_STEPS, demo_bundle
from tests.conftest import once
from tests.test_serve import EXCHANGE, _wait_for_line

pytestmark = once("the demo runs on a SQLite file of its own, or on none")

_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


@pytest.fixture(scope="module")
def bundle() -> dict[str, Any]:
    return demo_bundle()


@pytest.fixture(scope="module")
def objects(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return list(bundle["objects"])


def _of_type(objects: list[dict[str, Any]], stix_type: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["type"] == stix_type]


def test_bundle_shape(bundle: dict[str, Any]) -> None:
    assert bundle["type"] == "bundle"
    assert re.fullmatch(r"bundle--[0-9a-f-]{36}", bundle["id"])


def test_every_object_parses_with_stix2(objects: list[dict[str, Any]]) -> None:
    for obj in objects:
        parsed = stix2.parse(obj, allow_custom=True)
        assert parsed["id"] == obj["id"]


def test_same_seed_gives_identical_bytes() -> None:
    assert orjson.dumps(demo_bundle()) == orjson.dumps(demo_bundle())
    assert orjson.dumps(demo_bundle(seed=7, indicators=50)) == orjson.dumps(demo_bundle(seed=7, indicators=50))


def test_different_seed_differs() -> None:
    assert orjson.dumps(demo_bundle(seed=1)) != orjson.dumps(demo_bundle(seed=2))


def test_counts(objects: list[dict[str, Any]]) -> None:
    counts = Counter(o["type"] for o in objects)
    assert counts["indicator"] >= 300
    assert counts["identity"] == 1
    assert counts["report"] == 1
    assert counts["malware"] >= 3
    assert counts["vulnerability"] >= 3
    assert counts["relationship"] >= 10
    assert counts["marking-definition"] == 3


def test_indicator_count_follows_argument() -> None:
    assert len(_of_type(demo_bundle(indicators=1000)["objects"], "indicator")) == 1000
    assert len(_of_type(demo_bundle(indicators=10)["objects"], "indicator")) == 10
    with pytest.raises(ValueError, match="at least"):
        demo_bundle(indicators=1)


def test_indicators_cover_the_realistic_kinds(objects: list[dict[str, Any]]) -> None:
    patterns = [o["pattern"] for o in _of_type(objects, "indicator")]
    for needle in (
        "[domain-name:value",
        "[ipv4-addr:value",
        "[ipv6-addr:value",
        "[url:value",
        "[file:hashes.'SHA-256'",
        "[file:hashes.'MD5'",
        "[email-addr:value",
        "' OR domain-name:value",
    ):
        assert any(needle in p for p in patterns), needle


def test_indicators_carry_plain_language_and_metadata(objects: list[dict[str, Any]]) -> None:
    identity_id = _of_type(objects, "identity")[0]["id"]
    indicators = _of_type(objects, "indicator")
    for ind in indicators:
        assert ind["name"]
        assert len(ind["description"]) > 30
        assert ind["indicator_types"]
        assert 0 <= ind["confidence"] <= 100
        assert ind["created_by_ref"] == identity_id
        assert _TIMESTAMP.match(ind["valid_from"])
        assert _TIMESTAMP.match(ind["created"])
    assert any("kill_chain_phases" in ind for ind in indicators)
    assert any("kill_chain_phases" not in ind for ind in indicators)


def test_tlp_mix_is_mostly_green(objects: list[dict[str, Any]]) -> None:
    marks = Counter(ref for o in _of_type(objects, "indicator") for ref in o["object_marking_refs"])
    assert set(marks) == {TLP_WHITE.id, TLP_GREEN.id, TLP_AMBER.id}
    assert marks[TLP_GREEN.id] > marks[TLP_WHITE.id] > 0
    assert marks[TLP_GREEN.id] > marks[TLP_AMBER.id] > 0


def test_identity_is_the_demo_csirt(objects: list[dict[str, Any]]) -> None:
    (identity,) = _of_type(objects, "identity")
    assert identity["name"] == "Demo National CSIRT"
    assert identity["identity_class"] == "organization"


def test_vulnerabilities_name_cves(objects: list[dict[str, Any]]) -> None:
    for vuln in _of_type(objects, "vulnerability"):
        (ref,) = vuln["external_references"]
        assert ref["source_name"] == "cve"
        assert re.fullmatch(r"CVE-\d{4}-\d{4,}", ref["external_id"])
    ids = {v["external_references"][0]["external_id"] for v in _of_type(objects, "vulnerability")}
    assert "CVE-2024-3400" in ids


def test_relationships_link_indicators_to_malware(objects: list[dict[str, Any]]) -> None:
    types = {o["id"]: o["type"] for o in objects}
    indicates = [r for r in _of_type(objects, "relationship") if r["relationship_type"] == "indicates"]
    assert indicates
    for rel in indicates:
        assert types[rel["source_ref"]] == "indicator"
        assert types[rel["target_ref"]] == "malware"


def test_sme_touching_indicators_present(objects: list[dict[str, Any]]) -> None:
    patterns = [o["pattern"] for o in _of_type(objects, "indicator")]
    bakery, dental = DEMO_SME_DOMAINS
    assert f"[domain-name:value = 'login.{bakery}']" in patterns
    assert "[ipv4-addr:value = '198.51.100.23']" in patterns
    assert any(p.startswith("[url:value = 'https://") and f"{dental}/" in p for p in patterns)
    assert ipaddress.ip_address("198.51.100.23") in ipaddress.ip_network(DEMO_SME_NETWORK)


def test_other_ipv4_indicators_avoid_the_sme_network(objects: list[dict[str, Any]]) -> None:
    """Only the deliberate SME hit may fall inside the SME network, or every C2 would alert them."""
    network = ipaddress.ip_network(DEMO_SME_NETWORK)
    values = [
        m.group(1)
        for o in _of_type(objects, "indicator")
        if (m := re.fullmatch(r"\[ipv4-addr:value = '([\d.]+)'\]", o["pattern"]))
    ]
    inside = [v for v in values if ipaddress.ip_address(v) in network]
    assert inside == ["198.51.100.23"]


def test_ids_unique(objects: list[dict[str, Any]]) -> None:
    ids = [o["id"] for o in objects]
    assert len(ids) == len(set(ids))


def test_patterns_unique(objects: list[dict[str, Any]]) -> None:
    patterns = [o["pattern"] for o in _of_type(objects, "indicator")]
    assert len(patterns) == len(set(patterns))


def test_every_reference_resolves(objects: list[dict[str, Any]]) -> None:
    ids = {o["id"] for o in objects}
    for obj in objects:
        refs = list(obj.get("object_marking_refs", []))
        refs += [obj[key] for key in ("created_by_ref", "source_ref", "target_ref") if key in obj]
        refs += obj.get("object_refs", [])
        missing = [r for r in refs if r not in ids]
        assert not missing, (obj["id"], missing)


def test_demo_orgs() -> None:
    roles = Counter(role for _, role in DEMO_ORGS)
    assert roles == {"csirt": 1, "isac": 1, "sme": 2}
    names = dict(DEMO_ORGS)
    assert names["Demo National CSIRT"] == "csirt"
    assert names["Demo Finance ISAC"] == "isac"
    smes = " ".join(name.lower() for name, role in DEMO_ORGS if role == "sme")
    assert "bakery" in smes
    assert "dental" in smes
    assert all(d.endswith(".test") for d in DEMO_SME_DOMAINS)


def test_serve_demo_yields_real_alerts_and_delivers_them(tmp_path: Path) -> None:
    """As the README says: ``exchange serve --demo`` alone; within a minute the SMEs have alerts over the API,
    the bakery a mail in ./exchange-demo/mail with the CSIRT's steps, the dental practice a signed webhook."""
    port = free_port()
    env = os.environ | {"EXCHANGE_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}", "COLUMNS": "200"}
    env.pop("EXCHANGE_SMTP_URL", None)
    proc = subprocess.Popen([EXCHANGE, "serve", "--demo", "--port", str(port)], env=env, cwd=tmp_path,
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
    try:
        log = _wait_for_line(proc, b"deliveries handled", timeout=120).decode()
        keys = dict(re.findall(r"slug: (\S+)\s+key:\s+(exk_\S+)", log))
        base = f"http://127.0.0.1:{port}"
        alerts = {slug: httpx.get(f"{base}/api/v1/alerts", headers={"Authorization": f"Bearer {keys[slug]}"}
                                  ).json()["alerts"] for slug in ("example-bakery", "example-dental-practice")}
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    bakery = {(a["kind"], a["matched"]) for a in alerts["example-bakery"]}
    assert bakery == {("listed", f"login.{DEMO_SME_DOMAINS[0]}"), ("listed", "198.51.100.23"),
                      ("software", "CVE-2024-3400")}, alerts["example-bakery"]
    assert alerts["example-dental-practice"], "the dental practice's site and mail server are named too"
    folder = tmp_path / "exchange-demo"
    mails = [message_from_bytes(f.read_bytes(), policy=policy.default) for f in sorted(folder.glob("mail/*.eml"))]
    assert len(mails) == len(bakery)
    [login] = [m for m in mails if f"login.{DEMO_SME_DOMAINS[0]}" in str(m["Subject"])]
    assert isinstance(login, EmailMessage)
    body = login.get_body(("plain",))
    assert isinstance(body, EmailMessage)
    text = str(body.get_content())
    for n, step in enumerate(DEMO_STEPS, 1):
        assert f"{n}. {step}" in text
    hooks = [json.loads(line) for line in (folder / "webhooks.jsonl").read_text().splitlines()]
    assert len(hooks) == len(alerts["example-dental-practice"])
    assert all(hook["signature_verified"] for hook in hooks)
