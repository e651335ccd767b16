"""`exchange export` writes what a reader may read, one kind of value per blocklist."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import orjson
from typer.testing import CliRunner, Result

from exchange.cli import app
from exchange.core.settings import Settings
from tests.factories import bundle, indicator

runner = CliRunner()
AMBER = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"  # TLP 2.0 AMBER


def run(*args: str) -> Result:
    return runner.invoke(app, list(args))


def _world(tmp_path: Path) -> None:
    """A CSIRT's feed: GREEN indicators of several kinds, and an AMBER finding about an SME's own domain."""
    run("org", "create", "--name", "CERT A", "--role", "csirt", "--json")
    victim = json.loads(run("org", "create", "--name", "SME B", "--role", "sme", "--json").stdout)
    identity = next(o["identity"] for o in json.loads(run("org", "list", "--json").stdout) if o["id"] == victim["id"])
    objects = [
        indicator("[domain-name:value = 'phish.example']"),
        indicator("[ipv4-addr:value = '192.0.2.7']"),
        indicator("[email-addr:value = 'boss@phish.example']"),
        indicator("[file:hashes.'SHA-256' = '" + "ab" * 32 + "']"),
        indicator("[domain-name:value = 'www.sme-b.example']", markings=[AMBER],
                  x_exchange_recipients=[identity]),
    ]
    f = tmp_path / "feed.json"
    f.write_bytes(orjson.dumps(bundle(*objects)))
    assert run("import", str(f), "--org", "cert-a").exit_code == 0


def test_a_blocklist_holds_one_kind_and_only_what_every_member_may_read(settings: Settings, tmp_path: Path) -> None:
    _world(tmp_path)

    def lines(*args: str) -> list[str]:
        r = run("export", "--format", "txt", *args)
        assert r.exit_code == 0, r.output
        return r.stdout.splitlines()

    assert lines("--kind", "domain") == ["phish.example"]  # no e-mail, hash or address, no victim's domain
    assert lines("--kind", "ipv4") == ["192.0.2.7"]
    assert lines("--kind", "sha256") == ["ab" * 32]
    assert lines("--kind", "domain", "--as-org", "sme-b") == ["phish.example", "www.sme-b.example"]
    assert lines("--kind", "domain", "--all") == ["phish.example", "www.sme-b.example"]
    mixed = run("export", "--format", "txt")
    assert mixed.exit_code == 2
    assert "--kind" in mixed.output
    assert run("export", "--format", "txt", "--kind", "cves").exit_code == 2
    assert run("export", "--all", "--as-org", "sme-b").exit_code == 2
    assert len(orjson.loads(run("export").stdout_bytes)["objects"]) == 4  # the AMBER finding stays out


def test_csv_carries_the_tlp_of_each_row(settings: Settings, tmp_path: Path) -> None:
    _world(tmp_path)
    rows = list(csv.DictReader(io.StringIO(run("export", "--format", "csv", "--all").stdout)))
    assert {(r["value"], r["tlp"]) for r in rows if r["kind"] == "domain"} == {
        ("phish.example", "green"), ("www.sme-b.example", "amber")}
    default = list(csv.DictReader(io.StringIO(run("export", "--format", "csv", "--kind", "ipv4").stdout)))
    assert [(r["value"], r["tlp"]) for r in default] == [("192.0.2.7", "green")]
