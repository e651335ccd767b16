"""``exchange asset …`` as an operator runs it, and the published JSON Schema of the inventory."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema_rs
import pytest
from typer.testing import CliRunner

from exchange.assets.schemas import json_schema_text
from exchange.cli import app

runner = CliRunner()
SCHEMA = Path(__file__).resolve().parents[2] / "schemas" / "asset.json"


def run(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args))


@pytest.fixture
def sme(settings, monkeypatch) -> str:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("EXCHANGE_ASSETS_ALLOW_RESERVED", "true")  # the CLI reads its settings from the environment
    return str(json.loads(run("org", "create", "--name", "Bäckerei Test", "--role", "sme", "--json").stdout)["slug"])


def test_add_list_remove(sme) -> None:  # type: ignore[no-untyped-def]
    domain = run("asset", "add", "--org", sme, "--domain", "Bäckerei.test", "--json")
    assert domain.exit_code == 0, domain.output
    assert json.loads(domain.stdout)["value"] == "xn--bckerei-5wa.test"
    approved = json.loads(run("asset", "add", "--org", sme, "--cidr", "192.0.2.0/24", "--verified", "--json").stdout)
    assert approved["verified"] is True
    assert approved["verification_method"] == "approval"
    assert run("asset", "profile", "--org", sme, "--sector", "I", "--country", "at").exit_code == 0
    inventory = json.loads(run("asset", "list", "--org", sme, "--json").stdout)
    assert inventory["profile"]["sector"] == "I"
    assert inventory["profile"]["country"] == "AT"
    assert [(a["value"], a["verified"]) for a in inventory["assets"]] == [("xn--bckerei-5wa.test", False),
                                                                          ("192.0.2.0/24", True)]
    jsonschema_rs.validator_for(json.loads(SCHEMA.read_text())).validate(inventory)
    table = run("asset", "list", "--org", sme)
    assert "192.0.2.0/24" in table.output
    assert "approval" in table.output
    assert run("asset", "remove", str(approved["id"])).exit_code == 0
    assert [a["id"] for a in json.loads(run("asset", "list", "--org", sme, "--json").stdout)["assets"]] == [
        json.loads(domain.stdout)["id"]]
    assert run("asset", "remove", str(approved["id"])).exit_code == 1


def test_refusals_end_with_the_reason(sme) -> None:  # type: ignore[no-untyped-def]
    suffix = run("asset", "add", "--org", sme, "--domain", "co.uk")
    assert suffix.exit_code == 1
    assert "public suffix" in suffix.output
    two = run("asset", "add", "--org", sme, "--domain", "a.test", "--cidr", "192.0.2.0/24")
    assert two.exit_code == 2
    assert "exactly one" in two.output
    assert run("asset", "add", "--org", "nobody", "--domain", "a.test").exit_code == 1
    assert "NACE" in run("asset", "profile", "--org", sme, "--sector", "Z").output


def test_verify_by_approval_from_the_command_line(sme) -> None:  # type: ignore[no-untyped-def]
    added = json.loads(run("asset", "add", "--org", sme, "--asn", "AS64502", "--json").stdout)
    wrong = run("asset", "verify", str(added["id"]), "--method", "dns")
    assert wrong.exit_code == 1
    assert "cannot be verified by dns" in wrong.output
    done = run("asset", "verify", str(added["id"]), "--method", "approval", "--json")
    assert done.exit_code == 0
    assert json.loads(done.stdout)["verified"] is True


def test_the_published_schema_is_current() -> None:
    """Fails when the models changed without `exchange asset schema > schemas/asset.json`."""
    assert SCHEMA.read_text() == json_schema_text(), "run: exchange asset schema > schemas/asset.json"
    assert run("asset", "schema").stdout == json_schema_text()
