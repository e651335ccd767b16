"""Server time of the portal's pages under concurrent users (issue 20's performance target).

    python benchmarks/web_pages.py --objects 1000000 --smes 10000 --alerts 5000 --users 20 --rounds 10 \
        [--database-url URL] [--reuse] [--server-workers N]

Builds a store of ``--objects`` indicators published by a CSIRT (bulk ingest, the ingest benchmark's
generator), ``--smes`` SMEs with 10 verified assets each (the alerts benchmark's inventory), and a
benchmark SME with one verified domain and ``--alerts`` alerts, each about a different object; then
serves the app with uvicorn in a process of its own, signs ``--users`` browsers in per role (SME, CSIRT,
ISAC) and has them all fetch each page ``--rounds`` times at once. The pages are every GET page of
``exchange.web.routes.PAGES`` that answers 200 for the role (so pages added later are measured too),
with known values for the path parameters. Prints, per page in milliseconds: one user's median alone, then
with every user at once p50 / p95 as the clients saw them (on loopback, from one event loop: server time,
the wait for a turn in the server's queue and a round trip) and p50 / p95 of the server's own time
(``Server-Timing``: from the moment the app took the request until its answer started).

``--reuse`` keeps a database that a previous run filled (``--database-url`` of a file or schema that
already holds the benchmark's data): loading a million objects takes minutes, and comparing two versions
of the code on one database is the fairest before/after (run the script with ``PYTHONPATH`` set to the
other checkout; the server process inherits it). On PostgreSQL, give a URL with a schema
(``?options=-csearch_path%3Dwebbench``); the script creates the schema.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import unquote

import aiohttp
import httpx
from fastapi.routing import APIRoute
from sqlalchemy import insert, select, text

from exchange.alerts.models import Alert
from exchange.assets import service as assets
from exchange.assets.models import Asset, AssetKind
from exchange.bench.alerts import inventory
from exchange.bench.data import indicators
from exchange.core import db
from exchange.core.settings import Settings
from exchange.core.timestamps import now_micros
from exchange.orgs import service as orgs
from exchange.orgs import users
from exchange.orgs.models import Org, Role, UserRole
from exchange.store.bulk import batched, ingest_stream
from exchange.store.models import StixObject
from exchange.web.routes import PAGES

PASSWORD = "benchmark password 1"  # noqa: S105 - a throw-away database's user
EMAILS = {"sme": "owner@bench-sme.test", "csirt": "analyst@bench-csirt.test", "isac": "analyst@bench-isac.test"}
# A redirect, the page of people who are not signed in, and the export: a download of the whole view (100,000
# objects here), not a page; twenty at once measured the machine's serialisation rate, not page time.
SKIPPED = {"/", "/signin", "/export"}


def seed(settings: Settings, objects: int, smes: int, alerts: int) -> None:
    engine = db.make_engine(settings.database_url)
    sessions = db.make_sessionmaker(engine)
    started = time.perf_counter()
    org_rows, owned = inventory(smes, random.Random(1))  # noqa: S311 - reproducible benchmark data
    with db.transaction(sessions) as s:
        made = {role: orgs.create(s, name=f"Bench {role}", role=Role(role)).org for role in EMAILS}
        for role, org in made.items():
            users.create(s, org, email=EMAILS[role], role=UserRole.owner, password=PASSWORD)
        assets.approve(assets.create(s, made["sme"], AssetKind.domain, "bakery.test", settings=settings), None,
                       settings=settings)
        s.execute(insert(Org), org_rows)
        pks = dict(s.execute(select(Org.slug, Org.pk).where(Org.role == Role.sme)).all())
        s.execute(insert(Asset), [dict(a, org_pk=pks[o["slug"]]) for o, own in zip(org_rows, owned, strict=True)
                                  for a in own])
        csirt_slug, sme_pk = made["csirt"].slug, made["sme"].pk
    print(f"stored {smes} SMEs with {sum(map(len, owned))} assets in {time.perf_counter() - started:.0f} s",
          flush=True)
    started = time.perf_counter()
    ingest_stream(sessions, batched(indicators(objects), 5000), org_slug=csirt_slug)
    print(f"stored {objects} objects in {time.perf_counter() - started:.0f} s", flush=True)
    with db.transaction(sessions) as s:
        # Each alert about a different object (spread over the store), as a real inbox is.
        ids = s.execute(select(StixObject.stix_id, StixObject.modified, StixObject.publisher_org_pk)
                        .where(StixObject.pk % max(1, objects // alerts) == 0).limit(alerts)).all()
        now = now_micros()
        s.execute(insert(Alert), [
            {"org_pk": sme_pk, "asset_pk": None, "match_key": f"bench:{i}", "object_id": ids[i % len(ids)][0],
             "object_modified": ids[i % len(ids)][1], "publisher_org_pk": ids[i % len(ids)][2],
             "kind": "listed", "severity": "high", "grade": "unknown",
             "state": "new" if i % 3 else "fixed", "matched": f"host{i}.bakery.test", "created_at": now + i,
             "updated_at": now + i, "withheld": False} for i in range(alerts)])
    if engine.dialect.name == "postgresql":  # what autovacuum would have done by the time people read pages
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    engine.dispose()


def seeded(url: str) -> bool:
    engine = db.make_engine(url)
    with db.make_sessionmaker(engine)() as s:
        found = s.scalar(select(Org.pk).where(Org.name == "Bench sme")) is not None
    engine.dispose()
    return found


def known_values(url: str) -> dict[str, str]:
    """Path parameters of the pages: the benchmark SME's newest alert and asset, an object every reader sees."""
    engine = db.make_engine(url)
    with db.make_sessionmaker(engine)() as s:
        sme = s.scalar(select(Org.pk).where(Org.name == "Bench sme"))
        values = {"alert_id": s.scalar(select(Alert.pk).where(Alert.org_pk == sme).order_by(Alert.pk.desc()).limit(1)),
                  "asset_id": s.scalar(select(Asset.pk).where(Asset.org_pk == sme).limit(1)),
                  "stix_id": s.scalar(select(Alert.object_id).where(Alert.org_pk == sme).limit(1))}
    engine.dispose()
    return {name: str(value) for name, value in values.items()}


