"""`exchange serve --workers N`: N processes on one listening socket, taking connections in turn (``core.workers``).

Checked on the running processes themselves (Linux's /proc): which process holds which socket. With uvicorn's
accept loops, the process that woke first accepted a burst of connections and kept them; with a socket per
process, the kernel split them by a hash, 13 / 7 as often as not (decision 0014). Each must hold its share.
"""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
from pathlib import Path

import httpx
import pytest

from exchange.bench.taxii_run import free_port
from exchange.core import workers
from tests.conftest import once
from tests.test_serve import EXCHANGE, _wait_for_line

pytestmark = [pytest.mark.skipif(not Path("/proc/net/tcp").exists() or not workers.supported(1),
                                 reason="Linux only: reads /proc; only Linux spreads connections over sockets"),
              once("the servers run on a SQLite file of their own")]
STARTED = b"Application startup complete"


def _listening(port: int, state: str = "0A") -> set[str]:
    """Inodes of the sockets on local port ``port`` in ``state`` (/proc/net/tcp and tcp6: 0A listening,
    01 established)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == state and int(fields[1].rsplit(":", 1)[1], 16) == port:
                found.add(fields[9])
    return found


def _holders(parent: int, inodes: set[str]) -> dict[int, set[str]]:
    """Which child process of ``parent`` holds which of ``inodes``."""
    children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
    held: dict[int, set[str]] = {}
    for pid in map(int, children):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            target = os.readlink(fd)
            if target.startswith("socket:[") and target[8:-1] in inodes:
                held.setdefault(pid, set()).add(target[8:-1])
    return held


def _serve(tmp_path: Path, port: int) -> subprocess.Popen[bytes]:
    """``exchange serve --workers 2`` in a process group of its own, as a terminal would run it."""
    env = os.environ | {"EXCHANGE_DATABASE_URL": f"sqlite:///{tmp_path / 'hub.db'}", "EXCHANGE_LOG_LEVEL": "INFO"}
    return subprocess.Popen([EXCHANGE, "serve", "--workers", "2", "--port", str(port)], env=env, cwd=tmp_path,
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, start_new_session=True)


def test_the_processes_share_one_socket_take_turns_and_one_that_dies_is_replaced(tmp_path: Path) -> None:
    port = free_port()
    proc = _serve(tmp_path, port)
    try:
        log = _wait_for_line(proc, STARTED, 120, count=2)
        listening = _listening(port)
        held = _holders(proc.pid, listening)
        assert len(listening) == 1, "one socket"
        assert list(held.values()) == [listening, listening], "held by both processes"
        users = [httpx.Client(base_url=f"http://127.0.0.1:{port}") for _ in range(10)]  # each keeps its connection
        try:
            for user in users:
                assert user.get("/healthz").status_code == 200
            connections = _holders(proc.pid, _listening(port, "01"))
            assert sorted(len(inodes) for inodes in connections.values()) == [5, 5], connections
        finally:
            for user in users:
                user.close()

        gone, kept = sorted(held)
        # its own children (the ingest helper and multiprocessing's resource tracker) must not outlive it
        orphans = [os.pidfd_open(int(pid)) for pid in Path(f"/proc/{gone}/task/{gone}/children").read_text().split()]
        assert orphans
        os.kill(gone, signal.SIGKILL)  # as the kernel's OOM killer would
        _wait_for_line(proc, STARTED, 120, count=3, seen=_wait_for_line(proc, b"starting another", 120, seen=log))
        for handle in orphans:  # readable once that process has ended
            assert select.select([handle], [], [], 60)[0] == [handle]
            os.close(handle)
        replaced = _holders(proc.pid, _listening(port))
        assert len(replaced) == 2
        assert kept in replaced
        assert gone not in replaced
        assert _listening(port) == listening
        assert httpx.get(f"http://127.0.0.1:{port}/readyz").json() == {"status": "ready"}

        proc.send_signal(signal.SIGTERM)  # as `docker stop` does
        assert proc.wait(timeout=60) == 0
        assert _listening(port) == set()
    finally:
        _end(proc)


def test_ctrl_c_stops_every_process_without_a_traceback(tmp_path: Path) -> None:
    """Ctrl-C reaches the whole group: the supervisor, the server processes and their ingest helpers."""
    proc = _serve(tmp_path, port := free_port())
    try:
        _wait_for_line(proc, STARTED, 120, count=2)
        os.killpg(proc.pid, signal.SIGINT)
        assert proc.wait(timeout=60) == 0
        assert proc.stderr is not None
        assert b"Traceback" not in proc.stderr.read()
        assert _listening(port) == set()
    finally:
        _end(proc)


def test_server_processes_end_when_the_supervisor_is_killed(tmp_path: Path) -> None:
    """A supervisor killed outright cannot pass a signal on; its processes must not keep the port."""
    proc = _serve(tmp_path, port := free_port())
    try:
        _wait_for_line(proc, STARTED, 120, count=2)
        handles = [os.pidfd_open(pid) for pid in _holders(proc.pid, _listening(port))]
        assert len(handles) == 2
        proc.kill()
        for handle in handles:  # readable once that process has ended
            assert select.select([handle], [], [], 60)[0] == [handle]
            os.close(handle)
        assert _listening(port) == set()
    finally:
        _end(proc)


def _end(proc: subprocess.Popen[bytes]) -> None:
    """Whatever a failed test left running: the whole group."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def test_a_port_another_program_holds_stops_the_supervisor_with_one_line(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        assert workers.run("127.0.0.1", taken.getsockname()[1], 2, "warning") == 1
    assert [record.getMessage().split(":")[0] for record in caplog.records] == ["cannot listen on 127.0.0.1"]
    assert not any(record.exc_info for record in caplog.records)
