"""Write rules: an organisation publishes only as itself, only the producer versions or revokes an
object, named recipients must exist; and what named recipients and re-marking mean for readers."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from exchange.orgs.models import Role
from exchange.store.ingest import ingest
from exchange.store.reads import get_collection
from tests.factories import TLP2, bundle, indicator
from tests.orgs_factory import MakeOrg, auth


def publish(client: TestClient, key: str, *objects: object) -> list[dict[str, str]]:
    r = client.post("/api/v1/objects", json=bundle(*objects), headers=auth(key))
    assert r.status_code == 200, r.text
    results: list[dict[str, str]] = r.json()["results"]
    return results


def test_an_organisation_publishes_only_as_itself(client: TestClient, make_org: MakeOrg) -> None:
    org, key = make_org(Role.csirt)
    other, _ = make_org(Role.csirt)
    unsigned, own, forged = (indicator(), indicator(created_by_ref=org.identity_id),
                             indicator(created_by_ref=other.identity_id))
    results = publish(client, key, unsigned, own, forged)
    assert [r["status"] for r in results] == ["added", "added", "rejected"]
    assert "publishes only as itself" in results[2]["message"]
    stored = client.get(f"/api/v1/objects/{unsigned['id']}", headers=auth(key)).json()["objects"][0]
    assert stored["created_by_ref"] == org.identity_id
    # a marking definition names its author too: the publisher's own, never another member's
    statement = {"type": "marking-definition", "spec_version": "2.1", "id": f"marking-definition--{uuid.uuid4()}",
                 "created": "2024-01-01T00:00:00.000Z", "created_by_ref": other.identity_id,
                 "definition_type": "statement", "definition": {"statement": "Copyright Example"}}
    assert publish(client, key, statement)[0]["status"] == "rejected"
    own = statement | {"id": f"marking-definition--{uuid.uuid4()}", "created_by_ref": org.identity_id}
    assert publish(client, key, own)[0]["status"] == "added"


def test_admins_may_load_objects_authored_by_anyone(client: TestClient, make_org: MakeOrg) -> None:
    other, _ = make_org(Role.csirt)
    _, admin = make_org(Role.admin)
    foreign = indicator(created_by_ref=other.identity_id)
    assert publish(client, admin, foreign)[0]["status"] == "added"


OASIS_AUTHOR = "identity--a463ffb3-1bd9-4d94-b02d-74e4f1658283"  # the author of the OASIS example bundles


def test_csirts_and_isacs_relay_non_members_objects_keeping_their_author(client: TestClient,
                                                                         make_org: MakeOrg) -> None:
    """Decision 0003, "Relaying": the relayer is the producer, the original author stays the author."""
    csirt, csirt_key = make_org(Role.csirt)
    _, isac_key = make_org(Role.isac)
    member = make_org(Role.sme).org
    relayed = indicator(created_by_ref=OASIS_AUTHOR)
    author = {"type": "identity", "spec_version": "2.1", "id": OASIS_AUTHOR, "created": "2017-01-20T00:00:00.000Z",
              "modified": "2017-01-20T00:00:00.000Z", "name": "ACME", "identity_class": "organization"}
    assert [r["status"] for r in publish(client, csirt_key, author, relayed)] == ["added", "added"]
    stored = client.get(f"/api/v1/objects/{relayed['id']}", headers=auth(csirt_key)).json()["objects"][0]
    assert stored["created_by_ref"] == OASIS_AUTHOR
    # an isac relays too; a member's identity stays refused to both
    assert publish(client, isac_key, indicator(created_by_ref=OASIS_AUTHOR))[0]["status"] == "added"
    impersonation = publish(client, isac_key, indicator(created_by_ref=member.identity_id))[0]
    assert (impersonation["status"], "publishes only as itself" in impersonation["message"]) == ("rejected", True)
    # versions key on the relaying producer: another relayer may not version what this one relayed
    newer = dict(relayed, modified="2024-06-01T00:00:00.000Z")
    assert publish(client, isac_key, newer)[0]["message"].split(":")[0] == "producer"
    assert publish(client, csirt_key, newer)[0]["status"] == "added"


def test_an_sme_does_not_relay(session: Session, make_org: MakeOrg) -> None:
    """Checked on the write path itself: an SME writes only to collections granted to it."""
    sme = session.merge(make_org(Role.sme).org)
    (refused,) = ingest(session, [indicator(created_by_ref=OASIS_AUTHOR)], collection=get_collection(session),
                        org=sme).results
    assert (refused.status, "publishes only as itself" in refused.message) == ("rejected", True)


def test_only_the_producer_versions_or_revokes(client: TestClient, make_org: MakeOrg) -> None:
    _, producer = make_org(Role.csirt)
    _, other = make_org(Role.isac)
    original = indicator()
    publish(client, producer, original)
    hijack = dict(original, modified="2024-06-01T00:00:00.000Z", name="hijacked")
    hijack.pop("created_by_ref", None)
    refused = publish(client, other, hijack)[0]
    assert (refused["status"], refused["message"].split(":")[0]) == ("rejected", "producer")
    revoke_by_other = dict(hijack, revoked=True)
    assert publish(client, other, revoke_by_other)[0]["status"] == "rejected"
    current = client.get(f"/api/v1/objects/{original['id']}", headers=auth(producer)).json()["objects"][0]
    assert current["name"] == "test indicator"
    revoked = dict(original, modified="2024-06-01T00:00:00.000Z", revoked=True)
    assert publish(client, producer, revoked)[0]["status"] == "added"


def test_named_recipients_alone_read_red_and_amber_strict(client: TestClient, make_org: MakeOrg) -> None:
    _, producer = make_org(Role.csirt)
    named, named_key = make_org(Role.sme)
    _, bystander = make_org(Role.sme)
    red = indicator(markings=[TLP2["red"]], x_exchange_recipients=[named.identity_id])
    strict = indicator(markings=[TLP2["amber+strict"]], x_exchange_recipients=[named.identity_id])
    assert [r["status"] for r in publish(client, producer, red, strict)] == ["added", "added"]
    for o in (red, strict):
        assert client.get(f"/api/v1/objects/{o['id']}", headers=auth(named_key)).status_code == 200
        assert client.get(f"/api/v1/objects/{o['id']}", headers=auth(bystander)).status_code == 404
    listed = client.get("/api/v1/objects", headers=auth(bystander)).json()["objects"]
    assert {o["id"] for o in listed}.isdisjoint({red["id"], strict["id"]})
    looked_up = client.get("/api/v1/observables", params={"value": "evil.example"}, headers=auth(named_key)).json()
    assert {m["object_id"] for m in looked_up["matches"]} == {red["id"], strict["id"]}


def test_recipients_must_be_organisations_of_the_hub(client: TestClient, make_org: MakeOrg) -> None:
    _, key = make_org(Role.csirt)
    unknown = indicator(markings=[TLP2["red"]], x_exchange_recipients=[f"identity--{uuid.uuid4()}"])
    malformed = indicator(markings=[TLP2["red"]], x_exchange_recipients="everyone")
    results = publish(client, key, unknown, malformed)
    assert [r["status"] for r in results] == ["rejected", "rejected"]
    assert "no organisation here" in results[0]["message"]
    assert "x_exchange_recipients" in results[1]["message"]


def test_re_marking_stricter_hides_the_older_versions(client: TestClient, make_org: MakeOrg) -> None:
    _, producer = make_org(Role.csirt)
    _, reader = make_org(Role.sme)
    v1 = indicator(markings=[TLP2["green"]])
    v2 = dict(v1, modified="2024-03-01T00:00:00.000Z", object_marking_refs=[TLP2["red"]])
    publish(client, producer, v1)
    assert client.get(f"/api/v1/objects/{v1['id']}", headers=auth(reader)).status_code == 200
    publish(client, producer, v2)
    r = client.get(f"/api/v1/objects/{v1['id']}", params={"versions": "all"}, headers=auth(reader))
    assert r.status_code == 404
    mine = client.get(f"/api/v1/objects/{v1['id']}", params={"versions": "all"}, headers=auth(producer))
    assert len(mine.json()["objects"]) == 2


def test_an_id_cannot_be_taken_over_through_another_collection(client: TestClient, make_org: MakeOrg) -> None:
    _, producer = make_org(Role.csirt)
    other, other_key = make_org(Role.isac)
    original = indicator()
    publish(client, producer, original)
    own = client.post("/api/v1/collections", json={"title": "B's own"}, headers=auth(other_key)).json()["id"]
    takeover = dict(original, modified="2024-06-01T00:00:00.000Z", revoked=True)
    r = client.post(f"/api/v1/objects?collection={own}", json=bundle(takeover), headers=auth(other_key))
    assert r.json()["results"][0]["message"].startswith("producer")
    assert client.get(f"/api/v1/objects/{original['id']}", headers=auth(producer)).json()["objects"] == [
        dict(original, created_by_ref=client.get("/api/v1/me", headers=auth(producer)).json()["org"]["identity"])]


def test_an_organisation_cannot_publish_another_ones_identity(client: TestClient, make_org: MakeOrg) -> None:
    victim, _ = make_org(Role.csirt)
    me, key = make_org(Role.isac)
    fake = {"type": "identity", "spec_version": "2.1", "id": victim.identity_id, "name": "Victim (not really)",
            "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
            "identity_class": "organization"}
    own = dict(fake, id=me.identity_id, name="Me")
    results = publish(client, key, fake, own)
    assert [r["status"] for r in results] == ["rejected", "added"]
    assert results[0]["message"].startswith("identity")


def test_collections_one_may_not_see_look_absent(client: TestClient, make_org: MakeOrg) -> None:
    isac, isac_key = make_org(Role.isac)
    _, outsider = make_org(Role.csirt)
    group = client.post("/api/v1/groups", json={"name": "closed"}, headers=auth(isac_key)).json()["id"]
    hidden = client.post("/api/v1/collections", json={"title": "closed", "sharing_group": group},
                         headers=auth(isac_key)).json()["id"]
    for cid in (hidden, "00000000-0000-4000-8000-000000000000"):
        answers = [client.post(f"/api/v1/objects?collection={cid}", json=bundle(indicator()), headers=auth(outsider)),
                   client.get(f"/api/v1/objects?collection={cid}", headers=auth(outsider))]
        assert [(a.status_code, a.json()["description"]) for a in answers] == [
            (404, f"no collection {cid!r}")] * 2
    for gid in (group, "00000000-0000-4000-8000-000000000000"):
        r = client.post("/api/v1/collections", json={"title": "x", "sharing_group": gid}, headers=auth(outsider))
        assert (r.status_code, r.json()["description"]) == (404, f"no sharing group {gid!r}")


def test_the_same_sco_reported_by_two_organisations_is_kept_for_each(client: TestClient, make_org: MakeOrg) -> None:
    _, red_reporter = make_org(Role.csirt)
    _, green_reporter = make_org(Role.csirt)
    _, reader = make_org(Role.sme)
    sco = {"type": "ipv4-addr", "spec_version": "2.1", "id": "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd",
           "value": "203.0.113.5"}
    assert publish(client, red_reporter, dict(sco, object_marking_refs=[TLP2["red"]]))[0]["status"] == "added"
    # the second reporter learns nothing of the first copy, and its own copy is what others see
    assert publish(client, green_reporter, dict(sco, object_marking_refs=[TLP2["green"]]))[0]["status"] == "added"
    assert publish(client, green_reporter, dict(sco, object_marking_refs=[TLP2["green"]]))[0]["status"] == "duplicate"
    seen = client.get(f"/api/v1/objects/{sco['id']}", headers=auth(reader)).json()["objects"]
    assert [o["object_marking_refs"] for o in seen] == [[TLP2["green"]]]
    hits = client.get("/api/v1/observables", params={"value": "203.0.113.5"}, headers=auth(reader)).json()
    assert [m["tlp"] for m in hits["matches"]] == ["green"]
