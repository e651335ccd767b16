"""``exchange bench delivery``: issue 18's performance figures, measured on the real pieces.

1. Latency: a real ``exchange serve`` and one ``exchange worker`` (both as processes, default
   settings) on a scratch database; a CSIRT POSTs indicators over TAXII, each naming one SME's
   verified domain; each SME's webhook is a local endpoint that checks every signature. Per
   indicator: from the POST's answer to the signed webhook's arrival (matching period, fan-out,
   dispatch, signing and the HTTP call included).
2. Mail rate: alerts already in the outbox, one dispatch loop (what one worker runs) sending them to
   a local SMTP server (aiosmtpd, a development dependency), with every message composed and worded.
3. Two dispatch loops at once on the same outbox: the same total, and how many arrived twice.
"""

from __future__ import annotations

import importlib.util
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker
from stix2.v21 import TLP_GREEN

from exchange.alerts.delivery import dispatch
from exchange.alerts.delivery import service as subscriptions
from exchange.alerts.delivery.models import Channel
from exchange.alerts.delivery.sink import WebhookLog
from exchange.alerts.models import Alert, AlertEvent, AlertEventType, AlertKind, AlertState, Severity, SourceGrade
from exchange.assets import service as assets
from exchange.assets.models import AssetKind
from exchange.bench.taxii_run import free_port, server_process
from exchange.core import db
from exchange.core.settings import Settings
from exchange.core.timestamps import now_micros
from exchange.orgs import service as orgs
from exchange.orgs.models import Org, Role
from exchange.store import ingest, reads
from exchange.store.reads import DEFAULT_COLLECTION_ID

TAXII = "application/taxii+json;version=2.1"
PER_POST = 10  # indicators per TAXII POST
EXCHANGE = str(Path(sys.executable).with_name("exchange"))


@dataclass(frozen=True, slots=True)
class Latency:
    seconds: list[float]  # POST answered -> signed webhook received, one per alert
    missing: int  # alerts whose webhook did not arrive within the wait

    def percentile(self, q: float) -> float:
        ordered = sorted(self.seconds)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


@dataclass(frozen=True, slots=True)
class MailRate:
    sent: int
    seconds: float
    distinct: int  # distinct Message-IDs received: sent - distinct arrived twice

    @property
    def rate(self) -> float:
        return self.sent / self.seconds if self.seconds else 0.0


def _csirt_and_smes(sessions: sessionmaker[Session], settings: Settings, smes: int,
                    subscribe: Callable[[Session, Org, int], object]) -> orgs.IssuedKey:
    """A CSIRT, and ``smes`` SMEs each with a verified ``smeN.bench.test`` and a subscription."""
    reserved = settings.model_copy(update={"assets_allow_reserved": True})
    with db.transaction(sessions) as session:
        csirt = orgs.create(session, name="Bench CSIRT", role=Role.csirt)
        for n in range(smes):
            sme = orgs.create(session, name=f"Bench SME {n}", role=Role.sme).org
            asset = assets.create(session, sme, AssetKind.domain, f"sme{n}.bench.test", settings=reserved)
            assets.approve(asset, None, settings=settings)
            subscribe(session, sme, n)
    return csirt


