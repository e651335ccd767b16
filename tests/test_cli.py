"""The command line, run in-process against the test database."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner, Result

from exchange.cli import app
from exchange.core import db
from exchange.core.settings import Settings
from exchange.orgs import service as orgs
from exchange.orgs.models import Role
from exchange.sharing import catalog
from tests.factories import bundle, indicator

runner = CliRunner()


def run(*args: str, input: str | None = None) -> Result:
    result = runner.invoke(app, list(args), input=input)
    return result


def test_org_create_json_list_and_rotate(settings: Settings, sessions: sessionmaker[Session]) -> None:
    r = run("org", "create", "--name", "CERT Example", "--role", "csirt", "--json")
    assert r.exit_code == 0, r.output
    created = json.loads(r.stdout)
    assert set(created) == {"id", "slug", "api_key"}
    assert created["slug"] == "cert-example"
    with sessions() as s:
        assert orgs.authenticate(s, created["api_key"]) is not None
    listed = json.loads(run("org", "list", "--json").stdout)
    assert [o["slug"] for o in listed] == ["cert-example"]
    rotated = json.loads(run("key", "rotate", "cert-example", "--json").stdout)
    with sessions() as s:
        assert orgs.authenticate(s, created["api_key"]) is None
        principal = orgs.authenticate(s, rotated["api_key"])
        assert principal is not None
        assert principal.org.slug == "cert-example"


def test_org_create_refuses_duplicates_and_bad_roles(settings: Settings) -> None:
    assert run("org", "create", "--name", "A", "--role", "sme").exit_code == 0
    dup = run("org", "create", "--name", "A", "--role", "sme")
    assert dup.exit_code == 1
    assert "already exists" in dup.output
    assert run("org", "create", "--name", "B", "--role", "wizard").exit_code == 2


def test_import_bundle_jsonl_directory_and_stdin(settings: Settings, tmp_path: Path) -> None:
    a, b, c = indicator(), indicator(), indicator()
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "one.json").write_bytes(orjson.dumps(bundle(a)))
    (tmp_path / "dir" / "two.jsonl").write_bytes(orjson.dumps(b) + b"\n" + b"{broken\n")
    r = run("import", str(tmp_path / "dir"))
    assert r.exit_code == 3, r.output  # some stored, some rejected
    assert "│ 2     │ 0          │ 1        │" in r.output
    again = run("import", "-", input=orjson.dumps(bundle(a, c, indicator(confidence=-5))).decode())
    assert "│ 1     │ 1          │ 1        │" in again.output
    assert "confidence" in again.output


def test_import_in_many_batches_gives_the_same_verdicts(settings: Settings, tmp_path: Path) -> None:
    """Several batches go through the helper processes; verdicts and counts must not change."""
    objects = [indicator() for _ in range(9)] + [indicator(confidence=500), indicator(pattern="[nope")]
    f = tmp_path / "many.json"
    f.write_bytes(orjson.dumps(bundle(*objects, objects[0])))
    r = run("import", str(f), "--batch-size", "2")
    assert r.exit_code == 3, r.output
    assert "│ 9     │ 1          │ 2        │" in r.output
    assert "confidence-range" in r.output
    exported = orjson.loads(run("export").stdout_bytes)
    assert [o["id"] for o in exported["objects"]] == [o["id"] for o in objects[:9]]


def test_import_refuses_unknown_collection_and_paths(settings: Settings, tmp_path: Path) -> None:
    f = tmp_path / "b.json"
    f.write_bytes(orjson.dumps(bundle(indicator())))
    assert run("import", str(f), "--collection", "nope").exit_code == 1
    assert run("import", str(tmp_path / "missing.json")).exit_code == 2


def test_export_formats(settings: Settings, tmp_path: Path) -> None:
    dom = indicator("[domain-name:value = 'Evil.Example']")
    ip = indicator("[ipv4-addr:value = '192.0.2.1']")
    f = tmp_path / "in.json"
    f.write_bytes(orjson.dumps(bundle(dom, ip)))
    assert run("import", str(f)).exit_code == 0
    exported = orjson.loads(run("export").stdout_bytes)
    assert exported["type"] == "bundle"
    assert [o["id"] for o in exported["objects"]] == [dom["id"], ip["id"]]
    assert run("export", "--format", "txt", "--kind", "domain").stdout.splitlines() == ["evil.example"]
    assert run("export", "--format", "txt", "--kind", "ipv4").stdout.splitlines() == ["192.0.2.1"]
    csv_lines = run("export", "--format", "csv").stdout.splitlines()
    assert csv_lines[0].startswith("kind,value,object_id")
    assert csv_lines[1].startswith(f"domain,evil.example,{dom['id']}")
    out = tmp_path / "out.json"
    assert run("export", "--type", "malware", "-o", str(out)).exit_code == 0
    assert orjson.loads(out.read_bytes())["objects"] == []
    assert run("export", "--format", "xml").exit_code == 2
    assert run("export", "--since", "soon").exit_code == 2


def test_db_upgrade_is_idempotent(settings: Settings) -> None:
    r = run("db", "upgrade")
    assert r.exit_code == 0
    assert "head" in r.output


def test_help_explains_every_command() -> None:
    commands = (["--help"], ["serve", "--help"], ["import", "--help"], ["export", "--help"],
                ["bench", "ingest", "--help"], ["key", "create", "--help"], ["user", "add", "--help"],
                ["group", "create", "--help"], ["audit", "list", "--help"], ["collection", "create", "--help"])
    for args in commands:
        r = run(*args)
        assert r.exit_code == 0
        assert len(r.output) > 200


def test_bench_ingest_reports_figures(tmp_path: Path) -> None:
    r = run("bench", "ingest", "-n", "300", "--batch-size", "100", "--json")
    assert r.exit_code == 0, r.output
    figures = json.loads(r.stdout.strip().splitlines()[-1])
    assert figures["added"] == 300
    assert figures["objects_per_second"] > 0
    assert figures["db_size_mb"] > 0


def test_export_as_an_organisation_gets_only_what_it_may_read(settings: Settings, tmp_path: Path) -> None:
    producer = json.loads(run("org", "create", "--name", "CERT A", "--role", "csirt", "--json").stdout)
    json.loads(run("org", "create", "--name", "SME B", "--role", "sme", "--json").stdout)
    amber = indicator(markings=["marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"])
    green = indicator()
    f = tmp_path / "in.json"
    f.write_bytes(orjson.dumps(bundle(amber, green)))
    assert run("import", str(f), "--org", producer["slug"]).exit_code == 0
    audited = json.loads(run("audit", "list", "--action", "cli.ingest", "--limit", "1", "--json").stdout)
    assert [(e["actor"], e["detail"]) for e in audited] == [("cli", "2 added, 0 duplicates, 0 rejected, as cert-a")]
    seen_by = {slug: [o["id"] for o in orjson.loads(run("export", "--as-org", slug).stdout_bytes)["objects"]]
               for slug in ("cert-a", "sme-b")}
    assert seen_by == {"cert-a": [amber["id"], green["id"]], "sme-b": [green["id"]]}


def test_keys_users_groups_and_group_collections_from_the_cli(settings: Settings,
                                                              sessions: sessionmaker[Session]) -> None:
    run("org", "create", "--name", "ISAC", "--role", "isac", "--json")
    run("org", "create", "--name", "SME", "--role", "sme", "--json")
    assert run("user", "add", "--org", "sme", "--email", "it@sme.example", "--role", "read-only").exit_code == 0
    issued = json.loads(run("key", "create", "--org", "sme", "--user", "it@sme.example", "--json").stdout)
    assert issued["scopes"] == ["read"]
    too_much = run("key", "create", "--org", "sme", "--user", "it@sme.example", "--scopes", "read,write")
    assert too_much.exit_code == 1
    assert "read-only" in too_much.output
    listed = json.loads(run("key", "list", "--org", "sme", "--json").stdout)
    assert [k["user"] for k in listed if k["prefix"] == issued["prefix"]] == ["it@sme.example"]
    assert run("key", "revoke", "--org", "sme", issued["prefix"]).exit_code == 0
    with sessions() as s:
        assert orgs.authenticate(s, issued["api_key"]) is None

    group = json.loads(run("group", "create", "--owner", "isac", "--name", "members", "--json").stdout)
    assert run("group", "add", group["id"], "sme").exit_code == 0
    groups_listed = json.loads(run("group", "list", "--json").stdout)
    assert groups_listed == [{"id": group["id"], "name": "members", "members": ["isac", "sme"]}]
    coll = json.loads(run("collection", "create", "--title", "ISAC feed", "--owner", "isac", "--group",
                          group["id"], "--json").stdout)
    with sessions() as s:
        target = catalog.by_id(s, coll["id"])
        sme, outsider = orgs.get_by_slug(s, "sme"), orgs.create(s, name="Other", role=Role.sme).org
        assert catalog.rights(s, sme, target).can_read
        assert not catalog.rights(s, outsider, target).can_read
    assert run("group", "remove", group["id"], "isac").exit_code == 1  # the owner stays


def test_a_database_older_than_the_code_says_run_db_upgrade(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    db.upgrade(url, "0002")
    monkeypatch.setenv("EXCHANGE_DATABASE_URL", url)
    r = run("org", "create", "--name", "Late", "--role", "csirt")
    assert r.exit_code == 1
    assert "exchange db upgrade" in r.output
    assert "Traceback" not in r.output
    assert run("db", "upgrade").exit_code == 0
    assert run("org", "create", "--name", "Late", "--role", "csirt").exit_code == 0
