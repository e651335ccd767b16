"""TAXII 2.1 push to a second Exchange (a real ``exchange serve`` on a database of its own): what the
feed's owner may read leaves, CLEAR and GREEN by default, AMBER only under a sharing agreement, RED
and AMBER+STRICT never; a second run sends only what is new; TLP never weakens on the way out (an
unmarked object leaves only when it is CLEAR here); a queued (pending) envelope is polled until the
remote has stored it."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from connectors.base import Source
from connectors.taxii_push import TaxiiPush
from exchange.core import db
from exchange.core.settings import Settings
from exchange.orgs import service as orgs
from exchange.orgs.models import Org, Role
from exchange.sharing import catalog
from exchange.stix.tlp import TLP2_DEFINITIONS, Tlp
from exchange.store.ingest import ingest
from exchange.store.models import StixObject
from exchange.store.reads import DEFAULT_COLLECTION_ID, get_collection
from tests.factories import TLP2, indicator
from tests.feeds.helpers import add, cli, run
from tests.orgs_factory import MakeOrg, auth
from tests.taxii.live import QUEUE_FROM, Server

LEVELS = ("clear", "green", "amber", "amber+strict", "red")


def publish(sessions: sessionmaker[Session], org: Org, *objects: dict[str, Any], collection: str | None = None
            ) -> None:
    with db.transaction(sessions) as session:
        result = ingest(session, list(objects), collection=get_collection(session, collection),
                        org=session.get_one(Org, org.pk))
    assert result.added == len(objects), result.results


def marked(level: str, n: int = 0) -> dict[str, Any]:
    return indicator(f"[ipv4-addr:value = '198.51.100.{n % 250}']", markings=[TLP2[level]], name=f"{level} {n}")


def remote_ids(second_url: str) -> set[str]:
    engine = db.make_engine(second_url)
    try:
        with engine.connect() as conn:
            return set(conn.scalars(select(StixObject.stix_id).where(StixObject.type == "indicator")))
    finally:
        engine.dispose()


@pytest.fixture
def receiver(second_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A CSIRT of the second hub whose key the push feeds use; returns its slug."""
    engine = db.make_engine(second_url)
    with db.transaction(db.make_sessionmaker(engine)) as session:
        member = orgs.create(session, name=f"Receiving CERT {id(monkeypatch)}", role=Role.csirt)
    engine.dispose()
    monkeypatch.setenv("SECOND_HUB_KEY", member.api_key)
    return member.org.slug


def push_feed(name: str, hub: Server, receiver: str, owner: Org, *options: str) -> None:
    add(name, "taxii-push", f"{hub.base}/taxii2/default/collections/{DEFAULT_COLLECTION_ID}/", "--username", receiver,
        "--password-env", "SECOND_HUB_KEY", "--owner", owner.slug, *(x for o in options for x in ("--option", o)))


def test_push_sends_what_may_leave_and_then_only_what_is_new(
        settings: Settings, sessions: sessionmaker[Session], make_org: MakeOrg, second_url: str, second_hub: Server,
        receiver: str) -> None:
    owner = make_org(Role.csirt).org
    ownerless = cli("feed", "add", "--name", "nobody", "--kind", "taxii-push", "--url", f"{second_hub.base}/taxii2/")
    assert ownerless.exit_code != 0
    assert "a push feed forwards what its owner may read" in ownerless.output
    first = {level: marked(level) for level in LEVELS}
    publish(sessions, owner, *first.values())
    push_feed("out", second_hub, receiver, owner)
    assert run("out") == {"fetched": 2, "added": 2, "duplicates": 0, "rejected": 0}
    assert remote_ids(second_url) == {first["clear"]["id"], first["green"]["id"]}

    later = {level: marked(level, 1) for level in ("green", "red")}
    publish(sessions, owner, *later.values())
    assert run("out") == {"fetched": 1, "added": 1, "duplicates": 0, "rejected": 0}  # the new GREEN only
    assert remote_ids(second_url) == {first["clear"]["id"], first["green"]["id"], later["green"]["id"]}
    assert run("out")["fetched"] == 0

    push_feed("agreed", second_hub, receiver, owner, "sharing_agreement=true")
    assert run("agreed")["fetched"] == 4  # CLEAR, GREEN, AMBER and the later GREEN: AMBER under an agreement
    sent = remote_ids(second_url)
    assert first["amber"]["id"] in sent
    assert not sent & {first["red"]["id"], first["amber+strict"]["id"], later["red"]["id"]}  # never