def latency(url: str, *, alerts: int = 1000, smes: int = 100, pace: float = 0.1, wait: float = 120.0) -> Latency:
    """POST ``alerts`` indicators (``PER_POST`` a POST, one POST every ``pace`` seconds) and time each webhook."""
    db.upgrade(url)
    engine = db.make_engine(url)
    settings = Settings(database_url=url)
    secret = subscriptions.new_secret()
    arrived: dict[str, float] = {}
    done = threading.Condition()

    def record(event: Any, verified: bool) -> None:
        if verified and isinstance(event, dict):
            with done:
                arrived.setdefault(event["data"]["object_id"], time.time())
                done.notify_all()

    with tempfile.TemporaryDirectory(prefix="exchange-bench-delivery-") as tmp:
        sink = WebhookLog(Path(tmp) / "webhooks.jsonl", secret, on_event=record)
        sink.start()
        allowed = settings.model_copy(update={"webhook_allowed_hosts": ["127.0.0.1"]})
        csirt = _csirt_and_smes(db.make_sessionmaker(engine), allowed, smes, lambda s, org, _: subscriptions.create(
            s, org, channel=Channel.webhook, address=sink.url, secret=secret, settings=allowed))
        engine.dispose()
        port = free_port()
        env = {**os.environ, "EXCHANGE_DATABASE_URL": url, "EXCHANGE_WEBHOOK_ALLOWED_HOSTS": '["127.0.0.1"]',
               "EXCHANGE_DELIVERY_ORG_HOURLY_CAP": str(alerts + 1)}
        accepted: dict[str, float] = {}
        try:
            with server_process([EXCHANGE, "serve", "--port", str(port)], ready=r"listening on", env=env), \
                    server_process([EXCHANGE, "worker"], ready=r"worker started", env=env), \
                    httpx.Client(base_url=f"http://127.0.0.1:{port}", auth=(csirt.org.slug, csirt.api_key),
                                 headers={"Accept": TAXII, "Content-Type": TAXII}, timeout=60) as http:
                for batch in _batches(alerts, smes):
                    started = time.monotonic()
                    answer = http.post(f"/taxii2/default/collections/{DEFAULT_COLLECTION_ID}/objects/",
                                       content=orjson.dumps({"objects": batch}))
                    answer.raise_for_status()
                    now = time.time()
                    accepted.update((obj["id"], now) for obj in batch)
                    time.sleep(max(0.0, pace - (time.monotonic() - started)))  # a steady rate, not one burst
                with done:
                    done.wait_for(lambda: len(arrived) >= alerts, wait)
        finally:
            sink.stop()
    seconds = [arrived[i] - accepted[i] for i in accepted if i in arrived]
    return Latency(seconds, alerts - len(seconds))


