"""Issue 14, items 1, 3 and 4: the write rules hold on every write path (TAXII, queued TAXII, REST,
CLI import) against the forgeries an outside review found.

- A bundle inside ``objects`` was stored as an object, so the objects inside it escaped every rule:
  a second CSIRT "revoked" the first one's indicator, and a RED indicator was stored as GREEN.
- Upper-case ids validate (RFC 4122 allows them) but did not match the hub's lower-case ones:
  TLP:RED read as unmarked, another member's identity not recognised as such.
- ``created_by_ref`` was only checked on objects with ``created``: SCOs, custom objects without it
  and marking definitions could name another organisation as their author; a standard TLP id could
  carry content of one's own.

The TAXII tests talk to a live ``exchange serve`` (real HTTP, real database).
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from exchange.cli import app as cli
from exchange.core.settings import Settings
from exchange.orgs.models import Role
from exchange.stix import tlp
from tests.factories import TLP1, TLP2, bundle, indicator
from tests.orgs_factory import MakeOrg, auth
from tests.taxii.live import QUEUE_FROM, Hub, Member, expect, many, obj, objs, versions

RED_UPPER = TLP2["red"].upper().replace("MARKING-DEFINITION", "marking-definition")


def upper(stix_id: str) -> str:
    """The same id with its UUID in upper case, as RFC 4122 lets a producer write it."""
    kind, _, uid = stix_id.partition("--")
    return f"{kind}--{uid.upper()}"


def wrapped(*objects: dict[str, Any]) -> dict[str, Any]:
    return {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": list(objects)}


def failures(hub: Hub, who: Member, objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """POST an envelope over TAXII, wait for the final status (queued or not); its failures."""
    body = expect(hub.post(objs(), who, {"objects": objects}), 202)
    if body["status"] == "pending":
        body = hub.completed(who, body["id"])
    assert body["status"] == "complete", body
    found: list[dict[str, Any]] = body["failures"]
    return found


# --- item 1: a bundle is not an object ------------------------------------------------------------

@pytest.mark.parametrize("queued", [False, True], ids=["direct", "queued"])
def test_a_wrapped_revocation_of_another_csirts_indicator_is_refused_over_taxii(hub: Hub, queued: bool) -> None:
    first, second, sme = hub.member(Role.csirt), hub.member(Role.csirt), hub.member(Role.sme)
    original = indicator(markings=[TLP2["green"]], created_by_ref=first.identity)
    hub.publish(first, [original])
    forged = original | {"modified": "2024-06-01T00:00:00.000Z", "revoked": True}
    padding = many(QUEUE_FROM) if queued else []  # this many objects take the queued path
    wrapper = wrapped(forged)
    failed = failures(hub, second, [*padding, wrapper])
    assert [(f["id"], f["message"]) for f in failed] == \
        [(wrapper["id"], "type: a bundle is not a STIX object; post its objects instead")]
    read = expect(hub.get(versions(original["id"]), sme))
    assert len(read["versions"]) == 1
    current = expect(hub.get(obj(original["id"]), sme))["objects"]
    assert current == [original]


def test_a_red_indicator_wrapped_in_a_bundle_is_refused_and_not_stored(hub: Hub) -> None:
    csirt, sme = hub.member(Role.csirt), hub.member(Role.sme)
    red = indicator(markings=[TLP2["red"]], created_by_ref=csirt.identity)
    failed = failures(hub, csirt, [wrapped(red)])
    assert "a bundle is not a STIX object" in failed[0]["message"]
    assert hub.get(obj(red["id"]), csirt).status_code == 404  # nothing stored, not even for its producer
    listing = expect(hub.get(objs(), sme))
    assert all(o["type"] != "bundle" for o in listing.get("objects", []))


def test_a_wrapped_forgery_is_refused_over_rest(client: TestClient, make_org: MakeOrg) -> None:
    first, first_key = make_org(Role.csirt)
    _, second_key = make_org(Role.csirt)
    _, sme_key = make_org(Role.sme)
    original = indicator(markings=[TLP2["green"]])
    assert client.post("/api/v1/objects", json=bundle(original), headers=auth(first_key)).status_code == 200
    forged = original | {"modified": "2024-06-01T00:00:00.000Z", "revoked": True, "created_by_ref": first.identity_id}
    red = indicator(markings=[TLP2["red"]])
    r = client.post("/api/v1/objects", json=bundle(wrapped(forged), wrapped(red)), headers=auth(second_key))
    assert r.status_code == 200, r.text
    assert [(x["status"], x["message"].split(";")[0]) for x in r.json()["results"]] == \
        [("rejected", "type: a bundle is not a STIX object")] * 2
    seen = client.get(f"/api/v1/objects/{original['id']}", params={"versions": "all"}, headers=auth(sme_key))
    assert [o.get("revoked", False) for o in seen.json()["objects"]] == [False]
    assert client.get(f"/api/v1/objects/{red['id']}", headers=auth(second_key)).status_code == 404


def test_a_nested_bundle_is_refused_by_cli_import(settings: Settings, tmp_path: Path, make_org: MakeOrg) -> None:
    org, _ = make_org(Role.csirt)
    red = indicator(markings=[TLP2["red"]])
    plain = indicator()
    for who in ((), ("--org", org.slug)):  # the operator's own import too: a bundle is never an object
        source = tmp_path / f"feed{len(who)}.json"
        source.write_bytes(orjson.dumps(bundle(plain | {"id": f"indicator--{uuid.uuid4()}"}, wrapped(red))))
        result = CliRunner().invoke(cli, ["import", str(source), *who])
        assert "a bundle is not a STIX object" in result.output, result.output
    exported = orjson.loads(CliRunner().invoke(cli, ["export"]).stdout)["objects"]
    assert sorted(o["type"] for o in exported) == ["indicator", "indicator"], exported


# --- item 3: identifiers are canonical --------------------------------------------------------------

def test_upper_case_ids_are_refused_where_a_rule_depends_on_them(hub: Hub) -> None:
    csirt, other, sme = hub.member(Role.csirt), hub.member(Role.csirt), hub.member(Role.sme)
    red_upper = indicator(markings=[upper(TLP2["red"])])
    red1_upper = indicator(markings=[upper(TLP1["red"])])
    granular = indicator(granular_markings=[{"marking_ref": upper(TLP2["red"]), "selectors": ["pattern"]}])
    foreign_author = indicator(created_by_ref=upper(other.identity))
    foreign_identity = {"type": "identity", "spec_version": "2.1", "id": upper(other.identity),
                        "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
                        "name": "impostor", "identity_class": "organization"}
    recipient = indicator(markings=[TLP2["red"]], x_exchange_recipients=[upper(sme.identity)])
    upper_id = indicator(stix_id=upper(f"indicator--{uuid.uuid4()}"))
    sent = [red_upper, red1_upper, granular, foreign_author, foreign_identity, recipient, upper_id]
    failed = failures(hub, csirt, sent)
    assert [f["id"] for f in failed] == [o["id"] for o in sent]
    for f in failed:
        assert f["message"].startswith(("identifier-case:", "x_exchange_recipients:")), f
    assert "is not canonical" in failed[0]["message"]
    for o in sent:
        assert hub.get(obj(o["id"].lower()), csirt).status_code == 404


def test_canonical_ids_still_work(hub: Hub) -> None:
    csirt, sme = hub.member(Role.csirt), hub.member(Role.sme)
    red = indicator(markings=[TLP2["red"]], x_exchange_recipients=[sme.identity])
    hub.publish(csirt, [red])
    assert expect(hub.get(obj(red["id"]), sme))["objects"][0]["id"] == red["id"]
    assert hub.get(obj(red["id"]), hub.member(Role.sme)).status_code == 404


# --- item 4: authorship on every object, standard TLP definitions as published ------------------

def test_another_organisations_identity_is_refused_on_every_object_that_names_an_author(hub: Hub) -> None:
    csirt, other = hub.member(Role.csirt), hub.member(Role.csirt)
    custom = {"type": "x-advisory", "spec_version": "2.1", "id": f"x-advisory--{uuid.uuid4()}",
              "x_text": "patch now", "created_by_ref": other.identity}
    sco = {"type": "domain-name", "spec_version": "2.1", "id": f"domain-name--{uuid.uuid4()}",
           "value": "forged.example", "created_by_ref": other.identity}
    statement = {"type": "marking-definition", "spec_version": "2.1", "id": f"marking-definition--{uuid.uuid4()}",
                 "created": "2024-01-01T00:00:00.000Z", "created_by_ref": other.identity,
                 "definition_type": "statement", "definition": {"statement": "Copyright Example"}}
    failed = failures(hub, csirt, [custom, sco, statement])
    assert [f["id"] for f in failed] == [custom["id"], sco["id"], statement["id"]]
    assert all("publishes only as itself" in f["message"] for f in failed)
    own = [o | {"id": str(o["id"]).split("--")[0] + f"--{uuid.uuid4()}", "created_by_ref": csirt.identity}
           for o in (custom, sco, statement)]
    unsigned = {k: v for k, v in sco.items() if k != "created_by_ref"} | {"id": f"domain-name--{uuid.uuid4()}"}
    hub.publish(csirt, [*own, unsigned])
    stored = expect(hub.get(obj(unsigned["id"]), csirt))["objects"][0]
    assert "created_by_ref" not in stored  # an SCO is not signed by the hub, only checked


@pytest.mark.parametrize("level", ["red", "clear"])
def test_a_standard_tlp_id_carries_only_its_oasis_definition(hub: Hub, level: str) -> None:
    csirt = hub.member(Role.csirt)
    canonical = tlp.DEFINITIONS[TLP2[level]]
    relabelled = canonical | {"name": "TLP:GREEN"}
    statement = {"type": "marking-definition", "spec_version": "2.1", "id": TLP2[level],
                 "created": "2024-01-01T00:00:00.000Z", "definition_type": "statement",
                 "definition": {"statement": "share freely"}}
    tlp1_statement = statement | {"id": TLP1["red"]}
    failed = failures(hub, csirt, [relabelled, statement, tlp1_statement])
    assert [f["message"].split(":")[0] for f in failed] == ["tlp-definition"] * 3
    hub.publish(csirt, [dict(canonical), dict(tlp.DEFINITIONS[TLP1["white"]])])
