"""What a newcomer does after `exchange serve --demo`: each SME reads the findings about itself, keys
people made survive a second run, and the README's example bundle is accepted."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from exchange.cli import app
from exchange.cli.demo import load_demo
from exchange.core.settings import Settings
from exchange.demo import DEMO_SME_DOMAINS
from exchange.orgs import service as orgs
from tests.orgs_factory import auth

ROOT = Path(__file__).parents[2]


def _findings(client: TestClient, key: str) -> set[str]:
    """Patterns of the demo indicators about the demo SMEs that ``key`` reads over REST."""
    page = client.get("/api/v1/objects", params={"type": "indicator", "limit": 500}, headers=auth(key))
    assert page.status_code == 200, page.text
    return {o["pattern"] for o in page.json()["objects"]
            if any(d in o["pattern"] for d in DEMO_SME_DOMAINS) or "198.51.100." in o["pattern"]}


def test_each_demo_sme_reads_the_findings_about_itself(settings: Settings, client: TestClient) -> None:
    keys = {i.org.name: i.api_key for i in load_demo(settings)}
    bakery, dental = DEMO_SME_DOMAINS
    assert _findings(client, keys["Example Bakery"]) == {
        f"[domain-name:value = 'login.{bakery}']", "[ipv4-addr:value = '198.51.100.23']"}
    dental_sees = _findings(client, keys["Example Dental Practice"])
    assert len(dental_sees) == 2
    assert all(dental in p for p in dental_sees)
    assert _findings(client, keys["Demo Finance ISAC"]) == set()  # AMBER about a victim reaches only the victim


def test_serve_demo_again_keeps_the_keys_people_made(settings: Settings, sessions: sessionmaker[Session]) -> None:
    first = {i.org.slug: i.api_key for i in load_demo(settings)}
    made = json.loads(CliRunner().invoke(app, ["key", "create", "--org", "example-bakery", "--json"]).stdout)
    second = {i.org.slug: i.api_key for i in load_demo(settings)}
    with sessions() as s:
        assert orgs.authenticate(s, made["api_key"]) is not None
        assert orgs.authenticate(s, second["example-bakery"]) is not None
        assert orgs.authenticate(s, first["example-bakery"]) is None  # the demo's own key was replaced


def test_the_readme_example_bundle_is_accepted(settings: Settings, client: TestClient) -> None:
    readme = (ROOT / "README.md").read_text()
    assert "--data @examples/bundle.json" in readme
    keys = {i.org.slug: i.api_key for i in load_demo(settings)}
    body = (ROOT / "examples" / "bundle.json").read_bytes()
    r = client.post("/api/v1/objects", content=body, auth=("demo-national-csirt", keys["demo-national-csirt"]),
                    headers={"Content-Type": "application/json"})
    assert r.status_code == 200, r.text
    answer = r.json()
    assert (answer["added"], answer["rejected"]) == (3, 0), answer