def _batches(alerts: int, smes: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for n in range(alerts):
        stamp = "2026-12-01T00:00:00.000Z"
        batch.append({"type": "indicator", "spec_version": "2.1", "id": f"indicator--{_uuid(n)}", "created": stamp,
                      "modified": stamp, "name": "Phishing page on your site", "pattern_type": "stix",
                      "pattern": f"[domain-name:value = 'login{n}.sme{n % smes}.bench.test']", "valid_from": stamp,
                      "object_marking_refs": [TLP_GREEN.id], "confidence": 85})
        if len(batch) == PER_POST:
            yield batch
            batch = []
    if batch:
        yield batch


def _uuid(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


# The local SMTP server, in a process of its own so it never competes with the measured worker for
# the interpreter: aiosmtpd (a development dependency) writing each Message-ID to a file.
_SMTP_SERVER = """
import sys, time
from aiosmtpd.controller import Controller
from email import message_from_bytes
out = open(sys.argv[2], "a", buffering=1)
class Handler:
    async def handle_DATA(self, server, session, envelope):
        head = envelope.original_content.split(b"\\r\\n\\r\\n", 1)[0]
        out.write(str(message_from_bytes(head)["Message-ID"]) + "\\n")
        return "250 OK"
Controller(Handler(), hostname="127.0.0.1", port=int(sys.argv[1])).start()
print("smtp ready", flush=True)
while True:
    time.sleep(3600)
"""


class _Received:
    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def ids(self) -> list[str]:
        return self.path.read_text().splitlines()


@contextmanager
def _smtp_server() -> Iterator[tuple[_Received, str]]:
    if importlib.util.find_spec("aiosmtpd") is None:  # a development dependency: only this benchmark needs it
        raise RuntimeError("the mail figures need aiosmtpd: pip install -e '.[dev]'")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="exchange-bench-smtp-") as tmp:
        ids = Path(tmp) / "message-ids.txt"
        ids.touch()
        with server_process([sys.executable, "-c", _SMTP_SERVER, str(port), str(ids)], ready="smtp ready"):
            yield _Received(ids), f"smtp://127.0.0.1:{port}"


def _queue(sessions: sessionmaker[Session], csirt: Org, smes: list[int], count: int, offset: int) -> None:
    """``count`` alerts spread over ``smes``, about one published object, with their events: the outbox a
    burst of matching leaves behind."""
    with db.transaction(sessions) as session:
        publisher = session.get_one(Org, csirt.pk)
        found = {"type": "indicator", "spec_version": "2.1", "id": f"indicator--{_uuid(10**9 + offset)}",
                 "created": "2026-12-01T00:00:00.000Z", "modified": "2026-12-01T00:00:00.000Z",
                 "name": "Phishing page on your site", "description": "A fake bank login page steals passwords.",
                 "pattern": "[domain-name:value = 'login.bench.test']", "pattern_type": "stix",
                 "valid_from": "2026-12-01T00:00:00.000Z", "object_marking_refs": [TLP_GREEN.id]}
        ingest.ingest(session, [found], collection=reads.get_collection(session), org=publisher)
        now = now_micros()
        session.execute(insert(Alert), [
            {"org_pk": smes[n % len(smes)], "asset_pk": None, "match_key": f"bench:{offset + n}",
             "object_id": found["id"], "object_modified": now, "kind": AlertKind.listed.value,
             "severity": Severity.high.value, "grade": SourceGrade.probable.value, "state": AlertState.new.value,
             "matched": f"login{n}.bench.test", "created_at": now, "updated_at": now} for n in range(count)])
        pks = session.scalars(select(Alert.pk).where(Alert.object_id == found["id"]))
        session.execute(insert(AlertEvent), [
            {"alert_pk": pk, "org_pk": org_pk, "type": AlertEventType.created.value, "created_at": now}
            for pk, org_pk in session.execute(select(Alert.pk, Alert.org_pk).where(Alert.pk.in_(pks.all())))])


def mail_rates(url: str, *, mails: int = 10_000, smes: int = 100) -> tuple[MailRate, MailRate]:
    """One dispatch loop sending ``mails`` e-mails, then two loops at once sending ``mails`` more."""
    db.upgrade(url)
    engine = db.make_engine(url)
    sessions = db.make_sessionmaker(engine)
    with _smtp_server() as (server, smtp_url):
        settings = Settings(database_url=url, smtp_url=smtp_url, smtp_from="alerts@hub.bench.test",
                            delivery_org_hourly_cap=10 * mails, base_url="https://hub.bench.test")
        csirt = _csirt_and_smes(sessions, settings, smes, lambda s, org, n: subscriptions.create(
            s, org, channel=Channel.email, address=f"it@sme{n}.bench.test", settings=settings))
        with sessions() as session:
            pks = list(session.scalars(select(Org.pk).where(Org.role == Role.sme).order_by(Org.pk)))
        figures = []
        for round_, loops in enumerate((1, 2)):
            _queue(sessions, csirt.org, pks, mails, offset=round_ * mails)
            before = len(server.ids)
            started = time.perf_counter()
            threads = [threading.Thread(target=_drain, args=(sessions, settings, f"bench-{round_}-{n}"))
                       for n in range(loops)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            seconds = time.perf_counter() - started
            got = server.ids[before:]
            figures.append(MailRate(len(got), seconds, len(set(got))))
    engine.dispose()
    return figures[0], figures[1]


def _drain(sessions: sessionmaker[Session], settings: Settings, holder: str) -> None:
    while dispatch.run_batch(sessions, settings, holder):
        pass


def summary(lat: Latency | None, one: MailRate | None, two: MailRate | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if lat is not None:
        out.update(alerts=len(lat.seconds) + lat.missing, missing=lat.missing,
                   p50_s=round(lat.percentile(0.5), 2), p99_s=round(lat.percentile(0.99), 2),
                   mean_s=round(statistics.fmean(lat.seconds), 2) if lat.seconds else None)
    if one is not None and two is not None:
        out.update(mails=one.sent, mails_per_s_one_worker=round(one.rate),
                   mails_two_workers=two.sent, mails_per_s_two_workers=round(two.rate),
                   duplicates_two_workers=two.sent - two.distinct)
    return out
