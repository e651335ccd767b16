"""`exchange worker` scales out: each periodic job fires once per period however many workers run.

The lease is tested on the real database (SQLite, or PostgreSQL with EXCHANGE_TEST_DATABASE_URL), then
two real worker processes share one database with a one-second heartbeat and each window must run on
exactly one of them.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from exchange.core.db import transaction
from exchange.jobs import lease
from exchange.jobs.lease import JobLease

EXCHANGE = str(Path(sys.executable).with_name("exchange"))
RAN = re.compile(rb"job heartbeat: window (\S+) runs here")


def _claim(sessions: sessionmaker[Session], name: str, holder: str, *, lease_seconds: float = 60) -> int | None:
    with transaction(sessions) as session:
        return lease.claim(session, name, holder, period_seconds=3600, lease_seconds=lease_seconds)


def test_one_claim_per_window_and_none_while_a_run_holds_the_job(sessions: sessionmaker[Session]) -> None:
    name, other = f"job-{uuid.uuid4().hex[:8]}", f"job-{uuid.uuid4().hex[:8]}"
    with transaction(sessions) as session:
        lease.register(session, [name, other])
    with transaction(sessions) as session:
        lease.register(session, [name])  # a second worker starting: no error, no second row

    window = _claim(sessions, name, "worker-a")
    assert window is not None
    assert _claim(sessions, name, "worker-b") is None  # same window, another worker: refused
    with transaction(sessions) as session:
        lease.release(session, name, "worker-a")
    assert _claim(sessions, name, "worker-b") is None  # released, but this window already ran

    # A window that is due but whose last run still holds the lease (or died holding it) waits for it.
    with transaction(sessions) as session:
        row = session.get(JobLease, other)
        assert row is not None
        row.holder, row.due_at, row.locked_until = "worker-a", 0, 2**62
    assert _claim(sessions, other, "worker-b") is None
    with transaction(sessions) as session:
        lease.release(session, other, "worker-a")
    assert _claim(sessions, other, "worker-b") is not None
    with sessions() as session:
        assert session.scalars(select(JobLease.holder).where(JobLease.name == other)).one() == "worker-b"


def test_two_workers_run_each_heartbeat_window_once(database_url: str, tmp_path: Path) -> None:
    env = {**os.environ, "EXCHANGE_DATABASE_URL": database_url, "EXCHANGE_WORKER_TICK_SECONDS": "1",
           "EXCHANGE_LOG_LEVEL": "INFO"}
    logs = [tmp_path / "worker-a.log", tmp_path / "worker-b.log"]
    procs = []
    for path in logs:
        with open(path, "wb") as out:  # a file, not a pipe: a chatty worker never blocks on it
            procs.append(subprocess.Popen([EXCHANGE, "worker"], env=env, stdout=out, stderr=subprocess.STDOUT))
    try:
        runs: list[list[bytes]] = [[], []]
        deadline = time.monotonic() + 90
        while sum(map(len, runs)) < 8:
            for proc, path in zip(procs, logs, strict=True):
                assert proc.poll() is None, path.read_text(errors="replace")
            assert time.monotonic() < deadline, f"too few runs by the deadline: {runs}"
            time.sleep(0.2)  # polling the logs, not waiting for an outcome
            runs = [RAN.findall(path.read_bytes()) for path in logs]
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=30)
    windows = runs[0] + runs[1]
    assert len(set(windows)) == len(windows), f"a window ran on both workers: {runs}"
