"""What a message may say, read through the read rule: only the alert's own publisher's readable courses of
action become steps, a withheld alert reads nothing of the object, answer links last until the alert's
last change plus 30 days, and software, exploitation and contact come from what was published."""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import event, select
from stix2.v21 import TLP_GREEN

from exchange.alerts import links, wording
from exchange.alerts.delivery import compose
from exchange.alerts.delivery.models import Channel, Subscription
from exchange.alerts.message import Message
from exchange.alerts.models import Alert, AlertKind
from exchange.assets.models import AssetKind
from exchange.core.db import transaction
from exchange.orgs.models import Org, Role
from tests.alerts.conftest import World
from tests.factories import TLP2, indicator


def _sub(org: Org, channel: Channel = Channel.email) -> Subscription:
    return Subscription(org_pk=org.pk, channel=channel.value, address="boss@bakery.example", language="en",
                        timezone="Europe/Paris")


def _action(author: str, target: str, description: str, *, marking: str = TLP_GREEN.id,
            **extra: Any) -> list[dict[str, Any]]:
    suffix = target.split("--")[1][:-12] + f"{abs(hash((author, description))) % 10**12:012d}"
    action = {"type": "course-of-action", "spec_version": "2.1", "id": f"course-of-action--{suffix}",
              "created": "2024-01-02T00:00:00.000Z", "modified": "2024-01-02T00:00:00.000Z",
              "name": "What to do", "description": description, "object_marking_refs": [marking],
              "created_by_ref": author, **extra}
    rel = {"type": "relationship", "spec_version": "2.1", "id": f"relationship--{suffix}",
           "created": "2024-01-02T00:00:00.000Z", "modified": "2024-01-02T00:00:00.000Z",
           "relationship_type": "mitigates", "source_ref": action["id"], "target_ref": target,
           "object_marking_refs": [marking], "created_by_ref": author, **extra}
    return [action, rel]


def _message(world: World, org: Org, channel: Channel = Channel.email) -> tuple[Alert, Message]:
    with world.sessions() as s:
        alert = s.scalars(select(Alert).where(Alert.org_pk == org.pk)).one()
        return alert, compose.message(s, alert, s.get_one(Org, org.pk), _sub(org, channel),
                                      base_url="https://hub.test/")


def test_steps_come_only_from_the_publishers_readable_courses_of_action(world: World) -> None:
    sme, csirt, other = world.org(), world.org(Role.csirt), world.org(Role.csirt)
    world.asset(sme.org, AssetKind.domain, "bakery.test")
    found = indicator("[domain-name:value = 'login.bakery.test']", markings=[TLP2["green"]])
    world.publish(csirt.org, found, {"type": "identity", "spec_version": "2.1", "id": csirt.org.identity_id,
                                     "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
                                     "name": "CERT", "contact_information": "cert@cert.test"})
    world.publish(csirt.org, *_action(csirt.org.identity_id, found["id"], "1. Unplug it.\n2. Call us.\n- Breathe."))
    world.publish(csirt.org, *_action(csirt.org.identity_id, found["id"], "Never shown: for someone else.",
                                      marking=TLP2["amber+strict"], x_exchange_recipients=[other.org.identity_id]))
    world.publish(other.org, *_action(other.org.identity_id, found["id"], "Another CSIRT's advice."))
    world.match()
    alert, message = _message(world, sme.org)
    assert message.steps == ("Unplug it.", "Call us.", "Breathe.")
    assert message.sender.contact == "cert@cert.test"
    expiry = int(message.answer_urls["fixed"].rsplit("/", 1)[1].split(".")[2])
    assert expiry == max(alert.updated_at, alert.object_modified) // 1_000_000 + links.LIFETIME_DAYS * 86_400
    assert set(message.answer_urls) == {state.value for state in links.LINK_ANSWERS}


