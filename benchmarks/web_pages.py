"""Server time of the portal's pages under concurrent users (issue 20's performance target).

    python benchmarks/web_pages.py --objects 100000 --alerts 5000 --users 20 --rounds 10 [--database-url URL]

Builds a store of ``--objects`` indicators published by a CSIRT, an SME with ``--alerts`` alerts and one
verified domain, serves the app with uvicorn in a process of its own, signs
``--users`` browsers in, and has them all fetch every page ``--rounds`` times at once. Prints p50 / p95
per page in milliseconds, measured by the clients on loopback (server time plus a loopback round trip).
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlalchemy import insert, select

from exchange.alerts.models import Alert
from exchange.assets import service as assets
from exchange.assets.models import AssetKind
from exchange.bench.data import indicators
from exchange.core import db
from exchange.core.settings import Settings
from exchange.core.timestamps import now_micros
from exchange.orgs import service as orgs
from exchange.orgs import users
from exchange.orgs.models import Role, UserRole
from exchange.store.bulk import batched, ingest_stream
from exchange.store.models import StixObject

PASSWORD = "benchmark password 1"  # noqa: S105 - a throw-away database's user


def seed(settings: Settings, objects: int, alerts: int) -> tuple[str, str]:
    sessions = db.make_sessionmaker(db.make_engine(settings.database_url))
    with db.transaction(sessions) as s:
        csirt = orgs.create(s, name="Bench CSIRT", role=Role.csirt).org
        sme = orgs.create(s, name="Bench SME", role=Role.sme).org
        users.create(s, sme, email="owner@bench-sme.test", role=UserRole.owner, password=PASSWORD)
        users.create(s, csirt, email="analyst@bench-csirt.test", role=UserRole.owner, password=PASSWORD)
        assets.approve(assets.create(s, sme, AssetKind.domain, "bakery.test", settings=settings), None,
                       settings=settings)
        csirt_slug, sme_pk = csirt.slug, sme.pk
    started = time.perf_counter()
    ingest_stream(sessions, batched(indicators(objects), 5000), org_slug=csirt_slug)
    print(f"stored {objects} objects in {time.perf_counter() - started:.0f} s")
    with db.transaction(sessions) as s:
        object_id = s.scalar(select(StixObject.stix_id).limit(1))
        now = now_micros()
        s.execute(insert(Alert), [
            {"org_pk": sme_pk, "asset_pk": None, "match_key": f"bench:{i}", "object_id": object_id,
             "object_modified": now, "kind": "listed", "severity": "high", "grade": "unknown",
             "state": "new" if i % 3 else "fixed", "matched": f"host{i}.bakery.test", "created_at": now + i,
             "updated_at": now + i, "withheld": False} for i in range(alerts)])
        first_alert = s.scalar(select(Alert.pk).where(Alert.org_pk == sme_pk).order_by(Alert.pk.desc()).limit(1))
    return str(first_alert), str(object_id)


def sign_in(base: str, email: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=60)
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/signin").text)
    if token is None:
        raise SystemExit("no sign-in form")
    answer = client.post("/signin", data={"csrf": token.group(1), "email": email, "password": PASSWORD})
    if answer.status_code != 303:
        raise SystemExit(f"sign-in failed: {answer.status_code}")
    return client


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument("--alerts", type=int, default=5000)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/web-bench.db"
    db.upgrade(url)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    settings = Settings(database_url=url, base_url=base, rate_limit_per_ip="", rate_limit_per_key="",
                        assets_allow_reserved=True, web_signin_limit="100000/minute")
    alert, object_id = seed(settings, args.objects, args.alerts)
    # The server in its own process, as `exchange serve` runs it: the clients here must not share its GIL.
    env = {**os.environ, "EXCHANGE_DATABASE_URL": url, "EXCHANGE_BASE_URL": base, "EXCHANGE_RATE_LIMIT_PER_IP": "",
           "EXCHANGE_RATE_LIMIT_PER_KEY": "", "EXCHANGE_WEB_SIGNIN_LIMIT": "100000/minute"}
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory", "exchange.app:app_from_env",
                               "--port", str(port), "--log-level", "warning"], env=env)
    for _ in range(600):  # until it answers (a benchmark, not a test: polling is fine here)
        try:
            httpx.get(f"{base}/healthz")
            break
        except httpx.TransportError:
            time.sleep(0.1)
    pages = {"sme": ["/inbox", "/inbox?show=all", f"/inbox/{alert}", "/assets", "/settings",
                     "/objects?type=indicator", f"/objects/{object_id}"],
             "csirt": ["/dashboard", "/objects?type=indicator"]}
    emails = {"sme": "owner@bench-sme.test", "csirt": "analyst@bench-csirt.test"}
    print(f"{args.users} concurrent users, {args.rounds} rounds, {args.objects} objects, {args.alerts} alerts, "
          f"{url.split(':')[0]}")
    print(f"{'page':45} {'alone p50':>9} {'p50 ms':>8} {'p95 ms':>8}")
    for who, paths in pages.items():
        clients = [sign_in(base, emails[who]) for _ in range(args.users)]
        alone = {}
        for path in paths:  # one user alone: the server time without queueing (the first request warms up)
            took = []
            for _ in range(args.rounds + 1):
                start = time.perf_counter()
                clients[0].get(path)
                took.append((time.perf_counter() - start) * 1000)
            alone[path] = statistics.median(took[1:])
        for path in paths:
            def fetch(client: httpx.Client, path: str = path) -> list[float]:
                took = []
                for _ in range(args.rounds):
                    start = time.perf_counter()
                    answer = client.get(path)
                    took.append((time.perf_counter() - start) * 1000)
                    if answer.status_code != 200:
                        raise SystemExit(f"{path}: {answer.status_code}")
                return took
            with ThreadPoolExecutor(args.users) as pool:
                times = sorted(t for batch in pool.map(fetch, clients) for t in batch)
            p95 = statistics.quantiles(times, n=20)[-1]
            print(f"{who + ' ' + path[:38]:45} {alone[path]:9.1f} {statistics.median(times):8.1f} {p95:8.1f}")
        for client in clients:
            client.close()
    server.terminate()
    server.wait()


if __name__ == "__main__":
    main()
