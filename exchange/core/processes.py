"""How the hub's child processes take Ctrl-C and their parent's end: server processes (``core.workers``) and
the helpers that prepare ingest batches (``store.bulk``, ``taxii.ingest_queue``).

Ctrl-C reaches every process of the terminal's group, and is the parent's to act on: it ends its helpers
through their pool. A helper that took it too printed a ``KeyboardInterrupt`` traceback each, or "Fatal Python
error" while it was still starting. A parent killed outright (SIGKILL, the out-of-memory killer) can end
nobody: a helper waiting for its next task waited for ever, and a server process kept the port.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager


def follow_parent(then: Callable[[], None]) -> None:
    """Call ``then`` in a thread of its own once the parent process is gone (its sentinel says so)."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        then()

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def helper_started() -> None:
    """The ``initializer`` of the prepare helpers' pools: no Ctrl-C, and no life after the parent's."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    follow_parent(lambda: os._exit(1))


@contextmanager
def helpers_born_quiet() -> Iterator[None]:
    """Helper processes started in here ignore Ctrl-C from their first instruction: an ignored signal stays
    ignored through exec, and Python keeps it so. A spawned helper takes a second or two to reach its
    ``helper_started``. Only the main thread may change a handler; helpers started from another thread
    have only ``helper_started``."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
