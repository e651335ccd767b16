"""Subscriptions and deliveries over REST and from the command line."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner, Result

from exchange.alerts.delivery import dispatch
from exchange.cli import app
from exchange.core import db
from exchange.core.settings import Settings
from exchange.orgs.models import Role
from tests.alerts.delivery.conftest import OTHER_SECRET, SECRET, Receiver, make_alert, subscribe
from tests.orgs_factory import MakeOrg

runner = CliRunner()


def run(*args: str) -> Result:
    return runner.invoke(app, list(args))


def test_subscriptions_over_rest(client: TestClient, make_org: MakeOrg, receiver: Receiver) -> None:
    """The app's settings let webhooks reach the loopback receiver (the test settings)."""
    sme, other = make_org(Role.sme), make_org(Role.sme)
    mail = client.post("/api/v1/subscriptions", headers=sme.headers,
                       json={"channel": "email", "address": "it@bakery.example", "language": "fr",
                             "digest": "daily", "timezone": "Europe/Paris", "digest_hour": 7,
                             "categories": ["assets", "software"]})
    assert mail.status_code == 201, mail.text
    assert mail.json()["categories"] == ["assets", "software"]
    hook = client.post("/api/v1/subscriptions", headers=sme.headers,
                       json={"channel": "webhook", "address": receiver.url, "secret": SECRET})
    assert hook.status_code == 201, hook.text
    assert "secret" not in hook.json(), "a secret is never shown again"
    for body, why in (({"channel": "webhook", "address": "https://10.0.0.1/h", "secret": SECRET}, "private"),
                      ({"channel": "webhook", "address": receiver.url}, "secret"),
                      ({"channel": "webhook", "address": receiver.url, "secret": "whsec_c2hvcnQ="}, "secret"),
                      ({"channel": "email", "address": "not-an-address"}, "e-mail"),
                      ({"channel": "email", "address": "a@b.example", "timezone": "Mars/Olympus"}, "time zone"),
                      ({"channel": "webhook", "address": receiver.url, "secret": SECRET, "digest": "daily"}, "digest")):
        refused = client.post("/api/v1/subscriptions", headers=sme.headers, json=body)
        assert refused.status_code in (400, 409, 422), (body, refused.text)
        assert why in refused.text.lower() or refused.status_code == 409, (why, refused.text)
    twin = client.post("/api/v1/subscriptions", headers=sme.headers, json={"channel": "email",
                                                                            "address": "it@bakery.example"})
    assert twin.status_code == 409
    listed = client.get("/api/v1/subscriptions", headers=sme.headers).json()
    assert [s["channel"] for s in listed] == ["email", "webhook"]
    assert client.get("/api/v1/subscriptions", headers=other.headers).json() == []
    hook_id = hook.json()["id"]
    assert client.delete(f"/api/v1/subscriptions/{hook_id}", headers=other.headers).status_code == 404
    rotated = client.post(f"/api/v1/subscriptions/{hook_id}/rotate-secret", headers=sme.headers, json={})
    assert rotated.json()["secret"].startswith("whsec_")
    assert client.delete(f"/api/v1/subscriptions/{hook_id}", headers=sme.headers).status_code == 204
    assert len(client.get("/api/v1/subscriptions", headers=sme.headers).json()) == 1


def test_dead_letters_are_visible_and_replayable(client: TestClient, sessions: sessionmaker[Session],
                                                 settings: Settings, make_org: MakeOrg, receiver: Receiver) -> None:
    sme, csirt = make_org(Role.sme), make_org(Role.csirt)
    receiver.status = 500
    with db.transaction(sessions) as s:
        subscribe(s, sme.org, settings, webhook=receiver.url)
        make_alert(s, sme.org, csirt.org)
    dispatch.run_batch(sessions, settings.model_copy(update={"delivery_max_attempts": 1}), "w1")
    dead = client.get("/api/v1/deliveries?status=dead", headers=sme.headers).json()["deliveries"]
    assert [(d["status"], d["last_error"]) for d in dead] == [("dead", "HTTP 500")]
    seen_by_csirt = client.get(f"/api/v1/deliveries?org={sme.org.slug}", headers=csirt.headers).json()
    assert [d["id"] for d in seen_by_csirt["deliveries"]] == [dead[0]["id"]]
    assert client.get(f"/api/v1/deliveries?org={csirt.org.slug}", headers=sme.headers).status_code == 404
    receiver.status = 200
    replayed = client.post(f"/api/v1/deliveries/{dead[0]['id']}/replay", headers=sme.headers)
    assert replayed.json()["status"] == "pending"
    dispatch.run_batch(sessions, settings, "w1")
    assert [i for i, _, _ in receiver.received] == [str(dead[0]["id"])] * 2, "the same webhook-id again"


def test_cli_subscription_and_delivery(settings: Settings, make_org: MakeOrg, receiver: Receiver,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXCHANGE_WEBHOOK_ALLOWED_HOSTS", '["127.0.0.1"]')
    sme = make_org(Role.sme).org
    added = run("subscription", "add", "--org", sme.slug, "--webhook", receiver.url, "--secret", SECRET,
                "--language", "de", "--json")
    assert added.exit_code == 0, added.output
    sub_id = json.loads(added.stdout)["id"]
    mail = run("subscription", "add", "--org", sme.slug, "--email", "it@bakery.example", "--digest", "weekly",
               "--without", "sector", "--json")
    assert json.loads(mail.stdout)["categories"] == ["assets", "lookalikes", "software"]
    assert run("subscription", "add", "--org", sme.slug, "--email", "a@b.example", "--webhook", receiver.url
               ).exit_code == 2
    refused = run("subscription", "add", "--org", sme.slug, "--webhook", "https://192.168.1.1/", "--secret", SECRET)
    assert refused.exit_code == 1
    assert "private" in refused.output
    assert run("subscription", "rotate-secret", str(sub_id), "--org", sme.slug, "--secret", OTHER_SECRET
               ).stdout.strip() == OTHER_SECRET
    listed = json.loads(run("subscription", "list", "--org", sme.slug, "--json").stdout)
    assert [(s["channel"], s["language"]) for s in listed] == [("webhook", "de"), ("email", "en")]
    assert run("delivery", "list", "--org", sme.slug, "--json").stdout.strip() == "[]"
    assert "0 messages" in run("delivery", "replay", "--org", sme.slug, "--dead").output
    assert run("subscription", "remove", str(sub_id), "--org", sme.slug).exit_code == 0
    assert len(json.loads(run("subscription", "list", "--org", sme.slug, "--json").stdout)) == 1
