"""Webhooks against a real HTTP receiver that verifies the Standard Webhooks signature."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from exchange.alerts.delivery import dispatch, events, service, ssrf
from exchange.alerts.delivery.models import Delivery, Subscription
from exchange.alerts.models import AlertEventType
from exchange.core import db
from exchange.core.errors import BadRequest
from exchange.core.settings import Settings
from exchange.orgs.models import Role
from tests.alerts.delivery.conftest import OTHER_SECRET, SECRET, Receiver, make_alert, subscribe
from tests.orgs_factory import MakeOrg

SCHEMAS = Path(__file__).resolve().parents[3] / "schemas" / "events"


def _statuses(sessions: sessionmaker[Session]) -> list[tuple[str, int]]:
    with db.transaction(sessions) as s:
        return [(d.status, d.attempts) for d in s.scalars(select(Delivery).order_by(Delivery.pk))]


def test_a_signed_cloudevent_after_the_handshake(sessions: sessionmaker[Session], settings: Settings,
                                                 make_org: MakeOrg, receiver: Receiver) -> None:
    sme, csirt = make_org(Role.sme).org, make_org(Role.csirt, name="CERT Example").org
    with db.transaction(sessions) as s:
        sub = subscribe(s, sme, settings, webhook=receiver.url)
        alert = make_alert(s, sme, csirt, tlp="red", name="Fake login page")
        make_alert(s, sme, csirt, asset="shop.example", change=AlertEventType.escalated)
    assert dispatch.run_batch(sessions, settings, "w1") == 2
    assert receiver.forged == 0
    assert receiver.options == 1, "one handshake, before the first message only"
    with db.transaction(sessions) as s:
        pks = list(s.scalars(select(Delivery.pk).order_by(Delivery.pk)))
        assert s.get_one(Subscription, sub.pk).consented_at is not None
    assert [i for i, _, _ in receiver.received] == [str(pk) for pk in pks]
    webhook_id, event, headers = receiver.received[0]
    assert headers["content-type"].startswith("application/cloudevents+json")
    assert event["specversion"] == "1.0"
    assert event["id"] == webhook_id
    assert event["type"] == "org.exchange.alert.created.v1"
    assert event["source"] == "http://hub.example"
    assert event["data"]["alert_id"] == alert.pk
    assert event["data"]["matched"] == "login.bakery.example"
    assert event["data"]["publisher"] == "CERT Example"
    assert event["data"]["title"] == "Fake login page", "a webhook may carry TLP:RED to its named recipient"
    assert receiver.received[1][1]["type"] == "org.exchange.alert.escalated.v1"
    assert _statuses(sessions) == [("sent", 1), ("sent", 1)]


def test_no_consent_no_post(sessions: sessionmaker[Session], settings: Settings, make_org: MakeOrg,
                            receiver: Receiver) -> None:
    receiver.consent = False
    sme, csirt = make_org(Role.sme).org, make_org(Role.csirt).org
    with db.transaction(sessions) as s:
        subscribe(s, sme, settings, webhook=receiver.url)
        make_alert(s, sme, csirt)
    dispatch.run_batch(sessions, settings, "w1")
    assert receiver.options == 1
    assert receiver.received == []
    with db.transaction(sessions) as s:
        [row] = s.scalars(select(Delivery))
        assert (row.status, row.attempts) == ("pending", 1)
        assert "did not consent" in (row.last_error or "")


def test_rotation_signs_with_both_secrets(sessions: sessionmaker[Session], settings: Settings, make_org: MakeOrg,
                                          receiver: Receiver) -> None:
    sme, csirt = make_org(Role.sme).org, make_org(Role.csirt).org
    with db.transaction(sessions) as s:
        sub = subscribe(s, sme, settings, webhook=receiver.url)
        service.rotate_secret(s, sub, OTHER_SECRET)
        make_alert(s, sme, csirt)
    receiver.secrets = [OTHER_SECRET]  # the receiver switched already; the old one still verifies too
    dispatch.run_batch(sessions, settings, "w1")
    [(_, _, headers)] = receiver.received
    assert len(headers["webhook-signature"].split(" ")) == 2
    receiver.secrets = [SECRET]
    assert receiver.take(b"{}", headers) == 401, "a signature covers the body"


def test_410_gone_disables_the_webhook(sessions: sessionmaker[Session], settings: Settings, make_org: MakeOrg,
                                       receiver: Receiver) -> None:
    receiver.status = 410
    sme, csirt = make_org(Role.sme).org, make_org(Role.csirt).org
    with db.transaction(sessions) as s:
        sub = subscribe(s, sme, settings, webhook=receiver.url)
        make_alert(s, sme, csirt)
        make_alert(s, sme, csirt, asset="shop.example")
    dispatch.run_batch(sessions, settings, "w1")
    assert len(receiver.received) == 1, "nothing more after the 410"
    assert _statuses(sessions) == [("dead", 1), ("cancelled", 0)]
    with db.transaction(sessions) as s:
        assert "410" in (s.get_one(Subscription, sub.pk).disabled_reason or "")


def test_a_server_error_is_retried_later(sessions: sessionmaker[Session], settings: Settings, make_org: MakeOrg,
                                         receiver: Receiver) -> None:
    receiver.status = 503
    sme, csirt = make_org(Role.sme).org, make_org(Role.csirt).org
    with db.transaction(sessions) as s:
        subscribe(s, sme, settings, webhook=receiver.url)
        make_alert(s, sme, csirt)
    dispatch.run_batch(sessions, settings, "w1")
    assert dispatch.run_batch(sessions, settings, "w1") == 0, "not due again at once"
    assert _statuses(sessions) == [("pending", 1)]


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/x", "https://127.0.0.1/x", "https://10.1.2.3/x",
                                 "https://169.254.169.254/latest/meta-data", "https://[::1]/x",
                                 "https://[::ffff:127.0.0.1]/x", "https://[fd00:ec2::254]/x", "https://100.64.0.1/",
                                 "https://localhost/x", "ftp://example.com/x", "https://user:pw@example.com/x",
                                 "https:///x"])
def test_ssrf_refusals(url: str) -> None:
    with pytest.raises(ssrf.UnsafeWebhook):
        ssrf.resolve(url, [])


def test_ssrf_allowed_hosts_and_the_connected_address() -> None:
    target = ssrf.resolve("http://localhost:9/hook?x=1", ["localhost"])
    assert target.address in ("127.0.0.1", "::1")
    assert target.connect_url.endswith(":9/hook?x=1")
    assert target.host_header == "localhost:9"
    assert ssrf.resolve("https://8.8.8.8/h", []).connect_url == "https://8.8.8.8:443/h"


def test_a_private_webhook_is_refused_at_subscription(sessions: sessionmaker[Session], settings: Settings,
                                                      make_org: MakeOrg) -> None:
    sme = make_org(Role.sme).org
    with db.transaction(sessions) as s, pytest.raises(BadRequest, match="loopback"):
        subscribe(s, sme, settings.model_copy(update={"webhook_allowed_hosts": []}),
                  webhook="https://127.0.0.1/hook")


def test_event_schemas_are_current() -> None:
    """Fails when the event models changed without `exchange delivery schema --write schemas/events`."""
    on_disk = {p.name: p.read_text() for p in SCHEMAS.glob("*.json")}
    assert on_disk == events.json_schemas(), "run: exchange delivery schema --write schemas/events"
