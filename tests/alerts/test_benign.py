"""Cloud and CDN ranges silence an address for everyone but the organisation that verified it as its own
(alone, or in a range of at most /24 or /48); public resolvers stay silent even for their owner."""

from __future__ import annotations

import pytest

from exchange.alerts.benign import Benign, Silence, warned
from exchange.assets.models import AssetKind
from exchange.orgs.models import Role
from exchange.stix.observables import ip_observable
from tests.alerts.conftest import World
from tests.factories import indicator

AWS_V4 = "3.5.140.7"  # in 3.5.140.0/22 on the Amazon AWS warninglist
AWS_V6 = "2001:3fc0:800::7"  # in 2001:3fc0:800::/40, the same list


def test_the_addresses_used_here_are_on_the_lists_they_stand_for() -> None:
    assert warned("ipv4", AWS_V4) is Silence.shared
    assert warned("ipv6", AWS_V6) is Silence.shared
    assert warned("ipv4", "9.9.9.10") is Silence.everyone  # Quad9, on the public resolvers' list only


def test_own_verified_addresses_and_narrow_ranges_in_a_cloud_range_alert_their_owner(world: World) -> None:
    csirt = world.org(Role.csirt).org
    own, narrow, wide, unverified = (world.org().org for _ in range(4))
    world.asset(own, AssetKind.ipv4, AWS_V4)
    world.asset(narrow, AssetKind.cidr, "3.5.140.0/24")
    world.asset(wide, AssetKind.cidr, "3.5.140.0/23")  # one bit past /24: more likely the provider's block
    world.asset(unverified, AssetKind.ipv4, AWS_V4, verified=False)
    v6_own, v6_wide = world.org().org, world.org().org
    world.asset(v6_own, AssetKind.cidr, "2001:3fc0:800::/48")
    world.asset(v6_wide, AssetKind.cidr, "2001:3fc0:800::/47")
    world.publish(csirt, indicator(f"[ipv4-addr:value = '{AWS_V4}']"), indicator(f"[ipv6-addr:value = '{AWS_V6}']"))
    world.match()
    assert [a.matched for a in world.alerts(own)] == [AWS_V4]
    assert [a.matched for a in world.alerts(narrow)] == [AWS_V4]
    assert [a.matched for a in world.alerts(v6_own)] == [AWS_V6]
    assert world.alerts(wide) == world.alerts(unverified) == world.alerts(v6_wide) == []


def test_public_resolvers_never_alert_even_their_verified_owner(world: World) -> None:
    csirt = world.org(Role.csirt).org
    owner = world.org().org
    world.asset(owner, AssetKind.ipv4, "8.8.8.8")  # benign.txt
    world.asset(owner, AssetKind.ipv4, "9.9.9.10")  # the public resolvers' warninglist
    world.publish(csirt, indicator("[ipv4-addr:value = '8.8.8.8']"), indicator("[ipv4-addr:value = '9.9.9.10']"))
    world.match()
    assert world.alerts(owner) == []


@pytest.mark.parametrize(("address", "silence"), [
    ("192.0.2.53", Silence.everyone),  # listed for everyone, inside a shared range: everyone wins
    ("192.0.2.54", Silence.shared),
    ("192.0.3.1", None),
])
def test_the_built_in_lists_tell_a_resolver_from_a_shared_range(address: str, silence: Silence | None) -> None:
    lists = Benign(["192.0.2.53  # a resolver"], ["192.0.2.0/24  # a CDN front"])
    ip = ip_observable(address)
    assert ip is not None
    assert lists.silence("ipv4", address, ip.ip_lo, ip.ip_hi) is silence
