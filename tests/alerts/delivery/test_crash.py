"""The crash test: ``kill -9`` a real worker in the middle of a batch of 1,000 webhooks, start another.

Every delivery must arrive at the (real, signature-verifying) receiver; a message may arrive twice
only under the same ``webhook-id`` with the same body; none is lost. Then SIGTERM stops the second
worker cleanly. Runs on SQLite and, with EXCHANGE_TEST_DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from exchange.alerts.delivery.models import Delivery, DeliveryStatus
from exchange.core import db
from exchange.core.settings import Settings
from exchange.orgs.models import Role
from tests.alerts.delivery.conftest import Receiver, many_alerts, subscribe
from tests.orgs_factory import MakeOrg

EXCHANGE = str(Path(sys.executable).with_name("exchange"))
COUNT = 1000


def _worker(database_url: str, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "EXCHANGE_DATABASE_URL": database_url, "EXCHANGE_DELIVERY_DISPATCH_SECONDS": "0.5",
           "EXCHANGE_DELIVERY_LEASE_SECONDS": "1", "EXCHANGE_DELIVERY_BATCH_SIZE": "400",
           "EXCHANGE_WEBHOOK_ALLOWED_HOSTS": '["127.0.0.1"]', "EXCHANGE_BASE_URL": "http://hub.example",
           "EXCHANGE_DELIVERY_ORG_HOURLY_CAP": "5000", "EXCHANGE_LOG_LEVEL": "WARNING"}
    with open(log, "wb") as out:  # a file, not a pipe: a chatty worker never blocks on it
        return subprocess.Popen([EXCHANGE, "worker"], env=env, stdout=out, stderr=subprocess.STDOUT)


def _counts(sessions: sessionmaker[Session]) -> dict[str, int]:
    with db.transaction(sessions) as s:
        rows = s.execute(select(Delivery.status, func.count()).group_by(Delivery.status))
        return {status: int(n) for status, n in rows}


def test_kill_9_mid_batch_loses_nothing(sessions: sessionmaker[Session], settings: Settings, database_url: str,
                                        make_org: MakeOrg, receiver: Receiver, tmp_path: Path) -> None:
    sme, csirt = make_org(Role.sme).org, make_org(Role.csirt).org
    with db.transaction(sessions) as s:
        subscribe(s, sme, settings, webhook=receiver.url)
        many_alerts(s, sme, csirt, COUNT)
    first = _worker(database_url, tmp_path / "a.log")
    try:
        assert receiver.wait_while_progressing(150), (tmp_path / "a.log").read_text()
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    with db.transaction(sessions) as s:
        in_flight = {str(pk) for pk in s.scalars(select(Delivery.pk).where(
            Delivery.leased_by.endswith(f":{first.pid}"), Delivery.status == DeliveryStatus.pending.value))}
        pks = {str(pk) for pk in s.scalars(select(Delivery.pk))}
    assert in_flight, "the worker died holding part of a batch"
    since = len(receiver.received)
    second = _worker(database_url, tmp_path / "b.log")
    try:
        # Every delivery arrived, and the second worker sent again each one the first held: all the rows
        # are in the second worker's batches, which SIGTERM lets it finish and record before it exits.
        assert receiver.wait_until(lambda: receiver.ids() == pks and in_flight <= {
            i for i, _, _ in receiver.received[since:]}), (len(receiver.ids()), _counts(sessions), second.poll())
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(20) == 0, (tmp_path / "b.log").read_text()
    assert receiver.forged == 0
    assert receiver.ids() == pks, "every delivery arrived"
    bodies: dict[str, str] = {}
    for webhook_id, event, _ in receiver.received:
        body = json.dumps(event, sort_keys=True)
        assert bodies.setdefault(webhook_id, body) == body, "a duplicate is the same message"
        assert event["id"] == webhook_id
    assert _counts(sessions) == {"sent": COUNT}