def test_a_withheld_alert_reads_nothing_of_the_object(world: World) -> None:
    sme, csirt = world.org(), world.org(Role.csirt)
    world.asset(sme.org, AssetKind.domain, "bakery.test", verified=False)
    found = indicator("[domain-name:value = 'login.bakery.test']", name="Secret name", description="Secret words",
                      markings=[TLP2["green"]])
    world.publish(csirt.org, found, *_action(csirt.org.identity_id, found["id"], "1. Secret step.\n2. Another."))
    world.match()
    for channel in Channel:
        _, message = _message(world, sme.org, channel)
        assert message.withheld
        assert (message.title, message.description, message.steps, message.matched) == (None, None, (), "")
        assert message.answer_urls == {}, "a withheld alert cannot be answered"
        assert message.asset == "bakery.test"


def test_software_and_exploitation_come_from_the_asset_and_the_object(world: World) -> None:
    sme, csirt = world.org(), world.org(Role.csirt)
    world.asset(sme.org, AssetKind.software, "cpe:2.3:o:paloaltonetworks:pan-os:10.2.5")
    flaw = {"type": "vulnerability", "spec_version": "2.1", "id": "vulnerability--1f3c2f4e-6a7b-4c8d-9e0f-1a2b3c4d5e6f",
            "created": "2024-04-12T00:00:00.000Z", "modified": "2024-04-12T00:00:00.000Z", "name": "CVE-2024-3400",
            "labels": ["known-exploited"], "object_marking_refs": [TLP2["clear"]],
            "x_exchange_affected": [{"cpe": "cpe:2.3:o:paloaltonetworks:pan-os:*",
                                     "versions": "vers:generic/>=10.2|<10.2.9"}]}
    world.publish(csirt.org, flaw)
    world.match()
    _, message = _message(world, sme.org)
    assert message.kind is AlertKind.software
    assert message.software is not None
    assert message.software.lower() == "paloaltonetworks pan-os 10.2.5"
    assert message.exploited
    assert message.matched == "CVE-2024-3400"


def test_a_prefetched_batch_says_exactly_what_one_message_at_a_time_says(world: World) -> None:
    """The web inbox composes a page in one go: every message must equal the one composed alone (the version
    that alerted, or the newest readable one; an object no longer readable; the contact of either CSIRT; a
    withheld alert), and after ``prefetch`` a list's message (``subjects_only``) reads nothing more from the database
and has the same subject."""
    sme, csirt, other = world.org(), world.org(Role.csirt), world.org(Role.csirt)
    world.asset(sme.org, AssetKind.domain, "bakery.test")
    world.asset(sme.org, AssetKind.domain, "mill.test", verified=False)
    for who, contact in ((csirt, "cert@cert.test"), (other, "other@other.test")):
        world.publish(who.org, {"type": "identity", "spec_version": "2.1", "id": who.org.identity_id, "name": "CERT",
                                "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
                                "contact_information": contact})
    moved, hidden = (indicator(f"[domain-name:value = '{n}.bakery.test']", name=n, markings=[TLP2["green"]])
                     for n in ("moved", "hidden"))
    world.publish(csirt.org, moved, hidden, indicator("[domain-name:value = 'a.mill.test']", markings=[TLP2["green"]]))
    world.publish(other.org, indicator("[domain-name:value = 'b.bakery.test']", name="Other's",
                                       markings=[TLP2["green"]]))
    world.match()
    world.publish(csirt.org, {**moved, "modified": "2024-02-01T00:00:00.000Z", "name": "moved on"},
                  {**hidden, "modified": "2024-02-01T00:00:00.000Z", "object_marking_refs": [TLP2["red"]]})
    with transaction(world.sessions) as s:  # an alert about a version that is not stored: the newest readable one
        s.scalars(select(Alert).where(Alert.object_id == moved["id"])).one().object_modified = 1
    with world.sessions() as s:
        org = s.get_one(Org, sme.org.pk)
        alerts = list(s.scalars(select(Alert).where(Alert.org_pk == org.pk).order_by(Alert.pk)))
        assert len(alerts) == 4
        alone = [compose.message(s, a, org, _sub(org, Channel.webhook), base_url="https://hub.test/") for a in alerts]
        listing = compose.Composer(s, "https://hub.test/", subjects_only=True)
        listing.prefetch((a, org) for a in alerts)
        statements: list[str] = []
        event.listen(s.get_bind(), "before_cursor_execute", lambda *args: statements.append(args[2]))
        brief = [listing.message(a, org, _sub(org, Channel.webhook)) for a in alerts]
        assert statements == [], "prefetch read everything a subject needs"
        composer = compose.Composer(s, "https://hub.test/")
        composer.prefetch((a, org) for a in alerts)
        batched = [composer.message(a, org, _sub(org, Channel.webhook)) for a in alerts]
    assert [(m.title, m.tlp, m.sender.contact, m.withheld) for m in batched] == [
        ("moved on", "green", "cert@cert.test", False), (None, "red", None, False),
        (None, "green", "cert@cert.test", True), ("Other's", "green", "other@other.test", False)]
    assert batched == alone
    assert brief == [dataclasses.replace(m, steps=(), answer_urls={},
                                         sender=dataclasses.replace(m.sender, contact=None)) for m in alone]
    assert [wording.subject(m, "en") for m in brief] == [wording.render(m, "en").subject for m in alone]


