"""Alerts over REST and one-click links: each organisation sees its own, answers become sightings the
producing CSIRT reads (and nobody else), false positives suppress repeats, the producer sees its reach."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event, select

from exchange.alerts import links
from exchange.alerts.models import Alert, AlertState
from exchange.assets.models import AssetKind
from exchange.orgs.models import Role
from tests.alerts.conftest import World
from tests.factories import indicator
from tests.orgs_factory import OrgKey


def _alerted(world: World, *domains: str, verified: bool = True) -> tuple[OrgKey, OrgKey, list[dict[str, Any]]]:
    sme, csirt = world.org(), world.org(Role.csirt)
    world.asset(sme.org, AssetKind.domain, "bakery.test", verified=verified)
    published = [indicator(f"[domain-name:value = '{d}']") for d in domains]
    world.publish(csirt.org, *published)
    world.match()
    return sme, csirt, published


def _sightings(client: TestClient, who: OrgKey) -> list[dict[str, Any]]:
    body = client.get("/api/v1/objects?type=sighting", headers=who.headers).json()
    objects: list[dict[str, Any]] = body["objects"]
    return objects


def test_list_pages_filters_and_hides_other_organisations_alerts(world: World, client: TestClient) -> None:
    sme, _, published = _alerted(world, "a.bakery.test", "b.bakery.test", "c.bakery.test")
    other = world.org()
    first = client.get("/api/v1/alerts?limit=2", headers=sme.headers).json()
    second = client.get(f"/api/v1/alerts?limit=2&next={first['next']}", headers=sme.headers).json()
    assert first["more"] is True
    assert second["more"] is False
    listed = first["alerts"] + second["alerts"]
    assert sorted(a["object_id"] for a in listed) == sorted(p["id"] for p in published)
    assert {(a["kind"], a["state"], a["asset"], a["withheld"]) for a in listed} == {
        ("listed", "new", "bakery.test", False)}
    assert client.get("/api/v1/alerts?state=fixed", headers=sme.headers).json()["alerts"] == []
    assert client.get("/api/v1/alerts", headers=other.headers).json()["alerts"] == []
    assert client.get(f"/api/v1/alerts/{listed[0]['id']}", headers=other.headers).status_code == 404
    assert client.get("/api/v1/alerts?state=bogus", headers=sme.headers).status_code == 422
    assert client.get("/api/v1/alerts?limt=2", headers=sme.headers).status_code == 400


def test_a_withheld_alert_shows_nothing_about_the_object_and_cannot_be_answered(world: World,
                                                                                client: TestClient) -> None:
    sme, _, _ = _alerted(world, "a.bakery.test", verified=False)
    [alert] = client.get("/api/v1/alerts", headers=sme.headers).json()["alerts"]
    assert (alert["withheld"], alert["object_id"], alert["matched"], alert["object_version"]) == (
        True, None, None, None)
    answered = client.post(f"/api/v1/alerts/{alert['id']}/answer", json={"answer": "fixed"}, headers=sme.headers)
    assert answered.status_code == 400
    assert "verify the asset first" in answered.json()["description"]


def test_an_answer_becomes_a_sighting_only_the_producer_reads_naming_the_sme_only_if_it_agreed(
        world: World, client: TestClient) -> None:
    sme, csirt, published = _alerted(world, "a.bakery.test", "b.bakery.test")
    bystander = world.org(Role.csirt)
    alerts = {a["object_id"]: a["id"] for a in client.get("/api/v1/alerts", headers=sme.headers).json()["alerts"]}
    quiet = client.post(f"/api/v1/alerts/{alerts[published[0]['id']]}/answer", json={"answer": "fixed"},
                        headers=sme.headers)
    assert (quiet.status_code, quiet.json()["state"]) == (200, "fixed")
    loud = client.post(f"/api/v1/alerts/{alerts[published[1]['id']]}/answer",
                       json={"answer": "need-help", "named": True}, headers=sme.headers)
    assert loud.status_code == 200
    seen = {s["sighting_of_ref"]: s for s in _sightings(client, csirt)}
    assert seen.keys() == {p["id"] for p in published}
    anonymous, named = seen[published[0]["id"]], seen[published[1]["id"]]
    assert (anonymous["x_exchange_answer"], "where_sighted_refs" in anonymous, "created_by_ref" in anonymous) == (
        "fixed", False, False)
    assert (named["x_exchange_answer"], named["where_sighted_refs"]) == ("need-help", [sme.org.identity_id])
    assert _sightings(client, bystander) == []


def test_false_positive_suppresses_the_value_for_that_asset(world: World, client: TestClient) -> None:
    sme, csirt, _ = _alerted(world, "a.bakery.test")
    [alert] = client.get("/api/v1/alerts", headers=sme.headers).json()["alerts"]
    client.post(f"/api/v1/alerts/{alert['id']}/answer", json={"answer": "false-positive"}, headers=sme.headers)
    world.publish(csirt.org, indicator("[domain-name:value = 'a.bakery.test']"),
                  indicator("[domain-name:value = 'z.bakery.test']"))
    world.match()
    assert sorted(a.matched for a in world.alerts(sme.org)) == ["a.bakery.test", "z.bakery.test"]


def test_the_producer_sees_its_reach_and_others_do_not(world: World, client: TestClient) -> None:
    sme, csirt, published = _alerted(world, "a.bakery.test")
    second = world.org()
    world.asset(second.org, AssetKind.domain, "a.bakery.test")
    world.publish(csirt.org, dict(published[0], modified="2024-05-01T00:00:00.000Z"))  # reaches the second org
    world.match()
    [alert] = client.get("/api/v1/alerts", headers=sme.headers).json()["alerts"]
    client.post(f"/api/v1/alerts/{alert['id']}/answer", json={"answer": "fixed"}, headers=sme.headers)
    url = f"/api/v1/alerts/reach?object_id={published[0]['id']}"
    reach = client.get(url, headers=csirt.headers).json()
    assert {k: reach[k] for k in ("reached", "acknowledged", "fixed", "false_positive")} == {
        "reached": 2, "acknowledged": 1, "fixed": 1, "false_positive": 0}
    assert reach["median_hours_to_fix"] is not None
    assert client.get(url, headers=sme.headers).status_code == 404


def test_one_click_links_confirm_on_post_only_and_refuse_tampering(world: World, client: TestClient) -> None:
    sme, csirt, _ = _alerted(world, "a.bakery.test")
    with world.sessions() as s:
        alert = s.scalars(select(Alert).where(Alert.org_pk == sme.org.pk)).one()
        urls = links.answer_urls(s, alert, "https://hub.test/")
        expired = links.token(s, alert.pk, AlertState.fixed, expires=1)
    assert set(urls) == {"acknowledged", "fixed", "false-positive", "not-ours", "need-help"}
    path = urls["fixed"].removeprefix("https://hub.test")
    page = client.get(path)
    assert page.status_code == 200
    assert "<form method=post>" in page.text
    assert [a.state for a in world.alerts(sme.org)] == ["new"]  # a mail scanner's GET changes nothing
    forged = path.replace(".fixed.", ".not-ours.")
    assert client.post(forged).status_code == 404
    assert client.post(f"/a/{expired}").status_code == 404
    assert client.post(path).status_code == 200
    assert [a.state for a in world.alerts(sme.org)] == ["fixed"]
    assert [s["x_exchange_answer"] for s in _sightings(client, csirt)] == ["fixed"]


def test_a_page_of_alerts_reads_its_assets_with_the_alerts(world: World, client: TestClient) -> None:
    """Each listed alert names its asset; the assets come in the alerts' own statement, not one query per alert
    (a page of 500 alerts about 500 assets was 500 queries more)."""
    sme, csirt = world.org(), world.org(Role.csirt)
    shops = sorted(["alpha-bakery.test", "quiet-harbour.test", "zinc-works.test", "mountain-view.test",
                    "river-mill.test", "orchard-farm.test"])
    for shop in shops:
        world.asset(sme.org, AssetKind.domain, shop)
    world.publish(csirt.org, *(indicator(f"[domain-name:value = 'x.{shop}']") for shop in shops))
    world.match()
    sent: list[str] = []

    def listener(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    engine = client.app.state.engine  # type: ignore[attr-defined]
    event.listen(engine, "before_cursor_execute", listener)
    try:
        listed = client.get("/api/v1/alerts", headers=sme.headers).json()["alerts"]
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert sorted(a["asset"] for a in listed) == shops
    assert [q for q in sent if "FROM asset" in q] == [], "assets are read with the alerts"
    assert len([q for q in sent if "JOIN asset" in q]) == 1