def test_push_reads_as_its_owner(settings: Settings, sessions: sessionmaker[Session], make_org: MakeOrg,
                                 second_url: str, second_hub: Server, receiver: str) -> None:
    owner, other = make_org(Role.csirt).org, make_org(Role.csirt).org
    own, others = marked("amber", 7), marked("amber", 8)
    publish(sessions, owner, own)
    publish(sessions, other, others)  # AMBER of another organisation, in no sharing group with the owner
    push_feed("owned", second_hub, receiver, owner, "sharing_agreement=true")
    run("owned")
    sent = remote_ids(second_url)
    assert own["id"] in sent
    assert others["id"] not in sent


def test_tlp_never_weakens_on_the_way_out(
        settings: Settings, sessions: sessionmaker[Session], make_org: MakeOrg, second_url: str, second_hub: Server,
        receiver: str) -> None:
    """An unmarked object is GREEN here by the default collection's default; sent as stored it would
    arrive unmarked, read as CLEAR there: it stays home, counted with the reason. Unmarked in a CLEAR
    collection it goes (unmarked means CLEAR anyway), and so does what is marked GREEN."""
    owner = make_org(Role.csirt).org
    with db.transaction(sessions) as session:
        clear_id = catalog.create(session, title=f"clear {owner.slug}", default_tlp=Tlp.clear,
                                  owner=session.get_one(Org, owner.pk)).id
    by_default = indicator("[ipv4-addr:value = '203.0.113.1']", name="green by default")
    green = marked("green", 3)
    green_definition = TLP2_DEFINITIONS[TLP2["green"]]  # unmarked too, but the standard (public) definition
    publish(sessions, owner, by_default, green, green_definition)
    unmarked_clear = indicator("[ipv4-addr:value = '203.0.113.2']", name="clear by default")
    publish(sessions, owner, unmarked_clear, collection=clear_id)

    push_feed("green-home", second_hub, receiver, owner)
    assert run("green-home") == {"fetched": 3, "added": 2, "duplicates": 0, "rejected": 1}
    sent = remote_ids(second_url)
    assert green["id"] in sent
    assert by_default["id"] not in sent
    problems = json.loads(cli("feed", "show", "green-home", "--json").stdout)["runs"][0]["problems"]
    assert len(problems) == 1
    assert problems[0].startswith(f"{by_default['id']}: not sent: TLP:GREEN here only by the collection's default")
    assert run("green-home")["fetched"] == 0  # held back once, not re-examined every run

    add("clear-out", "taxii-push", f"{second_hub.base}/taxii2/default/collections/{DEFAULT_COLLECTION_ID}/",
        "--username", receiver, "--password-env", "SECOND_HUB_KEY", "--owner", owner.slug, "--collection", clear_id)
    assert run("clear-out") == {"fetched": 1, "added": 1, "duplicates": 0, "rejected": 0}
    assert unmarked_clear["id"] in remote_ids(second_url)


def test_a_queued_envelope_is_polled_until_stored(second_url: str, second_hub: Server, receiver: str) -> None:
    """One envelope over the server's QUEUE_FROM: answered "pending" and stored later by its ingester
    (decision 0005); the connector polls the status resource until it is complete."""
    many = [marked("clear", n) for n in range(QUEUE_FROM + 20)]
    source = Source(name="bulk", url=f"{second_hub.base}/taxii2/default/collections/{DEFAULT_COLLECTION_ID}/",
                    username=receiver, secret=os.environ["SECOND_HUB_KEY"], options={"poll_seconds": 0.2})
    asked: list[str] = []
    with TaxiiPush(source) as pusher:
        pusher.connection.session.hooks["response"].append(lambda r, *a, **k: asked.append(f"{r.request.method} "
                                                                                           f"{r.url}"))
        sent = pusher.send(many)
    assert (sent.successes, sent.failures) == (len(many), 0)
    assert any(a.startswith("GET ") and "/status/" in a for a in asked)  # it was pending, and polled
    assert {o["id"] for o in many} <= remote_ids(second_url)


def test_push_feeds_over_rest_need_an_owner(client: TestClient, make_org: MakeOrg) -> None:
    _, admin = make_org(Role.admin)
    owner = make_org(Role.csirt).org
    body = {"name": "out", "kind": "taxii-push", "url": "https://isac.example/taxii2/api/collections/x/"}
    refused = client.post("/api/v1/feeds", json=body, headers=auth(admin))
    assert refused.status_code == 400, refused.text
    assert "owner" in refused.text
    created = client.post("/api/v1/feeds", json=body | {"owner": owner.slug}, headers=auth(admin))
    assert created.status_code == 201, created.text
