"""Sharing groups managed by their owner, group collections whose AMBER reaches the group, and the
append-only audit log (API, CLI, and the database triggers)."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from exchange.cli import app as cli
from exchange.core import db
from exchange.core.settings import Settings
from exchange.orgs import service
from exchange.orgs.models import Role
from exchange.sharing import groups
from tests.factories import TLP2, bundle, indicator
from tests.orgs_factory import MakeOrg, auth


def test_the_owner_manages_membership_and_others_cannot(client: TestClient, make_org: MakeOrg) -> None:
    isac, owner_key = make_org(Role.isac)
    member, member_key = make_org(Role.sme)
    outsider, outsider_key = make_org(Role.sme)
    group = client.post("/api/v1/groups", json={"name": "Energy ISAC"}, headers=auth(owner_key)).json()
    assert (group["owner"], group["members"]) == (isac.slug, [isac.slug])
    added = client.put(f"/api/v1/groups/{group['id']}/members/{member.slug}", headers=auth(owner_key))
    assert added.json()["members"] == sorted([isac.slug, member.slug])
    # a member sees the group but may not change it; an outsider does not even see it
    assert client.get(f"/api/v1/groups/{group['id']}", headers=auth(member_key)).status_code == 200
    assert client.put(f"/api/v1/groups/{group['id']}/members/{outsider.slug}",
                      headers=auth(member_key)).status_code == 403
    assert client.get(f"/api/v1/groups/{group['id']}", headers=auth(outsider_key)).status_code == 404
    assert client.get("/api/v1/groups", headers=auth(outsider_key)).json() == []
    assert client.delete(f"/api/v1/groups/{group['id']}/members/{isac.slug}",
                         headers=auth(owner_key)).status_code == 400
    removed = client.delete(f"/api/v1/groups/{group['id']}/members/{member.slug}", headers=auth(owner_key))
    assert removed.json()["members"] == [isac.slug]


def test_only_coordinators_create_groups_and_add_members(client: TestClient, make_org: MakeOrg,
                                                        sessions: sessionmaker[Session]) -> None:
    """An SME could enrol any organisation in its group, without consent, and so choose who gets its
    AMBER (and who is listed with it). csirt, isac and admin organisations coordinate; SMEs do not."""
    sme, sme_key = make_org(Role.sme)
    victim, _ = make_org(Role.sme)
    refused = client.post("/api/v1/groups", json={"name": "mine"}, headers=auth(sme_key))
    assert refused.status_code == 403
    assert refused.json()["description"] == (
        "only csirt, isac and admin organisations own sharing groups and add members to them "
        f"(they coordinate trust communities); {sme.slug!r} is a sme organisation")
    assert client.get("/api/v1/groups", headers=auth(sme_key)).json() == []
    for role in (Role.csirt, Role.isac, Role.admin):
        _, key = make_org(role)
        assert client.post("/api/v1/groups", json={"name": role.value}, headers=auth(key)).status_code == 201
    # a group an SME owned before the rule: it may no longer add anyone, but may still shrink it
    with db.transaction(sessions) as s:
        legacy = groups.create(s, service.get_by_slug(s, sme.slug), name="old").id
    member_path = f"/api/v1/groups/{legacy}/members/{victim.slug}"
    added = client.put(member_path, headers=auth(sme_key))
    assert (added.status_code, added.json()["description"]) == (403, refused.json()["description"])
    _, admin_key = make_org(Role.admin)
    assert client.put(member_path, headers=auth(admin_key)).json()["members"] == sorted([sme.slug, victim.slug])
    assert client.delete(member_path, headers=auth(sme_key)).json()["members"] == [sme.slug]


def test_removing_a_non_member_says_so(client: TestClient, make_org: MakeOrg, settings: Settings) -> None:
    _, isac_key = make_org(Role.isac)
    outsider, _ = make_org(Role.sme)
    group_id = client.post("/api/v1/groups", json={"name": "g"}, headers=auth(isac_key)).json()["id"]
    removed = client.delete(f"/api/v1/groups/{group_id}/members/{outsider.slug}", headers=auth(isac_key))
    assert (removed.status_code, removed.json()["description"]) == (
        404, f"{outsider.slug!r} is not a member of sharing group {group_id!r}")
    result = CliRunner().invoke(cli, ["group", "remove", group_id, outsider.slug],
                                env={"EXCHANGE_DATABASE_URL": settings.database_url})
    assert result.exit_code == 1
    assert "is not a member" in result.output
    assert "removed" not in result.output
    _, admin_key = make_org(Role.admin)
    logged = client.get("/api/v1/audit?action=group.remove_member", headers=auth(admin_key)).json()["entries"]
    assert group_id not in {e["target"] for e in logged}


def test_the_cli_makes_only_coordinators_group_owners(make_org: MakeOrg, settings: Settings) -> None:
    sme, _ = make_org(Role.sme)
    csirt, _ = make_org(Role.csirt)
    env = {"EXCHANGE_DATABASE_URL": settings.database_url}
    runner = CliRunner()
    refused = runner.invoke(cli, ["group", "create", "--owner", sme.slug, "--name", "x"], env=env)
    assert refused.exit_code == 1
    assert "only csirt, isac and admin organisations own sharing groups" in " ".join(refused.output.split())
    made = runner.invoke(cli, ["group", "create", "--owner", csirt.slug, "--name", "x", "--json"], env=env)
    assert made.exit_code == 0, made.output
    # the operator is the hub admin: it adds the SME to the CSIRT's group
    assert runner.invoke(cli, ["group", "add", json.loads(made.stdout)["id"], sme.slug], env=env).exit_code == 0
    listed = json.loads(runner.invoke(cli, ["group", "list", "--json"], env=env).stdout)
    assert [g["members"] for g in listed] == [sorted([csirt.slug, sme.slug])]


def test_amber_in_a_group_collection_reaches_the_group_and_no_one_else(client: TestClient, make_org: MakeOrg) -> None:
    isac, isac_key = make_org(Role.isac)
    member, member_key = make_org(Role.sme)
    _, outsider_key = make_org(Role.csirt)
    group = client.post("/api/v1/groups", json={"name": "members"}, headers=auth(isac_key)).json()
    client.put(f"/api/v1/groups/{group['id']}/members/{member.slug}", headers=auth(isac_key))
    coll = client.post("/api/v1/collections", json={"title": "ISAC feed", "sharing_group": group["id"],
                                                    "audience_write": True}, headers=auth(isac_key))
    assert coll.status_code == 201, coll.text
    cid = coll.json()["id"]
    amber, green = indicator(markings=[TLP2["amber"]]), indicator()
    published = client.post(f"/api/v1/objects?collection={cid}", json=bundle(amber, green), headers=auth(member_key))
    assert published.json()["added"] == 2
    for key in (isac_key, member_key):
        listed = client.get(f"/api/v1/objects?collection={cid}", headers=auth(key)).json()["objects"]
        assert {o["id"] for o in listed} == {amber["id"], green["id"]}
    # the community collection rule does not apply: outsiders cannot read the group's collection at all
    assert client.get(f"/api/v1/objects/{amber['id']}", headers=auth(outsider_key)).status_code == 404
    assert client.get(f"/api/v1/objects/{green['id']}", headers=auth(outsider_key)).status_code == 404
    outsider_list = client.get("/api/v1/collections", headers=auth(outsider_key)).json()
    assert cid not in {c["id"] for c in outsider_list}
    # an outsider the owner grants read to gets the collection's GREEN, never its AMBER
    outsider_slug = client.get("/api/v1/me", headers=auth(outsider_key)).json()["org"]["slug"]
    granted = client.put(f"/api/v1/collections/{cid}/grants/{outsider_slug}", json={"read": True},
                         headers=auth(isac_key))
    assert granted.status_code == 200
    listed = client.get(f"/api/v1/objects?collection={cid}", headers=auth(outsider_key)).json()["objects"]
    assert [o["id"] for o in listed] == [green["id"]]


def test_sme_cannot_create_collections_nor_grant_on_others(client: TestClient, make_org: MakeOrg) -> None:
    _, sme_key = make_org(Role.sme)
    _, csirt_key = make_org(Role.csirt)
    assert client.post("/api/v1/collections", json={"title": "x"}, headers=auth(sme_key)).status_code == 403
    cid = client.post("/api/v1/collections", json={"title": "mine"}, headers=auth(csirt_key)).json()["id"]
    sme_slug = client.get("/api/v1/me", headers=auth(sme_key)).json()["org"]["slug"]
    r = client.put(f"/api/v1/collections/{cid}/grants/{sme_slug}", json={"read": True, "write": True},
                   headers=auth(sme_key))
    assert r.status_code == 403  # it can read the (community) collection, so it learns it is not the owner


def test_every_write_and_admin_action_is_in_the_audit_log(client: TestClient, make_org: MakeOrg,
                                                          settings: Settings) -> None:
    org, key = make_org(Role.csirt)
    _, admin = make_org(Role.admin)
    client.post("/api/v1/objects", json=bundle(indicator()), headers=auth(key))
    prefix = client.post(f"/api/v1/orgs/{org.slug}/keys", json={"scopes": ["read"]}, headers=auth(key)).json()["prefix"]
    client.delete(f"/api/v1/orgs/{org.slug}/keys/{prefix}", headers=auth(key))
    group_id = client.post("/api/v1/groups", json={"name": "g"}, headers=auth(key)).json()["id"]

    assert client.get("/api/v1/audit", headers=auth(key)).status_code == 403
    page = client.get(f"/api/v1/audit?org={org.slug}", headers=auth(admin)).json()
    seen = [(e["action"], e["target"], e["actor"]) for e in page["entries"]]
    assert seen == [("group.create", group_id, org.slug), ("key.revoke", f"{org.slug}/{prefix}", org.slug),
                    ("key.issue", f"{org.slug}/{prefix}", org.slug),
                    ("rest.publish", "9a3c2f4e-6b1d-4c8e-a5f7-2d0b8e61c4a9", org.slug)]
    assert all(e["remote_addr"] == "testclient" for e in page["entries"])
    assert page["entries"][3]["detail"] == "1 added, 0 duplicates, 0 rejected"

    runner = CliRunner()
    env = {"EXCHANGE_DATABASE_URL": settings.database_url}
    assert runner.invoke(cli, ["group", "add", group_id, org.slug], env=env).exit_code == 0
    shown = runner.invoke(cli, ["audit", "list", "--action", "group.add_member", "--json"], env=env)
    assert shown.exit_code == 0, shown.output
    entries = json.loads(shown.stdout)
    assert [(e["actor"], e["target"], e["remote_addr"]) for e in entries][:1] == [("cli", group_id, "cli")]


def test_the_audit_log_refuses_updates_and_deletes(sessions: sessionmaker[Session], make_org: MakeOrg,
                                                   client: TestClient) -> None:
    _, key = make_org(Role.csirt)
    client.post("/api/v1/objects", json=bundle(indicator()), headers=auth(key))
    for statement in ("UPDATE audit_entry SET actor = 'someone else'", "DELETE FROM audit_entry"):
        with pytest.raises(DBAPIError, match="append-only"), db.transaction(sessions) as s:
            s.execute(text(statement))
    with db.transaction(sessions) as s:
        assert s.scalar(text("SELECT count(*) FROM audit_entry WHERE actor = 'someone else'")) == 0
        assert s.scalar(text("SELECT count(*) FROM audit_entry")) >= 1


_FORGED = ("INTO audit_entry (pk, at, actor, action, target, detail) "
           "VALUES (:pk, 0, 'forger', 'nothing.happened', 'x', '')")
# What each database lets through unless refused: SQLite's REPLACE deletes the old row without
# firing DELETE triggers, PostgreSQL's TRUNCATE fires no row triggers. An upsert is an UPDATE on both.
_OVERWRITES = {
    "sqlite": [f"INSERT OR REPLACE {_FORGED}", f"REPLACE {_FORGED}"],
    "postgresql": ["TRUNCATE audit_entry", "TRUNCATE TABLE ONLY audit_entry RESTART IDENTITY CASCADE"],
}


def test_the_audit_log_refuses_replace_and_truncate(engine: Engine, sessions: sessionmaker[Session], make_org: MakeOrg,
                                                     client: TestClient) -> None:
    _, key = make_org(Role.csirt)
    client.post("/api/v1/objects", json=bundle(indicator()), headers=auth(key))
    newest = "SELECT pk, at, actor, action, target, detail FROM audit_entry ORDER BY pk DESC LIMIT 1"
    with db.transaction(sessions) as s:
        before = s.execute(text(newest)).one()
        count = s.scalar(text("SELECT count(*) FROM audit_entry"))
    assert before.action == "rest.publish"
    upsert = f"INSERT {_FORGED} ON CONFLICT (pk) DO UPDATE SET actor = 'forger'"
    for statement in [*_OVERWRITES[engine.dialect.name], upsert]:
        with pytest.raises(DBAPIError, match="append-only"), db.transaction(sessions) as s:
            s.execute(text(statement), {"pk": before.pk})
    with db.transaction(sessions) as s:
        assert s.execute(text(newest)).one() == before
        assert s.scalar(text("SELECT count(*) FROM audit_entry")) == count
