"""Matching, on real data through the one ingest path: each asset kind matched and not matched, the
read rule, unverified assets, and the benign list."""

from __future__ import annotations

from exchange.alerts.models import AlertKind
from exchange.assets.models import AssetKind
from exchange.orgs.models import Role
from tests.alerts.conftest import World
from tests.factories import TLP2, indicator


def test_domains_match_themselves_and_their_subdomains_not_a_name_that_only_starts_like_them(world: World) -> None:
    sme = world.org().org
    csirt = world.org(Role.csirt).org
    world.asset(sme, AssetKind.domain, "bakery.test")
    world.publish(csirt, *(indicator(f"[domain-name:value = '{d}']") for d in (
        "bakery.test", "shop.bakery.test", "bakery.test.evil.test", "notbakery.test", "bakery.testing.test")))
    world.publish(csirt, indicator("[url:value = 'https://login.bakery.test/pay']"))
    world.match()
    listed = {a.matched for a in world.alerts(sme) if a.kind == AlertKind.listed}
    assert listed == {"bakery.test", "shop.bakery.test", "login.bakery.test"}


def test_mail_domains_match_addresses_at_them_and_urls_match_exactly(world: World) -> None:
    sme = world.org().org
    csirt = world.org(Role.csirt).org
    world.asset(sme, AssetKind.mail_domain, "mail.test")
    world.asset(sme, AssetKind.url, "https://shop.test/login")
    world.publish(csirt, indicator("[email-addr:value = 'ceo@mail.test']"),
                  indicator("[email-addr:value = 'ceo@othermail.test']"),
                  indicator("[url:value = 'https://shop.test/login']"),
                  indicator("[url:value = 'https://shop.test/other']"))
    world.match()
    assert {(a.kind, a.matched) for a in world.alerts(sme)} == {
        ("listed", "mail.test"), ("listed", "https://shop.test/login")}


def test_addresses_match_inside_a_range_and_not_one_past_its_edges(world: World) -> None:
    sme = world.org().org
    csirt = world.org(Role.csirt).org
    world.asset(sme, AssetKind.cidr, "203.0.113.0/24")
    world.asset(sme, AssetKind.cidr, "2001:db8:1::/48")
    world.publish(csirt, *(indicator(f"[ipv4-addr:value = '{ip}']") for ip in (
        "203.0.113.0", "203.0.113.255", "203.0.112.255", "203.0.114.0")),
        indicator("[ipv6-addr:value = '2001:db8:1:ffff:ffff:ffff:ffff:ffff']"),
        indicator("[ipv6-addr:value = '2001:db8:2::']"),
        indicator("[ipv4-addr:value = '0.0.0.0/0']"))  # names everyone: says nothing about anyone
    world.match()
    assert {a.matched for a in world.alerts(sme)} == {"203.0.113.0", "203.0.113.255",
                                                      "2001:db8:1:ffff:ffff:ffff:ffff:ffff"}
    assert len(world.alerts(sme)) == 3  # once per (object, asset)


def test_as_numbers_match_indicator_patterns(world: World) -> None:
    sme = world.org().org
    csirt = world.org(Role.csirt).org
    world.asset(sme, AssetKind.asn, "AS64500")
    world.publish(csirt, indicator("[autonomous-system:number = 64500]"),
                  indicator("[autonomous-system:number = 64501]"))
    world.match()
    assert [a.matched for a in world.alerts(sme)] == ["AS64500"]


def test_benign_values_never_alert(world: World) -> None:
    sme = world.org().org
    csirt = world.org(Role.csirt).org
    world.asset(sme, AssetKind.cidr, "8.8.8.0/24")
    world.publish(csirt, indicator("[ipv4-addr:value = '8.8.8.8']"), indicator("[ipv4-addr:value = '8.8.8.9']"))
    world.match()
    assert [a.matched for a in world.alerts(sme)] == ["8.8.8.9"]


def test_an_object_the_organisation_may_not_read_never_becomes_an_alert(world: World) -> None:
    sme, other = world.org().org, world.org().org
    csirt = world.org(Role.csirt).org
    world.asset(sme, AssetKind.domain, "bakery.test")
    pattern = "[domain-name:value = 'bakery.test']"
    world.publish(csirt, indicator(pattern, markings=[TLP2["red"]], x_exchange_recipients=[other.identity_id]),
                  indicator(pattern, markings=[TLP2["amber"]]))  # a community collection: AMBER reaches nobody
    named = indicator(pattern, markings=[TLP2["red"]], x_exchange_recipients=[sme.identity_id])
    world.publish(csirt, named)
    world.match()
    assert [a.object_id for a in world.alerts(sme)] == [named["id"]]


def test_an_unverified_asset_gets_one_please_verify_notice_and_the_detail_once_verified(world: World) -> None:
    sme = world.org().org
    csirt = world.org(Role.csirt).org
    asset = world.asset(sme, AssetKind.domain, "bakery.test", verified=False)
    world.publish(csirt, indicator("[domain-name:value = 'a.bakery.test']"),
                  indicator("[domain-name:value = 'b.bakery.test']"))
    outcome = world.match()
    assert (outcome.created, outcome.withheld) == (2, 2)
    assert [a.withheld for a in world.alerts(sme)] == [True, True]
    assert [kind for _, kind in world.events(sme)] == ["created"]  # one notice for the asset, not per object
    world.verify(asset)
    world.match()
    assert [a.withheld for a in world.alerts(sme)] == [False, False]
    assert [kind for _, kind in world.events(sme)] == ["created", "escalated", "escalated"]
