"""The advisory's parts without a browser: the form's verdicts, the preview against what the matching job then
really does (the preview's oracle), and the feedback figures counting only the producer's own objects."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from exchange.alerts import service as alerts
from exchange.alerts.delivery import compose
from exchange.alerts.delivery.models import Channel, Subscription
from exchange.alerts.models import AlertState
from exchange.assets.models import AssetKind
from exchange.core.db import transaction
from exchange.orgs.models import Org, Role
from exchange.store import reads
from exchange.store.models import StixObject
from exchange.web import advisory_form, advisory_service
from tests.alerts.conftest import World, world  # noqa: F401 - the alert tests' small hub, reused
from tests.factories import indicator

FORM = {"title": "Shop software flaw", "summary": "A flaw lets anyone read orders.", "steps": "Update\nCheck logs",
        "severity": "confirmed", "tlp": "green", "sectors": []}


@pytest.mark.parametrize(("changes", "fields"), [
    ({"targets": "shop.test\n192.0.2.0/24\n2001:db8::1"}, []),
    ({"product": "shopcart", "vendor": "acme", "versions": ">=2.0, <2.4.1"}, []),
    ({"product": "shopcart", "versions": "vers:npm/>=2.0.0|<2.4.1"}, []),
    ({"sectors": ["C", "Z"]}, []),  # an unknown letter is dropped, C stays
    ({}, ["affected"]),
    ({"sectors": ["Z"]}, ["affected"]),
    ({"targets": "192.0.2.1/24"}, ["targets"]),  # host bits set
    ({"targets": "192.0.2.0/33"}, ["targets"]),
    ({"targets": "10.0.0.0/8"}, ["targets"]),  # wider than matching reads
    ({"targets": "-bad-.test"}, ["targets"]),
    ({"targets": "\n".join(f"h{i}.test" for i in range(101))}, ["targets"]),
    ({"product": "shopcart", "versions": ">=banana<<"}, ["versions"]),
    ({"vendor": "acme", "versions": ">=2"}, ["product"]),
    ({"product": "shop<script>"}, ["product"]),
    ({"title": "  ", "targets": "shop.test"}, ["title"]),
    ({"summary": "", "steps": "", "targets": "shop.test"}, ["steps", "summary"]),
    ({"severity": "apocalyptic", "tlp": "red", "targets": "shop.test"}, ["severity", "tlp"]),
])
def test_the_form_accepts_or_says_which_field_is_wrong(changes: dict[str, object], fields: list[str]) -> None:
    advisory, problems = advisory_form.read({**FORM, **changes})
    assert sorted({p.field for p in problems}) == fields
    assert (advisory is None) == bool(fields)


def test_the_preview_names_exactly_whom_the_job_then_alerts(world: World) -> None:  # noqa: F811 - the fixture
    csirt = world.org(Role.csirt)
    domain, software, sector, unverified, nobody = (world.org() for _ in range(5))
    world.asset(domain.org, AssetKind.domain, "shop.test")
    world.asset(software.org, AssetKind.software, "cpe:2.3:a:acme:shopcart:2.3.0:*:*:*:*:*:*:*")
    world.asset(nobody.org, AssetKind.software, "cpe:2.3:a:acme:shopcart:2.5.0:*:*:*:*:*:*:*")  # fixed version
    world.sector(sector.org, "G")
    world.asset(unverified.org, AssetKind.domain, "pay.shop.test", verified=False)
    advisory, _ = advisory_form.read({**FORM, "targets": "pay.shop.test", "sectors": ["G"], "vendor": "acme",
                                      "product": "shopcart", "versions": ">=2.0, <2.4.1"})
    assert advisory is not None
    with transaction(world.sessions) as s:
        me = s.get_one(Org, csirt.org.pk)
        objects = advisory_form.objects(advisory, me.identity_id)
        reach = advisory_service.preview(s, me, objects, reads.get_collection(s))
        assert s.scalar(select(func.count()).select_from(StixObject)) == 0
        advisory_service.publish(s, me, objects, reads.get_collection(s))
    world.match()
    told = {o.org.name for o in (domain, software, sector) if world.alerts(o.org)}
    assert told == {name for names in reach.alerted.values() for name in names}
    assert reach.to_verify == [unverified.org.name]
    assert [a.withheld for a in world.alerts(unverified.org)] == [True]
    assert world.alerts(nobody.org) == []
    assert reach.readers == 5  # every member organisation but the publisher (GREEN)
    # every alert, the sector one (about the report) included, carries the steps of the course of action
    reader = Subscription(channel=Channel.email.value, timezone="UTC", language="en")
    with world.sessions() as s:
        for who in (domain, software, sector):
            [alert] = world.alerts(who.org)
            message = compose.message(s, alert, s.get_one(Org, who.org.pk), reader, base_url="http://hub.test")
            assert (alert.kind, message.steps) == (alert.kind, ("Update", "Check logs"))


def test_feedback_counts_the_objects_a_report_gathers_of_its_own_producer_only(world: World) -> None:  # noqa: F811
    csirt, other = world.org(Role.csirt), world.org(Role.csirt)
    sme = world.org()
    world.asset(sme.org, AssetKind.domain, "shop.test")
    theirs = indicator("[domain-name:value = 'login.shop.test']")
    world.publish(other.org, theirs)
    ours = indicator("[domain-name:value = 'pay.shop.test']")
    report: dict[str, Any] = {
        "type": "report", "spec_version": "2.1", "id": f"report--{uuid.uuid4()}",
              "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z", "name": "ours",
              "published": "2024-01-01T00:00:00.000Z", "object_refs": [ours["id"], theirs["id"]]}
    world.publish(csirt.org, ours, report)
    world.match()
    with transaction(world.sessions) as s:
        mine = [a for a in world.alerts(sme.org) if a.object_id == ours["id"]]
        alerts.answer(s, alerts.get(s, s.get_one(Org, sme.org.pk), mine[0].pk), AlertState.fixed)
    with transaction(world.sessions) as s:
        found = alerts.reach(s, s.get_one(Org, csirt.org.pk), report["id"], gathered=report["object_refs"])
        alone = alerts.reach(s, s.get_one(Org, csirt.org.pk), report["id"])
        sightings = alerts.sightings(s, s.get_one(Org, csirt.org.pk), limit=10)
        elsewhere = alerts.sightings(s, s.get_one(Org, other.org.pk), limit=10)
    assert (found.reached, found.fixed) == (1, 1)  # the SME, about our indicator; theirs is not counted
    assert (alone.reached, alone.fixed) == (0, 0)
    assert [row.type for row in sightings.rows] == ["sighting"]
    assert elsewhere.rows == []


def test_an_amber_advisory_in_a_collection_without_a_group_reaches_nobody(world: World) -> None:  # noqa: F811
    csirt, sme = world.org(Role.csirt), world.org()
    world.asset(sme.org, AssetKind.domain, "shop.test")
    advisory, _ = advisory_form.read({**FORM, "tlp": "amber", "targets": "pay.shop.test"})
    assert advisory is not None
    with transaction(world.sessions) as s:
        me = s.get_one(Org, csirt.org.pk)
        reach = advisory_service.preview(s, me, advisory_form.objects(advisory, me.identity_id),
                                         reads.get_collection(s))
    assert (reach.count, reach.to_verify, reach.readers) == (0, [], 0)