def candidate_pages(values: dict[str, str]) -> list[str]:
    """Every GET page of the portal, path parameters filled in; pages with a parameter we have no value
    for are left out (and listed, so nobody believes they were measured)."""
    paths = []
    for router in PAGES:
        for route in router.routes:
            if not isinstance(route, APIRoute) or "GET" not in (route.methods or ()) or route.path in SKIPPED:
                continue
            try:
                paths.append(route.path.format(**values))
            except KeyError as missing:
                print(f"not measured (no value for {missing}): {route.path}")
    return paths + ["/inbox?show=all", "/objects?type=indicator", "/objects?value=bravo"]


def sign_in(base: str, email: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=120)
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/signin").text)
    if token is None:
        raise SystemExit("no sign-in form")
    answer = client.post("/signin", data={"csrf": token.group(1), "email": email, "password": PASSWORD})
    if answer.status_code != 303:
        raise SystemExit(f"sign-in failed: {answer.status_code}")
    return client


def serve(url: str, base: str, port: int, workers: int = 1) -> subprocess.Popen[bytes]:
    """The server as ``exchange serve --workers`` runs it, in processes of its own: the clients here must not
    share its GIL."""
    env = {**os.environ, "EXCHANGE_DATABASE_URL": url, "EXCHANGE_BASE_URL": base, "EXCHANGE_RATE_LIMIT_PER_IP": "",
           "EXCHANGE_RATE_LIMIT_PER_KEY": "", "EXCHANGE_WEB_SIGNIN_LIMIT": "100000/minute",
           "EXCHANGE_LOG_LEVEL": "WARNING"}
    server = subprocess.Popen([str(Path(sys.executable).with_name("exchange")), "serve", "--port", str(port),
                               "--workers", str(workers)], env=env, stdout=subprocess.DEVNULL)
    for _ in range(600):  # until it answers (a benchmark, not a test: polling is fine here)
        try:
            httpx.get(f"{base}/healthz")
            return server
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit("the server did not start")


def _server_ms(headers: Mapping[str, str]) -> float:
    """The server's own time for the answer (``Server-Timing: app;dur=…``, ``core.middleware.Metrics``)."""
    found = re.search(r"app;dur=([0-9.]+)", headers.get("server-timing", ""))
    return float(found.group(1)) if found else float("nan")


