"""Shadowserver-format exposure reports, served by a real HTTP server: findings in the shape alert
matching reads, AMBER+STRICT, naming the address's verified owner; a report that lost a needed
column fails the run naming it."""

from __future__ import annotations

import stix2
from pytest_httpserver import HTTPServer
from sqlalchemy.orm import Session, sessionmaker

from connectors.shadowserver import sco_id
from exchange.assets import service as assets
from exchange.assets.models import AssetKind
from exchange.core.db import transaction
from exchange.core.settings import Settings
from exchange.orgs.models import Org, Role
from exchange.stix.tlp import MARKING_LEVELS, Tlp
from tests.feeds.helpers import add, current, run
from tests.orgs_factory import MakeOrg

REPORT = ("timestamp,ip,protocol,port,hostname,tag,asn,geo,severity,version,new_column\n"
          "2024-06-01 02:03:04,198.51.100.20,tcp,3389,rdp.shop.example,rdp,64500,ZZ,high,10.0,x\n"
          "2024-06-01 02:03:05,198.51.100.20,tcp,445,,smb,64500,ZZ,critical,,\n"
          "2024-06-01 02:03:06,203.0.113.9,udp,161,,snmp,64501,ZZ,medium,,\n"
          "2024-06-01 02:03:07,not-an-ip,tcp,1,,x,1,ZZ,low,,\n")
STRICT = next(ref for ref, level in MARKING_LEVELS.items() if level == Tlp.amber_strict and "939a9414" in ref)


def test_rows_become_findings_for_the_verified_owner(settings: Settings, sessions: sessionmaker[Session],
                                                     make_org: MakeOrg, httpserver: HTTPServer) -> None:
    csirt = make_org(Role.csirt).org
    owner = make_org(Role.sme).org
    settings = settings.model_copy(update={"assets_allow_reserved": True})  # documentation ranges
    with transaction(sessions) as session:
        org = session.get_one(Org, owner.pk)
        asset = assets.create(session, org, AssetKind.cidr, "198.51.100.16/28", settings=settings)
        assets.approve(asset, None, settings=settings)
        assets.create(session, org, AssetKind.ipv4, "203.0.113.9", settings=settings)  # not verified
    httpserver.expect_request("/scan_rdp.csv").respond_with_data(REPORT)
    add("exposure", "shadowserver", httpserver.url_for("/scan_rdp.csv"), "--owner", csirt.slug)
    counts = run("exposure")
    assert (counts["fetched"], counts["rejected"]) == (4, 1)
    findings = sorted(current(sessions, "observed-data").values(), key=lambda o: o["first_observed"])
    assert [f["x_exchange_exposure"]["tag"] for f in findings] == ["rdp", "smb", "snmp"]
    rdp = findings[0]
    address = sco_id("ipv4-addr", {"value": "198.51.100.20"})
    assert rdp["object_refs"][0] == address
    assert rdp["object_marking_refs"] == [STRICT]
    assert rdp["x_exchange_recipients"] == [owner.identity_id]
    assert "x_exchange_recipients" not in findings[2]  # nobody verified 203.0.113.9
    assert rdp["x_exchange_exposure"] == {"report": "rdp", "tag": "rdp", "severity": "high", "asn": "64500",
                                          "version": "10.0", "new_column": "x"}
    (traffic,) = [t for t in current(sessions, "network-traffic").values() if t["dst_port"] == 3389]
    assert (traffic["dst_ref"], traffic["protocols"]) == (address, ["tcp"])
    assert run("exposure")["added"] == 0


def test_a_report_without_its_ip_column_fails_naming_it(settings: Settings, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/r.csv").respond_with_data("timestamp,addr,port\n2024-06-01 00:00:00,1.2.3.4,22\n")
    add("exposure", "shadowserver", httpserver.url_for("/r.csv"))
    assert "the field(s) ip" in run("exposure", ok=False)["error"]


def test_sco_ids_are_the_ones_stix2_derives() -> None:
    """Every producer must name one address alike: the stix2 library is the oracle."""
    address = stix2.IPv4Address(value="198.51.100.3")
    traffic = stix2.v21.NetworkTraffic(dst_ref=address.id, dst_port=3389, protocols=["tcp"])
    assert sco_id("ipv4-addr", {"value": "198.51.100.3"}) == address.id
    assert sco_id("network-traffic", {"dst_ref": address.id, "dst_port": 3389, "protocols": ["tcp"]}) == traffic.id
    assert sco_id("domain-name", {"value": "rdp.shop.example"}) == stix2.DomainName(value="rdp.shop.example").id
