"""The kinds beyond listed names and addresses: software, exposure findings, sector advisories,
look-alike domains (checked against ``dnstwist``'s own fuzzer)."""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

import dnstwist

from exchange.alerts.lookalike import LookalikeIndex
from exchange.assets.models import AssetKind
from exchange.orgs.models import Role
from tests.alerts.conftest import World
from tests.factories import TLP2, indicator

T = "2024-01-01T00:00:00.000Z"


def _sdo(kind: str, **extra: Any) -> dict[str, Any]:
    return {"type": kind, "spec_version": "2.1", "id": f"{kind}--{uuid.uuid4()}", "created": T, "modified": T,
            **extra}


def test_software_matches_vendor_product_and_version_range(world: World) -> None:
    sme, other, unversioned = world.org().org, world.org().org, world.org().org
    csirt = world.org(Role.csirt).org
    world.asset(sme, AssetKind.software, "cpe:2.3:o:paloaltonetworks:pan-os:10.2.5")
    world.asset(other, AssetKind.software, "cpe:2.3:o:paloaltonetworks:pan-os:10.2.9")
    world.asset(unversioned, AssetKind.software, "cpe:2.3:o:paloaltonetworks:pan-os")
    affected = [{"cpe": "cpe:2.3:o:paloaltonetworks:pan-os:*", "versions": "vers:generic/>=10.2|<10.2.9"}]
    world.publish(csirt, _sdo("vulnerability", name="CVE-2024-3400", x_exchange_affected=affected,
                              x_exchange_exploited=True, confidence=90),
                  _sdo("vulnerability", name="CVE-2024-0001",
                       x_exchange_affected=[{"cpe": "cpe:2.3:o:othervendor:pan-os:*"}]))
    world.match()
    assert [(a.kind, a.matched, a.severity) for a in world.alerts(sme)] == [("software", "CVE-2024-3400", "high")]
    assert world.alerts(other) == []
    assert [a.matched for a in world.alerts(unversioned)] == ["CVE-2024-3400"]  # it did not say: maybe


def test_names_written_as_people_write_them_meet_cpe_names(world: World) -> None:
    """An advisory (the web form, a hand-written bundle) may say "Exchange Server" by "Microsoft" where the
    inventory holds cpe:2.3:a:microsoft:exchange_server; the KEV feed and the software picker write CPE words."""
    sme = world.org().org
    csirt = world.org(Role.csirt).org
    world.asset(sme, AssetKind.software, "cpe:2.3:a:microsoft:exchange_server:15.2")
    world.publish(csirt, _sdo("vulnerability", name="CVE-2021-26855",
                              x_exchange_affected=[{"vendor": "Microsoft", "product": "Exchange Server"}]),
                  _sdo("vulnerability", name="CVE-2021-0000",
                       x_exchange_affected=[{"vendor": "Microsoft", "product": "Exchange Online"}]))
    world.match()
    assert [a.matched for a in world.alerts(sme)] == ["CVE-2021-26855"]


def test_package_urls_match_by_type_name_and_range(world: World) -> None:
    sme = world.org().org
    csirt = world.org(Role.csirt).org
    world.asset(sme, AssetKind.software, "pkg:pypi/django@4.2.1")
    world.publish(csirt, _sdo("vulnerability", name="CVE-2024-1111",
                              x_exchange_affected=[{"purl": "pkg:pypi/django", "versions": "vers:pypi/<4.2.2"}]),
                  _sdo("vulnerability", name="CVE-2024-2222",
                       x_exchange_affected=[{"purl": "pkg:pypi/django", "versions": "vers:pypi/>=5.0"}]))
    world.match()
    assert [a.matched for a in world.alerts(sme)] == ["CVE-2024-1111"]


def test_an_exposure_finding_reaches_the_named_owner_only(world: World) -> None:
    sme, neighbour = world.org().org, world.org().org
    csirt = world.org(Role.csirt).org
    world.asset(sme, AssetKind.cidr, "203.0.113.0/28")
    world.asset(neighbour, AssetKind.cidr, "203.0.113.0/24")  # overlaps, but the finding does not name it
    address = {"type": "ipv4-addr", "spec_version": "2.1", "id": f"ipv4-addr--{uuid.uuid4()}", "value": "203.0.113.5"}
    finding = _sdo("observed-data", first_observed=T, last_observed=T, number_observed=1,
                   object_refs=[address["id"]], object_marking_refs=[TLP2["amber+strict"]],
                   x_exchange_recipients=[sme.identity_id])
    world.publish(csirt, dict(address, object_marking_refs=[TLP2["amber+strict"]],
                              x_exchange_recipients=[sme.identity_id]), finding)
    world.match()
    assert {(a.kind, a.object_id) for a in world.alerts(sme)} >= {("exposure", finding["id"])}
    assert all(a.object_id != finding["id"] for a in world.alerts(neighbour))


def test_a_sector_advisory_reaches_the_organisations_of_that_sector(world: World) -> None:
    baker, farmer = world.org().org, world.org().org
    csirt = world.org(Role.csirt).org
    world.sector(baker, "C")
    world.sector(farmer, "A")
    report = _sdo("report", name="Ransomware against food producers", published=T, object_refs=[
        f"indicator--{uuid.uuid4()}"], labels=["sector:C"])
    world.publish(csirt, report)
    world.match()
    assert [(a.kind, a.match_key, a.severity) for a in world.alerts(baker)] == [("sector", "sector:C", "low")]
    assert world.alerts(farmer) == []


def test_a_look_alike_of_a_verified_domain_alerts_its_owner(world: World) -> None:
    sme, unverified = world.org().org, world.org().org
    csirt = world.org(Role.csirt).org
    world.asset(sme, AssetKind.domain, "dupont-boulangerie.fr")
    world.asset(unverified, AssetKind.domain, "martin-boulangerie.fr", verified=False)
    world.publish(csirt, *(indicator(f"[domain-name:value = '{d}']") for d in (
        "dupont-bou1angerie.com", "dupont-boulangerie-factures.fr", "martin-boulangeri.fr", "dupont.fr")))
    world.match()
    assert {(a.kind, a.matched) for a in world.alerts(sme)} == {
        ("lookalike", "dupont-bou1angerie.com"), ("lookalike", "dupont-boulangerie-factures.fr")}
    assert world.alerts(unverified) == []  # look-alikes only of verified domains


def test_the_look_alike_keys_find_what_dnstwist_generates() -> None:
    index = LookalikeIndex([("example-bakery.com", 1)])
    fuzzer = dnstwist.Fuzzer("example-bakery.com")
    fuzzer.generate()
    made, missed = Counter[str](), Counter[str]()
    for variant in fuzzer.domains:
        if variant["fuzzer"] != "*original":
            made[variant["fuzzer"]] += 1
            missed[variant["fuzzer"]] += not index.find(variant["domain"])
    assert {k for k, v in missed.items() if v} <= {"homoglyph"}, missed
    assert missed["homoglyph"] <= made["homoglyph"] // 40  # some two-swap variants fold apart (2 % measured)
    assert index.find("example-bakery.com") == []  # the domain itself is not its own look-alike
    assert index.find("bakery-example.net") == []  # the words, in another order: not a one-edit or combo
