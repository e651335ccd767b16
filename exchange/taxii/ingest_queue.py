"""The ingest queue: large TAXII envelopes are accepted at once ("pending") and stored in the background.

Why: at a million stored objects, a transaction's cost is mostly its commit, and the commit's cost
follows the index pages it dirties, which for random STIX ids are nearly one page per object. A
1,000-object envelope stored on its own therefore pays about as much as ten merged into one
transaction would (decision 0005). So the POST
checks the envelope (JSON limits, 4xx at once), keeps it as an ``IngestJob`` row and answers 202
with every object pending, as TAXII 2.1 (section 4.3) allows; the ingester then stores queued
envelopes of one publisher and collection together, up to ``merge_objects`` per transaction.

Nothing is lost: the job row commits before the 202 is sent, and is deleted in the transaction that
stores its objects and writes its final status, so each envelope is stored exactly once. A lease
keeps concurrent ingesters (replicas, processes) apart; a crashed ingester's jobs are taken up
again when its lease runs out, by any replica, after a restart too. The POST also hands the
envelope to its own process's ingester in memory, so that one need not read it back (the row stays
the truth; an ingester without it reads the row).
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
import uuid
from collections import deque
from collections.abc import Sequence
from concurrent import futures
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import delete, event, or_, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from exchange.core.db import rowcount, transaction
from exchange.core.processes import helper_started, helpers_born_quiet
from exchange.core.timestamps import now_micros
from exchange.orgs import audit
from exchange.orgs.models import Org
from exchange.sharing import catalog
from exchange.stix.hub_rules import Author
from exchange.stix.prepare import ObjectResult, Prepared, prepare, prepare_packed, unpack
from exchange.store.ingest import author_of, store_parts
from exchange.store.models import Collection, IngestJob
from exchange.taxii import status

__all__ = ["Ingester", "enqueue"]

log = logging.getLogger(__name__)

LEASE_US = 60 * 1_000_000  # a crashed ingester's jobs wait this long before another takes them
_WINDOW = 200  # queued jobs looked at per claim
_DEPTH = 2  # claimed groups in flight: the next one prepares while this one is stored
_HANDED_BYTES = 128 * 2**20  # envelopes kept in memory for the ingester; beyond, it reads them back


def enqueue(session: Session, *, root_pk: int, collection: Collection, org: Org, actor: str,
            remote_addr: str | None, payload: bytes, objects: Sequence[Any], requested_at: int,
            ingester: Ingester | None = None) -> bytes:
    """Queue a checked envelope (``objects`` is its parsed content); returns the pending status.
    With this process's ``ingester``, it gets the envelope itself once the job commits, and is woken."""
    status_id = str(uuid.uuid4())
    body = status.pending(status_id, requested_at, objects)
    job = IngestJob(status_id=status_id, api_root_pk=root_pk, collection_pk=collection.pk, org_pk=org.pk,
                    actor=actor, remote_addr=remote_addr, requested_at=requested_at,
                    object_count=len(objects), payload=payload, pending_status=body)
    session.add(job)
    if ingester is not None:
        session.flush()  # the job's pk, which the ingester will claim it by
        pk = job.pk
        event.listen(session, "after_commit", lambda _session: ingester.hand_over(pk, payload), once=True)
    return body


class _Job(NamedTuple):
    pk: int
    status_id: str
    api_root_pk: int
    requested_at: int
    object_count: int
    actor: str
    remote_addr: str | None


@dataclass(frozen=True, slots=True)
class _Group:
    """Claimed jobs of one collection and publisher, their envelopes being prepared."""

    collection_pk: int
    org_pk: int
    jobs: list[_Job]
    parts: list[Future[Prepared | bytes]]  # packed when prepared by a helper process
    payloads: list[bytes]
    author: Author | None

    def part(self, jobs: slice) -> _Group:
        return _Group(self.collection_pk, self.org_pk, self.jobs[jobs], self.parts[jobs], self.payloads[jobs],
                      self.author)


