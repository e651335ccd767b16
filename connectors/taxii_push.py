"""TAXII 2.1 push with taxii2-client: send batches of objects to a remote collection and wait for
the server's status.

The URL is the remote collection's (or a discovery URL with option ``collection``; without it the
server must offer exactly one collection the credentials may write to). Each batch is one envelope;
a server that answers ``pending`` (TAXII 2.1, 4.3: it stores large envelopes later) is polled every
``poll_seconds`` (default 1) for at most ``status_timeout_seconds`` (default 120); a status still
pending then ends the run, and the next run sends the batch again (a TAXII server answers a repeated
object as a success, so nothing is doubled). What objects go is the hub's decision
(``exchange.feeds.push``); this module only delivers them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from taxii2client.common import _HTTPConnection
from taxii2client.v21 import Collection, Status

from connectors.base import FeedError, Source
from connectors.taxii import connect, find_collection, status_of


@dataclass(slots=True)
class Sent:
    """What the remote server said of one envelope."""

    successes: int
    failures: int
    problems: list[str] = field(default_factory=list)


class TaxiiPush:
    """A connection to one remote collection for one run (a context manager)."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.connection: _HTTPConnection = connect(source)
        self.collection: Collection | None = None  # found by the first send: a run with nothing to send asks nothing

    def __enter__(self) -> TaxiiPush:
        return self

    def __exit__(self, *exc: object) -> None:
        self.connection.close()

    def _collection(self) -> Collection:
        if self.collection is None:
            self.collection = self.source.retry.call(
                "TAXII discovery", lambda: find_collection(self.source, self.connection, write=True), status_of)
        return self.collection

    def send(self, objects: list[dict[str, Any]]) -> Sent:
        """One envelope; the final status. The POST is retried on transient errors (a repeat is harmless)."""
        collection = self._collection()
        envelope = {"objects": objects}
        status: Status = self.source.retry.call(
            f"POST objects to {collection.url}",
            lambda: collection.add_objects(envelope, wait_for_completion=False), status_of)
        if status.status != "complete":
            timeout = float(self.source.option("status_timeout_seconds", 120))
            self.source.retry.call(f"GET status {status.url}", lambda: status.wait_until_final(
                poll_interval=float(self.source.option("poll_seconds", 1)), timeout=timeout), status_of)
            if status.status != "complete":
                raise FeedError(f"the server still reports {status.pending_count} of {status.total_count} objects "
                                f"pending after {timeout:.0f} s (status {status.id}); the next run sends them again")
        problems = [f"{f.get('id')}: {f.get('message', 'refused')}" for f in status.failures or ()
                    if isinstance(f, dict)]
        return Sent(int(status.success_count), int(status.failure_count), problems)
