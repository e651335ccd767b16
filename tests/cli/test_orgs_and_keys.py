"""`org` and `key` commands as an operator runs them: slugs, the org table, and keys never echoed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner, Result

from exchange.cli import app
from exchange.core.settings import Settings
from exchange.orgs import service as orgs

runner = CliRunner()
EXCHANGE = str(Path(sys.executable).with_name("exchange"))


def run(*args: str) -> Result:
    return runner.invoke(app, list(args))


def test_slugs_transliterate_instead_of_dropping_letters(settings: Settings) -> None:
    slugs = [json.loads(run("org", "create", "--name", name, "--role", "sme", "--json").stdout)["slug"]
             for name in ("Bäckerei Müller", "東京", "Straße & Co")]
    assert slugs == ["backerei-muller", "dong-jing", "strasse-co"]


def test_org_list_shows_the_identity_and_never_cuts_the_slug(settings: Settings, sessions: sessionmaker[Session],
                                                             database_url: str) -> None:
    name = "Nationales Zentrum für Cybersicherheit der Bundesländer"
    slug = json.loads(run("org", "create", "--name", name, "--role", "csirt", "--json").stdout)["slug"]
    assert len(slug) == 48
    with sessions() as s:
        identity = orgs.get_by_slug(s, slug).identity_id
    for width in ("80", "200"):  # a block per organisation, or the table; rich sizes from COLUMNS
        env = os.environ | {"EXCHANGE_DATABASE_URL": database_url, "COLUMNS": width}
        listed = subprocess.run([EXCHANGE, "org", "list"], env=env, capture_output=True, check=True, text=True)
        lines = listed.stderr.splitlines()
        assert any(slug in line for line in lines), listed.stderr
        assert any(identity in line for line in lines), listed.stderr
    assert "identity" in lines[1]  # the table's heading at 200 columns


def test_key_revoke_with_a_whole_key_never_prints_the_secret(settings: Settings,
                                                             sessions: sessionmaker[Session]) -> None:
    created = json.loads(run("org", "create", "--name", "CERT", "--role", "csirt", "--json").stdout)
    issued = json.loads(run("key", "create", "--org", "cert", "--json").stdout)
    r = run("key", "revoke", "--org", "cert", issued["api_key"])
    assert r.exit_code == 0, r.output
    secret = issued["api_key"].removeprefix(f"exk_{issued['prefix']}_")
    assert issued["prefix"] in r.output
    assert secret not in r.output
    assert issued["api_key"] not in r.output
    audited = json.loads(run("audit", "list", "--action", "key.revoke", "--limit", "1", "--json").stdout)
    assert audited[0]["target"] == f"cert/{issued['prefix']}"
    with sessions() as s:
        assert orgs.authenticate(s, issued["api_key"]) is None
        assert orgs.authenticate(s, created["api_key"]) is not None


def test_key_rotate_with_a_prefix_prints_the_new_prefix(settings: Settings, sessions: sessionmaker[Session]) -> None:
    run("org", "create", "--name", "CERT", "--role", "csirt", "--json")
    old = json.loads(run("key", "create", "--org", "cert", "--json").stdout)
    r = run("key", "rotate", "cert", "--prefix", old["prefix"])
    assert r.exit_code == 0, r.output
    listed = json.loads(run("key", "list", "--org", "cert", "--json").stdout)
    (live,) = [k["prefix"] for k in listed if not k["revoked"] and k["name"] == "" and k["prefix"] != old["prefix"]]
    assert live in r.output
    as_json = json.loads(run("key", "rotate", "cert", "--prefix", live, "--json").stdout)
    with sessions() as s:
        assert orgs.authenticate(s, as_json["api_key"]) is not None
    assert as_json["api_key"].startswith(f"exk_{as_json['prefix']}_")


def test_the_first_key_keeps_admin_scope_but_expires(settings: Settings) -> None:
    run("org", "create", "--name", "SME", "--role", "sme", "--json")
    run("org", "create", "--name", "Forever", "--role", "sme", "--expires-in-days", "0", "--json")
    (first,) = json.loads(run("key", "list", "--org", "sme", "--json").stdout)
    assert set(first["scopes"]) == {"read", "write", "admin"}
    assert first["expires"] is not None
    (forever,) = json.loads(run("key", "list", "--org", "forever", "--json").stdout)
    assert forever["expires"] is None
    assert "90 days" in run("org", "create", "--help").output