async def _round(clients: list[aiohttp.ClientSession], path: str, rounds: int) -> tuple[list[float], list[float]]:
    """Every user fetches ``path`` ``rounds`` times, all users at once: (times the clients saw, times the server
    reported), in ms. One event loop for all users: twenty client threads in one process queued behind each
    other for the GIL, and their wait was counted as the server's. aiohttp parses answers in C: httpx took
    1.4 ms of CPU per page, a tenth of what the server, the database and the clients used together on the
    benchmark's two cores, where the users it stands for run on machines of their own (aiohttp: 0.3 ms)."""
    async def user(client: aiohttp.ClientSession) -> list[tuple[float, float]]:
        took = []
        for _ in range(rounds):
            start = time.perf_counter()
            async with client.get(path) as answer:
                await answer.read()
                took.append(((time.perf_counter() - start) * 1000, _server_ms(answer.headers)))
                if answer.status != 200:
                    raise SystemExit(f"{path}: {answer.status}")
        return took

    found = [t for batch in await asyncio.gather(*(user(client) for client in clients)) for t in batch]
    return sorted(t for t, _ in found), sorted(s for _, s in found)


async def _measure(base: str, who: str, paths: list[str], users_: int, rounds: int) -> None:
    signed_in = [sign_in(base, EMAILS[who]) for _ in range(users_)]
    # Each user keeps its one connection from page to page, as a browser does.
    clients = [aiohttp.ClientSession(base_url=base, cookies=dict(c.cookies), timeout=aiohttp.ClientTimeout(120),
                                     connector=aiohttp.TCPConnector(limit=1)) for c in signed_in]
    await _round(clients, "/healthz", 1)
    for path in paths:
        first = signed_in[0].get(path)  # warms up, and tells whether the role has this page
        if first.status_code != 200:
            continue
        alone = []
        for _ in range(rounds):  # one user alone: the server time without queueing
            start = time.perf_counter()
            signed_in[0].get(path)
            alone.append((time.perf_counter() - start) * 1000)
        await _round(clients, path, 1)  # warms every server process (templates, statement caches), not timed
        seen, server = await _round(clients, path, rounds)
        p95 = statistics.quantiles(seen, n=20)[-1]
        print(f"{who + ' ' + unquote(path)[:40]:47} {statistics.median(alone):9.1f} {statistics.median(seen):8.1f} "
              f"{p95:8.1f} {statistics.median(server):8.1f} {statistics.quantiles(server, n=20)[-1]:8.1f}  "
              f"load {os.getloadavg()[0]:.1f}", flush=True)
    for client in clients:
        await client.close()
    for c in signed_in:
        c.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument("--smes", type=int, default=10_000)
    parser.add_argument("--alerts", type=int, default=5000)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--server-workers", type=int, default=1, help="server processes (exchange serve --workers)")
    parser.add_argument("--reuse", action="store_true", help="measure the data a previous run stored there")
    parser.add_argument("--pages", default="", help="only the pages whose path starts with one of these "
                        "(comma-separated, e.g. /inbox,/dashboard)")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/web-bench.db"
    if (schema := re.search(r"search_path%3D(\w+)", url)) is not None:
        db.create_schema(url.split("?")[0], schema.group(1))
    db.upgrade(url)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    if not (args.reuse and seeded(url)):
        seed(Settings(database_url=url, base_url=base, assets_allow_reserved=True), args.objects, args.smes,
             args.alerts)
    paths = candidate_pages(known_values(url))
    if args.pages:
        paths = [p for p in paths if p.startswith(tuple(args.pages.split(",")))]
    server = serve(url, base, port, args.server_workers)
    try:
        print(f"{args.users} concurrent users, {args.rounds} rounds, {args.server_workers} server process(es), "
              f"{url.split(':')[0]} ({url})")
        print(f"{'page':47} {'alone p50':>9} {'p50 ms':>8} {'p95 ms':>8} {'server':>8} {'server':>8}")
        print(f"{'':47} {'':>9} {'(20 users, as the clients saw)':>17} {'p50':>8} {'p95':>8}")
        for who in EMAILS:
            asyncio.run(_measure(base, who, paths, args.users, args.rounds))
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
