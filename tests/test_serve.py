"""`exchange serve --demo` as a newcomer runs it: a real process on a real port, then real requests."""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from exchange.bench.taxii_run import free_port
from tests.conftest import once

pytestmark = once("the demo server runs on a SQLite file of its own")

EXCHANGE = str(Path(sys.executable).with_name("exchange"))


def _wait_for_line(proc: subprocess.Popen[bytes], needle: bytes, timeout: float, *, count: int = 1,
                   seen: bytes = b"") -> bytes:
    """Read the server's log, after what was ``seen`` of it already, until ``needle`` has appeared ``count``
    times (event-driven: no fixed sleeps)."""
    assert proc.stderr is not None
    selector = selectors.DefaultSelector()
    selector.register(proc.stderr, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    while seen.count(needle) < count:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or proc.poll() is not None:
            raise AssertionError(f"server did not report {needle!r}; output so far:\n{seen.decode(errors='replace')}")
        if selector.select(remaining):
            seen += os.read(proc.stderr.fileno(), 65536)
    return seen


@pytest.fixture
def demo_server(tmp_path: Path) -> Iterator[tuple[str, dict[str, str], bytes]]:
    port = free_port()
    env = os.environ | {"EXCHANGE_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}", "COLUMNS": "200"}
    proc = subprocess.Popen([EXCHANGE, "serve", "--demo", "--port", str(port)], env=env, cwd=tmp_path,
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
    try:
        log = _wait_for_line(proc, b"Uvicorn running on", timeout=120)
        yield f"http://127.0.0.1:{port}", env, log
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_serve_demo_answers_real_requests(demo_server: tuple[str, dict[str, str], bytes]) -> None:
    base, env, log = demo_server
    assert b"Demo National CSIRT" in log
    assert b"exk_" in log
    assert httpx.get(f"{base}/readyz").json() == {"status": "ready"}
    rotated = subprocess.run([EXCHANGE, "key", "rotate", "demo-national-csirt", "--json"], env=env,
                             capture_output=True, check=True)
    key = json.loads(rotated.stdout)["api_key"]
    headers = {"Authorization": f"Bearer {key}"}
    page = httpx.get(f"{base}/api/v1/objects", params={"type": "indicator", "limit": 500}, headers=headers).json()
    assert len(page["objects"]) >= 300
    hit = httpx.get(f"{base}/api/v1/observables", params={"value": "login.bakery-example.test"}, headers=headers)
    assert hit.json()["known"] is True
    assert httpx.get(f"{base}/api/v1/objects").status_code == 401
