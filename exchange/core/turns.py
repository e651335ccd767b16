"""A request's turn at the database, and giving it back while the request waits on another host.

A server process works on ``requests_at_once`` requests at once (``core.deps.database_turn``): Python runs one
thread of a process at a time, so more at once only queued for it (decision 0014, "Requests at once"). A request
that waits on the world outside (a DNS server, a web server, a mail server: up to their timeouts, seconds) uses
no CPU meanwhile, and with three turns three such requests stopped every page the process served; it gives its
turn back first (``leave_turn``) and finishes without queueing again: queueing while it holds a connection could
leave the requests with turns waiting for connections, and it for a turn.
"""

from __future__ import annotations

from contextvars import ContextVar

import anyio
import anyio.from_thread

from exchange.core.errors import ServiceUnavailable

TURN_WAIT_SECONDS = 30  # a request that waits longer for its turn at the database gets a 503 (retry later)
CURRENT: ContextVar[Turn | None] = ContextVar("exchange_turn", default=None)  # the request's, in its worker threads


class Turn:
    """One request's turn, taken and given back in the event loop (``leave_turn`` hands the giving back to it)."""

    def __init__(self, turns: anyio.Semaphore) -> None:
        self.turns, self.held = turns, False

    async def take(self) -> None:
        try:
            with anyio.fail_after(TURN_WAIT_SECONDS):
                await self.turns.acquire()
        except TimeoutError:
            raise ServiceUnavailable("the hub is busy: too many requests are waiting for the database") from None
        self.held = True

    def give_back(self) -> None:
        if self.held:
            self.held = False
            self.turns.release()


def leave_turn() -> None:
    """Before a call that waits on another host, in a request's worker thread: the request's turn goes to the
    requests waiting for one, for the rest of this request. Nothing to do outside a request (a job, a command) or
    with the turn already given back."""
    turn = CURRENT.get()
    if turn is not None and turn.held:
        anyio.from_thread.run_sync(turn.give_back)  # the semaphore belongs to the event loop's thread