class _LostLease(Exception):
    """Another ingester holds these jobs (or took them over when our lease ran out); we roll back."""


class Ingester:
    """Drains the queue in a thread of the server process; envelopes are prepared (parsed,
    validated) in ``prepare_processes`` helper processes, so preparing the next group runs on
    another core while this one is written (0: in the thread itself)."""

    def __init__(self, sessions: sessionmaker[Session], *, merge_objects: int = 10_000, prepare_processes: int = 1,
                 poll_seconds: float = 1.0) -> None:
        self.id = str(uuid.uuid4())
        self._sessions = sessions
        self._merge_objects = merge_objects
        self._prepare_processes = prepare_processes
        self._poll_seconds = poll_seconds
        self._pool: ProcessPoolExecutor | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._woken = threading.Event()
        self._state = threading.Condition()
        self._wakes = 0  # wake() calls so far
        self._idle_after = -1  # the wake count at the last claim that found nothing to do
        self._handed: dict[int, bytes] = {}  # job pk -> envelope, given by this process's POSTs
        self._handed_bytes = 0

    # -- control -------------------------------------------------------------------------------

    def start(self) -> None:
        if self._prepare_processes > 0:  # started now, so the first large POST does not wait for it
            self._pool = self._new_pool()
        self._thread = threading.Thread(target=self._run, name="exchange-ingester", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Finish the group being stored, hand the others back (their leases are released) and stop."""
        self._stopping.set()
        self._woken.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    def wake(self) -> None:
        """A job was committed: look now rather than at the next poll."""
        with self._state:
            self._wakes += 1
        self._woken.set()

    def hand_over(self, job_pk: int, payload: bytes) -> None:
        """A job this process just committed, with its envelope: claimed here, it need not be read back
        from the database (decision 0005, "Later measurements"). Only a
        shortcut: the job row stays the truth, and any ingester, here or on a replica, can claim it."""
        with self._state:
            if self._handed_bytes + len(payload) <= _HANDED_BYTES:
                self._handed[job_pk] = payload
                self._handed_bytes += len(payload)
        self.wake()

    def _take_handed(self, pks: list[int]) -> dict[int, bytes]:
        with self._state:
            taken = {pk: payload for pk in pks if (payload := self._handed.pop(pk, None)) is not None}
            self._handed_bytes -= sum(len(payload) for payload in taken.values())
        return taken

    def _forget_handed(self) -> None:
        """Nothing is queued: whatever is still held went to another ingester."""
        with self._state:
            self._handed.clear()
            self._handed_bytes = 0

    def wait_idle(self, timeout: float) -> bool:
        """Block until every job committed before the last ``wake`` is stored (or ``timeout`` runs out)."""
        with self._state:
            target = self._wakes
            return self._state.wait_for(lambda: self._idle_after >= target, timeout)

    # -- the loop ------------------------------------------------------------------------------

    def _run(self) -> None:
        in_flight: deque[_Group] = deque()
        while not self._stopping.is_set():
            try:
                with self._state:
                    seen = self._wakes
                self._woken.clear()
                self._fill(in_flight, _DEPTH)
                if in_flight:
                    _store_what_is_ready(in_flight)
                    pairs = self._collect(in_flight[0])
                    # Claimed now, not after the store: envelopes posted while this group was being
                    # prepared are prepared while it is stored (the helper sat idle half the time).
                    self._fill(in_flight, _DEPTH)
                    self._store_group(in_flight[0], pairs)
                    in_flight.popleft()
                    continue
                with self._state:
                    self._idle_after = seen
                    self._state.notify_all()
                self._woken.wait(self._poll_seconds)
            except _LostLease:
                log.warning("ingester: another ingester took over jobs whose lease had run out")
                self._release(in_flight)
            except Exception:  # the database went away, or worse: log, back off, and go on
                log.exception("ingester: storing queued envelopes failed; retrying")
                self._release(in_flight)
                self._stopping.wait(self._poll_seconds)
        self._release(in_flight)

    def run_once(self) -> int:
        """Claim, prepare and store one group in the calling thread; the number of envelopes stored.
        For draining the queue without the thread (tests, maintenance)."""
        group = self._claim()
        if group is None:
            return 0
        return self._finish(group)

    def _fill(self, in_flight: deque[_Group], depth: int) -> None:
        while len(in_flight) < depth and (group := self._claim()) is not None:
            in_flight.append(group)

    def _claim(self) -> _Group | None:
        try:
            return self._try_claim()
        except _LostLease:  # another ingester leased some of them first (SQLite has no SKIP LOCKED)
            return None

    def _try_claim(self) -> _Group | None:
        now = now_micros()
        free = or_(IngestJob.leased_until.is_(None), IngestJob.leased_until < now)
        with transaction(self._sessions) as session:
            query = (select(IngestJob.pk, IngestJob.collection_pk, IngestJob.org_pk, IngestJob.object_count)
                     .where(free).order_by(IngestJob.pk).limit(_WINDOW))
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            queued = session.execute(query).all()
            if not queued:
                self._forget_handed()
                return None
            collection_pk, org_pk = queued[0].collection_pk, queued[0].org_pk
            picked: list[int] = []
            objects = 0
            for row in queued:  # jobs of other publishers or collections are independent: left for later
                if (row.collection_pk, row.org_pk) != (collection_pk, org_pk):
                    continue
                if picked and objects + row.object_count > self._merge_objects:
                    break
                picked.append(row.pk)
                objects += row.object_count
            leased = session.execute(update(IngestJob).where(IngestJob.pk.in_(picked), free)
                                     .values(leased_by=self.id, leased_until=now + LEASE_US))
            if rowcount(leased) != len(picked):
                raise _LostLease
            jobs = [_Job(*row) for row in session.execute(
                select(IngestJob.pk, IngestJob.status_id, IngestJob.api_root_pk, IngestJob.requested_at,
                       IngestJob.object_count, IngestJob.actor, IngestJob.remote_addr)
                .where(IngestJob.pk.in_(picked)).order_by(IngestJob.pk))]
            handed = self._take_handed(picked)
            if missing := [pk for pk in picked if pk not in handed]:
                handed.update(session.execute(select(IngestJob.pk, IngestJob.payload)
                                              .where(IngestJob.pk.in_(missing))).all())
            org = session.get(Org, org_pk)
            author = author_of(session, org)
        payloads = [handed[job.pk] for job in jobs]
        parts = [self._submit(payload, author) for payload in payloads]
        return _Group(collection_pk, org_pk, jobs, parts, payloads, author)

    def _submit(self, payload: bytes, author: Author | None) -> Future[Prepared | bytes]:
        """The JSON limits were checked when the envelope was posted."""
        if self._prepare_processes > 0:
            if self._pool is None:
                self._pool = self._new_pool()
            return self._pool.submit(prepare_packed, payload, author, checked=True)
        future: Future[Prepared | bytes] = Future()
        try:
            future.set_result(prepare(payload, author, checked=True))
        except Exception as exc:  # delivered through the future, like the pool would
            future.set_exception(exc)
        return future

    def _new_pool(self) -> ProcessPoolExecutor:
        """Helpers with the prepare code imported (which takes them a second or two of CPU).

        spawn, not fork: this process runs threads (the server's, the ingester), and a forked child
        could inherit a lock one of them held.
        """
        pool = ProcessPoolExecutor(self._prepare_processes, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=helper_started)
        with helpers_born_quiet():  # a pool starts its processes as tasks come
            for _ in range(self._prepare_processes):
                pool.submit(prepare, b"[]")
        return pool

    def _prepared(self, group: _Group, i: int) -> Prepared:
        """The prepared envelope; one that cannot be prepared fails as a whole, with the reason."""
        try:
            try:
                part = group.parts[i].result()
            except BrokenProcessPool:  # a helper died (killed, out of memory): prepare here instead
                self._pool = None
                return prepare(group.payloads[i], group.author, checked=True)
            return unpack(part) if isinstance(part, bytes) else part
        except Exception as exc:  # checked at POST, so unexpected: report it, never retry it forever
            log.exception("ingester: envelope of status %s could not be prepared", group.jobs[i].status_id)
            return _failed(group.jobs[i], f"the envelope could not be read: {exc}")

    def _finish(self, group: _Group) -> int:
        return self._store_group(group, self._collect(group))

    def _collect(self, group: _Group) -> list[tuple[_Job, Prepared]]:
        return [(job, self._prepared(group, i)) for i, job in enumerate(group.jobs)]

    def _store_group(self, group: _Group, pairs: list[tuple[_Job, Prepared]]) -> int:
        try:
            return self._store(group, pairs)
        except (OperationalError, _LostLease):
            raise
        except Exception:
            log.exception("ingester: a group of %d envelopes failed; storing them one by one", len(pairs))
        done = 0
        for job, prepared in pairs:  # one bad envelope must not hold back the others
            try:
                done += self._store(group, [(job, prepared)])
            except (OperationalError, _LostLease):
                raise
            except Exception:
                log.exception("ingester: envelope of status %s failed", job.status_id)
                done += self._store(group, [(job, _failed(job, "the hub could not store this envelope"))])
        return done

    def _store(self, group: _Group, pairs: list[tuple[_Job, Prepared]]) -> int:
        """One transaction: the objects, each job's final status and audit entry, the jobs' removal."""
        with transaction(self._sessions) as session:
            collection = session.get(Collection, group.collection_pk)
            org = session.get(Org, group.org_pk)
            if collection is None or org is None:  # deleted since: its queued jobs went with it (cascade)
                return 0
            if not catalog.rights(session, org, collection).can_write:  # withdrawn since the POST
                pairs = [(job, _failed(job, "the organisation may no longer add objects to this collection"))
                         for job, _ in pairs]
            results = store_parts(session, [p for _, p in pairs], collection=collection, org=org)
            for (job, _), piece in zip(pairs, results, strict=True):
                status.create(session, root_pk=job.api_root_pk, org=org, result=piece,
                              requested_at=job.requested_at, status_id=job.status_id)
                audit.record(session, org=org, action="taxii.add_objects", target=collection.id,
                             detail=piece.summary, actor=job.actor, remote_addr=job.remote_addr)
            removed = session.execute(delete(IngestJob).where(IngestJob.pk.in_([job.pk for job, _ in pairs]),
                                                              IngestJob.leased_by == self.id))
            if rowcount(removed) != len(pairs):
                raise _LostLease
        return len(pairs)

    def _release(self, groups: deque[_Group]) -> None:
        """Hand claimed jobs back at once, rather than when their leases run out."""
        pks = [job.pk for group in groups for job in group.jobs]
        groups.clear()
        if not pks:
            return
        try:
            with transaction(self._sessions) as session:
                session.execute(update(IngestJob).where(IngestJob.pk.in_(pks), IngestJob.leased_by == self.id)
                                .values(leased_by=None, leased_until=None))
        except Exception:  # their leases run out anyway
            log.warning("ingester: could not release %d jobs; they are retried when their leases expire",
                        len(pks), exc_info=True)


def _store_what_is_ready(in_flight: deque[_Group]) -> None:
    """Cut the first group after its envelopes prepared so far (at least one, waited for): the rest
    stay claimed, as the next group, and are prepared while these are stored. Waiting for the whole
    group left the store idle while the helper worked through it, then the helper idle while the
    store worked (decisions 0005 and 0007)."""
    group = in_flight[0]
    futures.wait(group.parts[:1])
    ready = 1
    while ready < len(group.parts) and group.parts[ready].done():
        ready += 1
    if ready < len(group.parts):
        in_flight[0] = group.part(slice(0, ready))
        in_flight.insert(1, group.part(slice(ready, None)))


def _failed(job: _Job, message: str) -> Prepared:
    return Prepared(job.object_count, {i: ObjectResult(None, None, "rejected", message)
                                       for i in range(job.object_count)})

