"""``exchange bench alerts``: how fast matching keeps up with ingest (issue 17, "Performance").

The hub holds ``smes`` organisations with 10 verified assets each (3 domains, 4 /24 ranges, 3 software
products); a CSIRT stores ``n`` mixed objects (the ingest benchmark's indicators, and every 100th one an
indicator or vulnerability that concerns somebody). Timed apart: the ingest, then the matching job run
until the cursor reaches the end. Separately, the look-alike keys alone: ``lookalike_registered``
verified domains against ``lookalike_published`` new domain names. Building the inventory is not timed.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import func, insert, select

from exchange.alerts import matching
from exchange.alerts.lookalike import LookalikeIndex
from exchange.alerts.models import Alert
from exchange.assets.models import Asset, AssetKind, VerificationMethod
from exchange.bench.data import TLP_GREEN, indicators
from exchange.core import db
from exchange.core.timestamps import now_micros
from exchange.orgs import service as orgs
from exchange.orgs.models import Org, Role
from exchange.stix.observables import ip_observable
from exchange.store.bulk import batched, ingest_stream

YEAR = 365 * 86_400 * 1_000_000
_SYLLABLES = ("ba", "ke", "ri", "mo", "lu", "sa", "ne", "to", "vi", "da", "po", "fe", "gu", "zi", "ha", "ro")
PRODUCTS = 5_000


@dataclass(frozen=True, slots=True)
class AlertsReport:
    database: str
    smes: int
    assets: int
    objects: int
    relevant: int
    ingest_seconds: float
    match_seconds: float
    alerts: int
    lookalike_registered: int
    lookalike_published: int
    lookalike_found: int
    lookalike_seconds: float

    @property
    def match_rate(self) -> float:
        return self.objects / self.match_seconds if self.match_seconds else 0.0

    @property
    def ingest_rate(self) -> float:
        return self.objects / self.ingest_seconds if self.ingest_seconds else 0.0


def _name(rng: random.Random, i: int) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(3)) + f"-shop{i}"


def inventory(smes: int, rng: random.Random) -> tuple[list[dict[str, Any]], list[list[dict[str, Any]]]]:
    """``smes`` organisations (insert rows) and each one's 10 verified assets: the hub's SME population,
    shared with the web pages benchmark so both measure against the same shape of inventory."""
    now = now_micros()
    org_rows, assets = [], []
    for i in range(smes):
        org_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        org_rows.append({"id": org_id, "name": f"SME {i}", "slug": f"sme-{i}", "role": Role.sme,
                         "identity_id": f"identity--{org_id}", "created_at": now})
        own: list[dict[str, Any]] = []
        for d in range(3):
            own.append({"kind": AssetKind.domain.value, "value": f"{_name(rng, i)}{d}.de"})
        for c in range(4):
            block = 5 * 2**24 + (i * 4 + c) * 256
            net = ip_observable(f"{block >> 24}.{block >> 16 & 255}.{block >> 8 & 255}.0/24")
            assert net is not None  # noqa: S101 - a well-formed range
            own.append({"kind": AssetKind.cidr.value, "value": net.value, "ip_lo": net.ip_lo, "ip_hi": net.ip_hi})
        for p in rng.sample(range(PRODUCTS), 3):
            own.append({"kind": AssetKind.software.value, "value": f"cpe:2.3:a:vendor{p}:product{p}:2.{p % 7}",
                        "sw_vendor": f"vendor{p}", "sw_product": f"product{p}", "sw_version": f"2.{p % 7}"})
        for a in own:
            a.update(created_at=now, challenge="bench", verified_at=now, verification_expires_at=now + YEAR,
                     verification_method=VerificationMethod.approval.value)
        assets.append(own)
    return org_rows, assets


def _relevant(rng: random.Random, assets: list[list[dict[str, Any]]], k: int) -> dict[str, Any]:
    own = rng.choice(assets)
    created = "2024-06-01T00:00:00.000Z"
    ident = uuid.UUID(int=rng.getrandbits(128), version=4)
    base = {"spec_version": "2.1", "id": "", "created": created, "modified": created,
            "object_marking_refs": [TLP_GREEN], "confidence": 85}
    kind = k % 3
    if kind == 2:
        software = own[rng.randrange(7, 10)]
        return {**base, "type": "vulnerability", "id": f"vulnerability--{ident}",
                "name": f"CVE-2024-{10000 + k}", "x_exchange_affected": [
                    {"cpe": f"cpe:2.3:a:{software['sw_vendor']}:{software['sw_product']}:*",
                     "versions": "vers:generic/>=2.0|<3.0"}]}
    if kind == 1:
        cidr = own[rng.randrange(3, 7)]
        value = f"{cidr['value'].rsplit('.', 1)[0]}.{rng.randrange(1, 255)}"
        pattern = f"[ipv4-addr:value = '{value}']"
    else:
        pattern = f"[domain-name:value = 'login.{own[rng.randrange(3)]['value']}']"
    return {**base, "type": "indicator", "id": f"indicator--{ident}",
            "pattern": pattern, "pattern_type": "stix", "valid_from": created, "indicator_types": ["compromised"]}


def _objects(n: int, rng: random.Random, assets: list[list[dict[str, Any]]]) -> Iterator[dict[str, Any]]:
    background = indicators(n, seed=rng.randrange(2**31))
    for i, obj in enumerate(background):
        yield _relevant(rng, assets, i) if i % 100 == 99 else obj


def lookalikes(registered: int, published: int, seed: int = 1) -> tuple[int, float]:
    """(look-alikes found, seconds) for ``published`` new names against ``registered`` verified domains:
    index build plus look-ups, the look-alike half of a matching run."""
    rng = random.Random(seed)  # noqa: S311 - reproducible benchmark data, not secrets
    domains = [f"{_name(rng, i)}.fr" for i in range(registered)]
    names = []
    for i in range(published):
        if i % 100 == 0:  # one in a hundred imitates someone: a letter doubled
            d = rng.choice(domains)
            names.append(d[:2] + d[1:])
        else:
            names.append(f"{rng.getrandbits(40):x}-{_name(rng, i)}.{rng.choice(('com', 'net', 'xyz'))}")
    start = time.perf_counter()
    index = LookalikeIndex((d, d) for d in domains)
    found = sum(1 for name in names if index.find(name))
    return found, time.perf_counter() - start


def run(url: str, *, smes: int = 10_000, n: int = 100_000, seed: int = 1, batch_size: int = 5000,
        lookalike_registered: int = 20_000, lookalike_published: int = 100_000,
        progress: Callable[[str, int, int], None] | None = None) -> AlertsReport:
    db.upgrade(url)
    engine = db.make_engine(url)
    sessions = db.make_sessionmaker(engine)
    rng = random.Random(seed)  # noqa: S311 - reproducible benchmark data, not secrets
    org_rows, assets = inventory(smes, rng)
    with db.transaction(sessions) as session:
        publisher = orgs.create(session, name="Benchmark CSIRT", role=Role.csirt).org
        session.execute(insert(Org), org_rows)
        pks = {r[0]: r[1] for r in session.execute(select(Org.slug, Org.pk).where(Org.role == Role.sme))}
        session.execute(insert(Asset), [dict(a, org_pk=pks[o["slug"]]) for o, own in zip(org_rows, assets, strict=True)
                                        for a in own])
        matching.match_pending(session, limit=10**9)  # the cursor starts past the setup
        matching.prepare(session)  # what a running worker holds already (the look-alike part is timed below)
    payloads = [orjson.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": batch})
                for batch in batched(_objects(n, rng, assets), batch_size)]
    start = time.perf_counter()
    ingest_stream(sessions, payloads, org_slug=publisher.slug,
                  progress=(lambda k: progress("ingest", k, n)) if progress else None)
    ingested = time.perf_counter() - start
    start = time.perf_counter()
    while True:
        with db.transaction(sessions) as session:
            outcome = matching.run(session)
        if progress is not None:
            progress("match", outcome.objects, n)
        if outcome.objects == 0:
            break
    matched = time.perf_counter() - start
    with db.transaction(sessions) as session:
        alerts = session.scalar(select(func.count()).select_from(Alert)) or 0
    engine.dispose()
    found, seconds = lookalikes(lookalike_registered, lookalike_published, seed)
    return AlertsReport(engine.dialect.name, smes, sum(len(a) for a in assets), n, n // 100, ingested, matched,
                        alerts, lookalike_registered, lookalike_published, found, seconds)
