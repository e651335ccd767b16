"""Several server processes on one port, sharing one listening socket, each taking connections in turn.

Browsers, proxies and TAXII clients keep their connections open, so how connections were split over the
processes when they were opened decides how the work is split for as long as they last, and each process
computes on one core at most (one interpreter lock). Two ways of splitting them failed:

- uvicorn's ``--workers``: one shared socket, and the event loop of each process accepts every connection
  waiting when it wakes. The first process to wake took a burst of them: with 20 users on two processes, one
  served up to 99 % of the requests while the other idled, and a core with it.
- A socket per process (``SO_REUSEPORT``): the kernel hands each new connection to a socket by a hash of its
  addresses, so 20 connections split like coin tosses, 13 / 7 as often as not, and the process with more
  users made the slowest pages (decision 0014, "One port, two processes, one of them busy").

Here every process watches the shared socket and accepts a waiting connection only while it holds no more
open connections than the process with fewest (the counts are in shared memory): least connections, as a
load balancer would do it. A process ahead leaves the connection to the others for ``PAUSE`` seconds, then
takes it if it is still waiting, so a process that is stuck never holds new users up for longer.

The supervision is what uvicorn's own does: start the processes, start another when one that was serving
ends, and on SIGINT or SIGTERM pass SIGTERM on (uvicorn's graceful shutdown) and wait for them. A process
that ends before it serves (its database unusable) would only end again: then all stop, with status 1.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, MutableSequence
from multiprocessing.context import SpawnContext, SpawnProcess
from multiprocessing.synchronize import Event
from types import FrameType
from typing import Any

import uvicorn

from exchange.core.processes import follow_parent

log = logging.getLogger(__name__)

BACKLOG = 2048  # uvicorn's default
STOP_SECONDS = 30.0  # for requests in flight to finish, after which a process is killed
PAUSE = 0.05  # seconds a process ahead in connections leaves a new one to the others
_CHECK_SECONDS = 0.5
_GONE = 2**31 - 1  # the count of a process that takes no more connections: never the fewest


def supported(port: int) -> bool:
    """Linux (where this is tested; elsewhere uvicorn's supervisor serves) and a fixed port (``exchange serve``
    names the port it serves in its links before the processes start)."""
    return sys.platform == "linux" and port != 0


def run(host: str, port: int, workers: int, log_level: str) -> int:
    """Serve ``exchange.app:app_from_env`` from ``workers`` processes until SIGINT or SIGTERM; the exit status:
    0, or 1 when a process could not start."""
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: nothing of this one's state is shared
    stopping = threading.Event()

    def stop(_signum: int, _frame: FrameType | None) -> None:
        stopping.set()

    try:
        listener = listen(host, port)
    except OSError as exc:  # one line, not a traceback
        log.error("cannot listen on %s:%s: %s", host, port, exc.strerror or exc)
        return 1
    counts = context.Array("l", workers, lock=False)  # open connections of each process, by slot
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    started = [_start(context, listener, counts, slot, log_level) for slot in range(workers)]
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
                started[i] = _start(context, listener, counts, i, log_level)
    finally:
        _stop([process for process, _ in started])
        listener.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return status


def listen(host: str, port: int) -> socket.socket:
    """The listening socket the server processes share (``exchange serve`` also probes the port with it)."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(BACKLOG)
    except OSError:
        sock.close()
        raise
    return sock


