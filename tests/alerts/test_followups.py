"""What changes an alert after it was raised, and what keeps one from being raised: the MISP warninglists,
deleting the object, a course of action that mitigates it, a look-alike that only receives mail."""

from __future__ import annotations

import uuid
from typing import Any

from connectors import shadowserver
from connectors.base import Source
from exchange.alerts import exposure, service
from exchange.alerts.models import AlertState
from exchange.assets.models import AssetKind
from exchange.core.db import transaction
from exchange.orgs.models import Org, Role
from exchange.store import reads
from tests.alerts.conftest import World
from tests.factories import TLP2, indicator

T = "2024-01-01T00:00:00.000Z"


def _sdo(kind: str, **extra: Any) -> dict[str, Any]:
    return {"type": kind, "spec_version": "2.1", "id": f"{kind}--{uuid.uuid4()}", "created": T, "modified": T,
            **extra}


def _mitigates(course: dict[str, Any], target: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return _sdo("relationship", relationship_type="mitigates", source_ref=course["id"], target_ref=target["id"],
                **extra)


def test_values_on_a_misp_warninglist_never_alert(world: World) -> None:
    sme = world.org().org
    csirt = world.org(Role.csirt).org
    world.asset(sme, AssetKind.cidr, "9.9.9.0/24")
    # 9.9.9.10 is Quad9's unfiltered resolver: on the warninglist of public resolvers, not in benign.txt
    world.publish(csirt, indicator("[ipv4-addr:value = '9.9.9.10']"), indicator("[ipv4-addr:value = '9.9.9.77']"))
    world.match()
    assert [a.matched for a in world.alerts(sme)] == ["9.9.9.77"]


def test_reserved_range_warninglists_do_not_silence_assets_registered_in_them(world: World) -> None:
    sme = world.org().org  # documentation ranges are on "List of RFC 5735 CIDR blocks"; allowed in tests
    csirt = world.org(Role.csirt).org
    world.asset(sme, AssetKind.cidr, "198.51.100.0/24")
    world.publish(csirt, indicator("[ipv4-addr:value = '198.51.100.7']"))
    world.match()
    assert [a.matched for a in world.alerts(sme)] == ["198.51.100.7"]


def test_deleting_the_object_clears_its_open_alerts(world: World) -> None:
    sme = world.org().org
    csirt = world.org(Role.csirt)
    world.asset(sme, AssetKind.domain, "bakery.test")
    kept = indicator("[domain-name:value = 'a.bakery.test']")
    deleted = indicator("[domain-name:value = 'b.bakery.test']")
    world.publish(csirt.org, kept, deleted)
    world.match()
    with transaction(world.sessions) as s:
        reads.delete_object(s, s.get_one(Org, csirt.org.pk), reads.get_collection(s), deleted["id"], reads.Filters())
    outcome = world.match()
    assert outcome.cleared == 1
    states = {a.object_id: a.state for a in world.alerts(sme)}
    assert states == {kept["id"]: AlertState.new, deleted["id"]: AlertState.cleared}
    assert [t for _, t in world.events(sme)] == ["created", "created", "cleared"]


def test_a_course_of_action_that_mitigates_an_alerted_object_escalates_the_alert(world: World) -> None:
    sme, other = world.org().org, world.org().org
    csirt = world.org(Role.csirt).org
    world.asset(sme, AssetKind.domain, "bakery.test")
    world.asset(other, AssetKind.domain, "mill.test")
    threat = indicator("[domain-name:value = 'login.bakery.test']")
    elsewhere = indicator("[domain-name:value = 'login.mill.test']")
    world.publish(csirt, threat, elsewhere)
    world.match()
    first = world.alerts(sme)[0]
    course = _sdo("course-of-action", name="Reset the webmail passwords", description="1. … 2. …")
    world.publish(csirt, course, _mitigates(course, threat))
    outcome = world.match()
    assert outcome.escalated == 1
    [alert] = world.alerts(sme)
    assert (alert.pk, alert.state, alert.object_id) == (first.pk, AlertState.new, threat["id"])
    assert [t for _, t in world.events(sme)] == ["created", "escalated"]
    assert [t for _, t in world.events(other)] == ["created"]  # its object is not the one mitigated


def test_a_mitigation_the_organisation_may_not_read_changes_nothing(world: World) -> None:
    sme, neighbour = world.org().org, world.org().org
    csirt = world.org(Role.csirt).org
    world.asset(sme, AssetKind.domain, "bakery.test")
    threat = indicator("[domain-name:value = 'login.bakery.test']")
    world.publish(csirt, threat)
    world.match()
    secret = _sdo("course-of-action", name="Only for the neighbour", object_marking_refs=[TLP2["red"]],
                  x_exchange_recipients=[neighbour.identity_id])
    world.publish(csirt, secret, _mitigates(secret, threat))
    fixed_already = _sdo("course-of-action", name="Too late")
    [alert] = world.alerts(sme)
    assert world.match().escalated == 0
    with transaction(world.sessions) as s:  # an answered ("fixed") alert is not reopened by advice
        service.answer(s, service.get(s, s.get_one(Org, sme.pk), alert.pk), AlertState.fixed)
    world.publish(csirt, fixed_already, _mitigates(fixed_already, threat))
    assert world.match().escalated == 0
    assert [t for _, t in world.events(sme)] == ["created"]


def test_a_look_alike_that_only_receives_mail_weighs_one_step_more(world: World) -> None:
    sme = world.org().org
    csirt = world.org(Role.csirt).org
    world.asset(sme, AssetKind.domain, "dupont-boulangerie.fr")
    web = indicator("[domain-name:value = 'dupont-bou1angerie.com']", confidence=90)
    mail = indicator("[domain-name:value = 'dupont-boulangerle.com']", confidence=90, x_exchange_mx_only=True)
    labelled = indicator("[domain-name:value = 'dupont-boulangerie.net']", confidence=90, labels=["MX-only"])
    world.publish(csirt, web, mail, labelled)
    world.match()
    severities = {a.matched: (a.kind, a.severity) for a in world.alerts(sme)}
    assert severities == {"dupont-bou1angerie.com": ("lookalike", "medium"),
                          "dupont-boulangerle.com": ("lookalike", "high"),
                          "dupont-boulangerie.net": ("lookalike", "high")}


def _shadowserver(owner: Org, ip: str, port: str, report: str) -> list[dict[str, Any]]:
    """A finding as the Shadowserver connector publishes it, named to the owner at TLP:AMBER+STRICT."""
    converted = shadowserver.convert(Source(name="scan", url="https://reports.test/scan.csv",
                                            options={"report": report}),
                                     {"timestamp": "2024-05-01 10:00:00", "ip": ip, "port": port,
                                      "protocol": "tcp"}, 2)
    assert isinstance(converted, list)
    return [dict(o, object_marking_refs=[TLP2["amber+strict"]], x_exchange_recipients=[owner.identity_id])
            for o in converted]


def test_an_exposure_alert_tells_port_protocol_service_and_when_only_to_its_reader(world: World) -> None:
    sme, neighbour = world.org().org, world.org().org
    csirt = world.org(Role.csirt).org
    world.asset(sme, AssetKind.cidr, "203.0.113.0/28")
    world.asset(neighbour, AssetKind.cidr, "203.0.113.16/28")
    world.publish(csirt, *_shadowserver(sme, "203.0.113.5", "3389", "scan_rdp"))
    world.publish(csirt, *_shadowserver(sme, "203.0.113.20", "3389", "scan_rdp"))  # names the wrong owner
    world.match()
    [alert] = [a for a in world.alerts(sme) if a.kind == "exposure"]
    assert alert.matched == "203.0.113.5"
    with world.sessions() as s:
        told = exposure.details(s, s.get_one(Org, sme.pk), alert)
        assert told == exposure.Exposure(3389, ("tcp",), "rdp", "2024-05-01T10:00:00.000Z")
        assert exposure.details(s, s.get_one(Org, neighbour.pk), alert) is None  # may not read the finding
    assert [a for a in world.alerts(neighbour) if a.kind == "exposure"] == []


def test_an_exposure_without_a_report_name_takes_the_service_from_the_port() -> None:
    finding = {"type": "observed-data", "last_observed": "2024-05-01T10:00:00.000Z"}
    flows = [{"type": "network-traffic", "dst_port": 9200, "protocols": ["TCP", "http"]}]
    assert exposure.summarise(finding, flows) == exposure.Exposure(9200, ("tcp", "http"), "elasticsearch",
                                                                     "2024-05-01T10:00:00.000Z")
    assert exposure.summarise(finding, [{"dst_port": True}]).port is None  # not a number
