"""No noise: an (organisation, asset, object) alerts once; a new version alerts again only when what to do
changed; revoked, expired or no longer naming the asset turns the alert into an all clear; each change is an
event in the outbox, written with the alert."""

from __future__ import annotations

from sqlalchemy import update

from exchange.alerts.models import AlertState
from exchange.assets.models import AssetKind
from exchange.core.db import transaction
from exchange.orgs.models import Role
from exchange.store.models import StixObject
from tests.alerts.conftest import World
from tests.factories import indicator

PATTERN = "[domain-name:value = 'www.bakery.test']"


def test_a_revision_that_changes_nothing_to_do_is_silent_and_a_stronger_one_escalates(world: World) -> None:
    sme = world.org().org
    csirt = world.org(Role.csirt).org
    world.asset(sme, AssetKind.domain, "bakery.test")
    first = indicator(PATTERN, confidence=50)
    world.publish(csirt, first)
    world.match()
    world.publish(csirt, first)  # the same version again: a duplicate, nothing stored
    world.publish(csirt, dict(first, modified="2024-02-01T00:00:00.000Z", description="typo fixed", confidence=50))
    world.match()
    [alert] = world.alerts(sme)
    assert (alert.severity, [t for _, t in world.events(sme)]) == ("medium", ["created"])
    world.publish(csirt, dict(first, modified="2024-03-01T00:00:00.000Z", confidence=95))  # now confirmed
    world.match()
    [alert] = world.alerts(sme)
    assert (alert.severity, alert.grade, alert.state) == ("high", "confirmed", "new")
    assert [t for _, t in world.events(sme)] == ["created", "escalated"]


def test_revoking_the_indicator_clears_the_alert(world: World) -> None:
    sme = world.org().org
    csirt = world.org(Role.csirt).org
    world.asset(sme, AssetKind.domain, "bakery.test")
    first = indicator(PATTERN)
    world.publish(csirt, first)
    world.match()
    world.publish(csirt, dict(first, modified="2024-02-01T00:00:00.000Z", revoked=True))
    world.match()
    [alert] = world.alerts(sme)
    assert alert.state == AlertState.cleared
    assert [t for _, t in world.events(sme)] == ["created", "cleared"]


def test_a_version_that_no_longer_names_the_asset_clears_and_naming_it_again_re_alerts(world: World) -> None:
    sme = world.org().org
    csirt = world.org(Role.csirt).org
    world.asset(sme, AssetKind.domain, "bakery.test")
    first = indicator(PATTERN)
    world.publish(csirt, first)
    world.match()
    world.publish(csirt, dict(first, modified="2024-02-01T00:00:00.000Z", pattern="[domain-name:value = 'x.test']"))
    world.match()
    assert [a.state for a in world.alerts(sme)] == ["cleared"]
    world.publish(csirt, dict(first, modified="2024-03-01T00:00:00.000Z"))
    world.match()
    assert [a.state for a in world.alerts(sme)] == ["new"]
    assert [t for _, t in world.events(sme)] == ["created", "cleared", "escalated"]


def test_an_expired_indicator_clears_and_never_alerts(world: World) -> None:
    sme = world.org().org
    csirt = world.org(Role.csirt).org
    world.asset(sme, AssetKind.domain, "bakery.test")
    world.publish(csirt, indicator("[domain-name:value = 'old.bakery.test']", valid_until="2024-06-01T00:00:00Z"))
    live = indicator(PATTERN, valid_until="2099-01-01T00:00:00Z")
    world.publish(csirt, live)
    world.match()
    [alert] = world.alerts(sme)
    assert alert.matched == "www.bakery.test"
    with transaction(world.sessions) as s:  # time passes: the indicator is past its valid_until
        s.execute(update(StixObject).where(StixObject.stix_id == live["id"]).values(valid_until=1))
    world.match()
    assert [a.state for a in world.alerts(sme)] == ["cleared"]
    assert [t for _, t in world.events(sme)] == ["created", "cleared"]