def _start(context: SpawnContext, listener: socket.socket, counts: MutableSequence[int], slot: int,
           log_level: str) -> tuple[SpawnProcess, Event]:
    """The server process of ``slot``, and the event it sets once it serves."""
    counts[slot] = 0
    serving = context.Event()
    process = context.Process(target=_serve, args=(listener, counts, slot, log_level, serving),
                              name="exchange-server")
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
    """uvicorn's server with ``_FewestFirst`` accepting its connections, which says when it serves: its start-up
    ended without a failure (uvicorn exits on one)."""

    def __init__(self, config: uvicorn.Config, serving: Event, listener: socket.socket,
                 counts: MutableSequence[int], slot: int) -> None:
        super().__init__(config)
        self.serving, self.listener, self.counts, self.slot = serving, listener, counts, slot

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=[])  # the application's start-up, and no server of uvicorn's
        if self.should_exit:
            return
        accepting = _FewestFirst(self.listener, self._protocol, self.counts, self.slot, self.server_state.connections)
        self.servers.append(accepting)  # type: ignore[arg-type]
        self.serving.set()

    def _protocol(self) -> asyncio.Protocol:
        """A connection's protocol, made as uvicorn's ``startup`` makes it for its own servers."""
        protocol: asyncio.Protocol = self.config.http_protocol_class(  # type: ignore[call-arg]
            config=self.config, server_state=self.server_state, app_state=self.lifespan.state)
        return protocol


class _FewestFirst:
    """This process's accept loop on the shared socket (``uvicorn.Server.servers`` closes it and waits for it as
    it would for an asyncio server). Each time a connection waits, every process wakes, writes its count of open
    connections, and accepts only if no process has fewer; a process ahead stops watching for ``PAUSE``
    seconds. If by then no other process has taken a connection, the one waiting was left to a process that is
    stuck, and this one takes it whatever the counts."""

    def __init__(self, sock: socket.socket, protocol: Callable[[], asyncio.Protocol], counts: MutableSequence[int],
                 slot: int, connections: set[Any]) -> None:
        self.loop = asyncio.get_running_loop()
        self.sock, self.protocol, self.counts, self.slot, self.connections = sock, protocol, counts, slot, connections
        self.insist = False
        self.others: list[int] = []  # the other processes' counts when this one paused
        self.resume: asyncio.TimerHandle | None = None
        self.opening: set[asyncio.Task[Any]] = set()
        sock.setblocking(False)
        self.loop.add_reader(sock.fileno(), self._ready)

    def _ready(self) -> None:
        mine = self.counts[self.slot] = len(self.connections)
        if mine > min(self.counts) and not self.insist:
            self._pause()
            return
        self.insist = False
        try:
            conn, _ = self.sock.accept()
        except (BlockingIOError, InterruptedError):
            return  # another process took it
        except OSError as exc:  # out of descriptors, say: it stays queued, for another process or for later
            log.warning("cannot accept a connection: %s", exc.strerror or exc)
            self._pause()
            return
        self.counts[self.slot] = mine + 1
        conn.setblocking(False)
        opening = self.loop.create_task(self.loop.connect_accepted_socket(self.protocol, conn))
        self.opening.add(opening)
        opening.add_done_callback(self.opening.discard)

    def _others(self) -> list[int]:
        return [count for slot, count in enumerate(self.counts) if slot != self.slot]

    def _pause(self) -> None:
        self.loop.remove_reader(self.sock.fileno())
        self.others = self._others()
        self.resume = self.loop.call_later(PAUSE, self._resume)

    def _resume(self) -> None:
        self.insist, self.resume = self._others() == self.others, None
        self.loop.add_reader(self.sock.fileno(), self._ready)

    def close(self) -> None:
        self.loop.remove_reader(self.sock.fileno())
        if self.resume is not None:
            self.resume.cancel()
        self.counts[self.slot] = _GONE
        self.sock.close()

    async def wait_closed(self) -> None:
        await asyncio.gather(*self.opening, return_exceptions=True)


def _serve(listener: socket.socket, counts: MutableSequence[int], slot: int, log_level: str, serving: Event) -> None:
    """One server process on the shared socket, until SIGTERM or SIGINT, or until the supervisor is gone."""
    follow_parent(lambda: os.kill(os.getpid(), signal.SIGTERM))  # as SIGTERM would, were the supervisor alive
    config = uvicorn.Config("exchange.app:app_from_env", factory=True, log_level=log_level)
    _Server(config, serving, listener, counts, slot).run()
