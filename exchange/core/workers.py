"""Several server processes on one port, each with a listening socket of its own (``SO_REUSEPORT``).

uvicorn's ``--workers`` shares one listening socket between its processes, and the event loop of each
accepts every connection waiting when it wakes: the first process to wake takes a burst of them.
Browsers and proxies keep their connections open, so the split made at that moment lasts. With 20
users on two processes, one process served up to 99 % of the requests while the other idled, and a
core with it (decision 0014, "One port, two processes, one of them busy"). With a socket per process,
the kernel spreads new connections over the processes by a hash of their addresses, whatever each
process is busy with.

The supervision is what uvicorn's own does: start the processes, start another when one that was serving
ends, and on SIGINT or SIGTERM pass SIGTERM on (uvicorn's graceful shutdown) and wait for them. A process
that ends before it serves (its port or its database unusable) would only end again: then all stop, with
status 1.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from multiprocessing.context import SpawnContext, SpawnProcess
from multiprocessing.synchronize import Event
from types import FrameType

import uvicorn

from exchange.core.processes import follow_parent

log = logging.getLogger(__name__)

BACKLOG = 2048  # uvicorn's default
STOP_SECONDS = 30.0  # for requests in flight to finish, after which a process is killed
_CHECK_SECONDS = 0.5


def supported(port: int) -> bool:
    """Sockets of their own need Linux, whose ``SO_REUSEPORT`` spreads connections over the sockets (on macOS and
    most BSDs it hands them all to one), and a fixed port: with port 0 each process would get a different one."""
    return sys.platform == "linux" and port != 0


def run(host: str, port: int, workers: int, log_level: str) -> int:
    """Serve ``exchange.app:app_from_env`` from ``workers`` processes until SIGINT or SIGTERM; the exit status:
    0, or 1 when a process could not start."""
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: nothing of this one's state is shared
    stopping = threading.Event()

    def stop(_signum: int, _frame: FrameType | None) -> None:
        stopping.set()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    started = [_start(context, host, port, log_level) for _ in range(workers)]
    status = 0
    try:
        while not stopping.wait(_CHECK_SECONDS):
            for i, (process, serving) in enumerate(started):
                if process.exitcode is None:
                    continue
                if not serving.is_set():
                    log.error("server process %s could not start (exit status %s)", process.pid, process.exitcode)
                    status = 1
                    stopping.set()
                    break
                log.warning("server process %s ended (exit status %s); starting another", process.pid,
                            process.exitcode)
                started[i] = _start(context, host, port, log_level)
    finally:
        _stop([process for process, _ in started])
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return status


def _start(context: SpawnContext, host: str, port: int, log_level: str) -> tuple[SpawnProcess, Event]:
    """A server process, and the event it sets once it serves."""
    serving = context.Event()
    process = context.Process(target=_serve, args=(host, port, log_level, serving), name="exchange-server")
    process.start()
    return process, serving


def _stop(processes: list[SpawnProcess]) -> None:
    """SIGTERM to each (a second signal to a process that already had SIGINT from the terminal does no harm:
    uvicorn ends at once only on a second SIGINT), then wait, then kill what is left."""
    for process in processes:
        if process.exitcode is None:
            process.terminate()
    deadline = time.monotonic() + STOP_SECONDS
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.exitcode is None:
            log.warning("server process %s did not stop in %.0f s; killing it", process.pid, STOP_SECONDS)
            process.kill()
            process.join()


class _Server(uvicorn.Server):
    """uvicorn's server, which says when it serves: its start-up ended without a failure (uvicorn exits on one)."""

    def __init__(self, config: uvicorn.Config, serving: Event) -> None:
        super().__init__(config)
        self.serving = serving

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if not self.should_exit:
            self.serving.set()


def _serve(host: str, port: int, log_level: str, serving: Event) -> None:
    """One server process: its own socket on the shared port, then uvicorn on it, until SIGTERM or SIGINT, or
    until the supervisor is gone."""
    follow_parent(lambda: os.kill(os.getpid(), signal.SIGTERM))  # as SIGTERM would, were the supervisor alive
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:  # one line, not a child's traceback
        log.error("server process cannot listen on %s:%s: %s", host, port, exc.strerror or exc)
        raise SystemExit(1) from None
    sock.listen(BACKLOG)
    config = uvicorn.Config("exchange.app:app_from_env", factory=True, log_level=log_level)
    _Server(config, serving).run(sockets=[sock])