def test_one_batch_for_many_organisations_reads_each_ones_view_in_a_fixed_number_of_queries(world: World) -> None:
    """A dispatch batch words messages for many organisations about the same object: each must get what it
    alone may read (here one of them is named on a TLP:AMBER+STRICT course of action, the others are not),
    in as many queries for four organisations as for one."""
    csirt = world.org(Role.csirt)
    smes = [world.org() for _ in range(4)]
    for n, sme in enumerate(smes):
        world.asset(sme.org, AssetKind.domain, f"shop{n}.test")
    found = indicator(" OR ".join(f"[domain-name:value = 'login.shop{n}.test']" for n in range(4)),
                      markings=[TLP2["green"]])
    world.publish(csirt.org, found, {"type": "identity", "spec_version": "2.1", "id": csirt.org.identity_id,
                                     "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
                                     "name": "CERT", "contact_information": "cert@cert.test"})
    world.publish(csirt.org, *_action(csirt.org.identity_id, found["id"], "1. Change the password.\n2. Call us."))
    world.publish(csirt.org, *_action(csirt.org.identity_id, found["id"], "Only for shop 2.",
                                      marking=TLP2["amber+strict"], x_exchange_recipients=[smes[2].org.identity_id]))
    world.match()

    def batch(count: int) -> tuple[list[Message], int]:
        with world.sessions() as s:
            orgs = [s.get_one(Org, sme.org.pk) for sme in smes[:count]]
            alerts = [s.scalars(select(Alert).where(Alert.org_pk == org.pk)).one() for org in orgs]
            alone = [compose.message(s, a, org, _sub(org), base_url="https://hub.test/")
                     for a, org in zip(alerts, orgs, strict=True)]
            composer = compose.Composer(s, "https://hub.test/")
            statements: list[str] = []
            listener = lambda *args: statements.append(args[2])  # noqa: E731
            event.listen(s.get_bind(), "before_cursor_execute", listener)
            composer.prefetch(zip(alerts, orgs, strict=True))
            read = len(statements)
            batched = [composer.message(a, org, _sub(org)) for a, org in zip(alerts, orgs, strict=True)]
            event.remove(s.get_bind(), "before_cursor_execute", listener)
            assert batched == alone
            assert len(statements) == read, "prefetch read everything the messages need"
        return batched, read

    one, read_one = batch(1)
    four, read_four = batch(4)
    assert read_four == read_one
    assert [m.steps for m in four] == [("Change the password.", "Call us.")] * 2 + [
        ("Change the password.", "Call us.", "Only for shop 2.")] + [("Change the password.", "Call us.")]
    assert one[0] == four[0]
