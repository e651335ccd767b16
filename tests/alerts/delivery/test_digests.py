"""Digests at the subscriber's local hour with only new or changed alerts; the hourly cap; SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from exchange.alerts.delivery import digests, dispatch
from exchange.alerts.delivery.models import Delivery, Digest, Subscription
from exchange.alerts.models import AlertEvent, AlertEventType
from exchange.core import db
from exchange.core.settings import Settings
from exchange.core.timestamps import HOUR, now_micros
from exchange.orgs.models import Role
from tests.alerts.delivery.conftest import Receiver, SmtpServer, make_alert, many_alerts, plain_text, subscribe
from tests.orgs_factory import MakeOrg

EXCHANGE = str(Path(sys.executable).with_name("exchange"))


def _us(text: str) -> int:
    return int(datetime.fromisoformat(text).astimezone(UTC).timestamp() * 1_000_000)


def test_the_scheduled_hour_is_local() -> None:
    sub = Subscription(timezone="Europe/Paris", digest_hour=7, digest=Digest.daily.value)
    assert digests.scheduled(sub, _us("2026-12-05T06:30:00+00:00")) == _us("2026-12-05T07:00:00+01:00")
    assert digests.scheduled(sub, _us("2026-12-05T05:30:00+00:00")) == _us("2026-12-04T07:00:00+01:00")
    assert digests.scheduled(sub, _us("2026-07-01T05:30:00+00:00")) == _us("2026-07-01T07:00:00+02:00"), "summer"
    sub.digest = Digest.weekly.value
    assert digests.scheduled(sub, _us("2026-12-05T06:30:00+00:00")) == _us("2026-11-30T07:00:00+01:00"), "Monday"


def test_one_digest_per_period_with_each_changed_alert_once(sessions: sessionmaker[Session], settings: Settings,
                                                             make_org: MakeOrg, smtp_server: SmtpServer) -> None:
    sme, csirt = make_org(Role.sme).org, make_org(Role.csirt).org
    with db.transaction(sessions) as s:
        sub = subscribe(s, sme, settings, email="boss@bakery.example", digest=Digest.daily)
        assert digests.make_due(s) == 0, "a new subscription waits for its hour"
        first = make_alert(s, sme, csirt, tlp="green", name="First thing")
        make_alert(s, sme, csirt, tlp="green", name="Second thing", asset="shop.example")
        s.add(AlertEvent(alert_pk=first.pk, org_pk=sme.pk, type=AlertEventType.escalated.value,
                         created_at=now_micros()))
    assert dispatch.run_batch(sessions, settings, "w1") == 0, "held for the digest"
    with db.transaction(sessions) as s:
        s.execute(update(Subscription).where(Subscription.pk == sub.pk).values(last_digest_at=0))  # a day passed
    with db.transaction(sessions) as s:
        assert digests.make_due(s) == 1
    with db.transaction(sessions) as s:
        assert digests.make_due(s) == 0, "one digest per period"
    assert dispatch.run_batch(sessions, settings, "w1") == 1
    [mail] = smtp_server.messages
    text = plain_text(mail)
    headlines = re.findall(r"^\d+\. (.+)$", text, re.MULTILINE)
    assert len(headlines) == 2, text
    assert sorted(h.split()[0] for h in headlines) == ["login.bakery.example", "login.shop.example"], headlines
    assert mail["Subject"] == f"{sme.name}: 2 new alerts today"
    with db.transaction(sessions) as s:
        assert sorted(d.status for d in s.scalars(select(Delivery))) == ["bundled", "bundled", "bundled", "sent"]


def test_the_hourly_cap_postpones_without_counting_an_attempt(sessions: sessionmaker[Session], settings: Settings,
                                                              make_org: MakeOrg, receiver: Receiver) -> None:
    sme, csirt = make_org(Role.sme).org, make_org(Role.csirt).org
    with db.transaction(sessions) as s:
        subscribe(s, sme, settings, webhook=receiver.url)
        many_alerts(s, sme, csirt, 3)
    dispatch.run_batch(sessions, settings.model_copy(update={"delivery_org_hourly_cap": 2}), "w1")
    assert len(receiver.received) == 2
    with db.transaction(sessions) as s:
        [waiting] = s.scalars(select(Delivery).where(Delivery.status == "pending"))
        assert waiting.attempts == 0
        assert waiting.next_at % HOUR == 0
        assert waiting.next_at > now_micros()


def test_sigterm_finishes_the_batch_in_hand(sessions: sessionmaker[Session], settings: Settings, database_url: str,
                                            make_org: MakeOrg, receiver: Receiver, tmp_path: Path) -> None:
    sme, csirt = make_org(Role.sme).org, make_org(Role.csirt).org
    with db.transaction(sessions) as s:
        subscribe(s, sme, settings, webhook=receiver.url)
        many_alerts(s, sme, csirt, 60)
    receiver.gate = threading.Event()
    env = {**os.environ, "EXCHANGE_DATABASE_URL": database_url, "EXCHANGE_DELIVERY_DISPATCH_SECONDS": "0.2",
           "EXCHANGE_DELIVERY_BATCH_SIZE": "20", "EXCHANGE_WEBHOOK_ALLOWED_HOSTS": '["127.0.0.1"]'}
    with open(tmp_path / "worker.log", "wb") as out:
        worker = subprocess.Popen([EXCHANGE, "worker"], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        assert receiver.first.wait(20), (tmp_path / "worker.log").read_text()
        worker.send_signal(signal.SIGTERM)
    finally:
        receiver.gate.set()
        code = worker.wait(20)
    assert code == 0, (tmp_path / "worker.log").read_text()
    with db.transaction(sessions) as s:
        statuses = [d.status for d in s.scalars(select(Delivery))]
    assert statuses.count("sent") == 20 == len(receiver.ids()), "the whole batch, and only it"
    assert statuses.count("pending") == 40
