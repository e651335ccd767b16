"""The worker's scheduler: which job runs when; each job calls one service function.

Jobs now: a heartbeat that proves the workers reach the database, the purge of expired TAXII status
resources, and (PostgreSQL) re-analysing tables whose planner statistics went stale. Alert matching,
deliveries and feed syncs register here as they arrive; each feature lists its own jobs in its
``jobs.py`` (``exchange.assets.jobs``).

Every worker schedules every job, and each run first claims the job's current window in
``job_lease`` (see ``exchange.jobs.lease``): however many workers run, each job fires once a period.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from exchange.alerts import jobs as alert_jobs
from exchange.alerts.delivery import jobs as delivery_jobs
from exchange.assets import jobs as asset_jobs
from exchange.core.db import make_engine, make_sessionmaker, transaction
from exchange.core.settings import Settings
from exchange.core.timestamps import from_micros
from exchange.feeds import jobs as feed_jobs
from exchange.jobs import lease
from exchange.store import maintenance
from exchange.taxii import status

log = logging.getLogger(__name__)

Job = Callable[[Session], None]


@dataclass(frozen=True, slots=True)
class Periodic:
    job: Job
    seconds: float
    ready: Callable[[Session], bool] | None = None  # asked before claiming a window: a read instead of a write

    @property
    def name(self) -> str:
        return self.job.__name__


def heartbeat(session: Session) -> None:
    session.execute(text("SELECT 1"))
    log.info("worker heartbeat: database reachable")


def purge_statuses(session: Session) -> None:
    removed = status.purge(session)
    log.info("purged %d expired TAXII status resources", removed)


def refresh_statistics(session: Session) -> None:
    analysed = maintenance.analyze(session, only_stale=True)
    if analysed:
        log.info("refreshed planner statistics of %s", ", ".join(analysed))


def periodic_jobs(settings: Settings) -> list[Periodic]:
    return [Periodic(heartbeat, settings.worker_tick_seconds), Periodic(purge_statuses, settings.worker_purge_seconds),
            Periodic(refresh_statistics, 600),
            *(Periodic(job, seconds) for job, seconds in asset_jobs.periodic(settings)),
            *(Periodic(job, seconds) for job, seconds in feed_jobs.periodic(settings)),
            *(Periodic(job, seconds) for job, seconds in alert_jobs.periodic(settings)),
            *(Periodic(job, seconds, ready) for job, ready, seconds in alert_jobs.woken(settings)),
            *(Periodic(job, seconds) for job, seconds in delivery_jobs.periodic(settings))]


def _wrap(periodic: Periodic, sessions: sessionmaker[Session], holder: str, lease_seconds: float) -> Callable[[], None]:
    """Each run: claim this window (its own committed transaction), run the job in one transaction,
    release. A failure is logged with its traceback and the next window goes on."""

    def run_once() -> None:
        try:
            if periodic.ready is not None:
                with sessions() as session:
                    if not periodic.ready(session):
                        return
            with transaction(sessions) as session:
                window = lease.claim(session, periodic.name, holder, period_seconds=periodic.seconds,
                                     lease_seconds=lease_seconds)
            if window is None:
                log.debug("job %s: this window ran on another worker", periodic.name)
                return
            log.info("job %s: window %s runs here", periodic.name, from_micros(window))
            try:
                with transaction(sessions) as session:
                    periodic.job(session)
            finally:
                with transaction(sessions) as session:
                    lease.release(session, periodic.name, holder)
        except Exception:  # a failing job must not stop the scheduler; the traceback goes to the log
            log.exception("job %s failed", periodic.name)

    return run_once


def _everywhere(job: Callable[[sessionmaker[Session]], None], sessions: sessionmaker[Session]) -> Callable[[], None]:
    """A job every worker runs at once, owning its transactions (the dispatch of deliveries: claims keep
    the workers apart). It ticks often and a run may last several ticks: a tick that finds the last run
    still going returns at once (scheduled with two instances, so the scheduler does not warn that it
    skipped one). A failure is logged with its traceback and the next run goes on."""
    running = threading.Lock()

    def run_once() -> None:
        if not running.acquire(blocking=False):
            return
        try:
            job(sessions)
        except Exception:  # a failing job must not stop the scheduler; the traceback goes to the log
            log.exception("job %s failed", getattr(job, "__name__", job))
        finally:
            running.release()

    return run_once


def build(settings: Settings, stopping: threading.Event | None = None,
          scheduler: BaseScheduler | None = None) -> BaseScheduler:
    """``stopping``, once set, makes the running jobs end after the work in hand (SIGTERM); ``scheduler``:
    a BackgroundScheduler runs the jobs inside another process (``serve --demo``)."""
    # Sub-second ticks: the executor's "Running job ..." lines would fill the log; our jobs log what they did.
    logging.getLogger("apscheduler.executors").setLevel(logging.WARNING)
    sessions = make_sessionmaker(make_engine(settings.database_url))
    jobs = periodic_jobs(settings)
    with transaction(sessions) as session:
        lease.register(session, [p.name for p in jobs])
    holder = f"{socket.gethostname()}:{os.getpid()}"
    scheduler = scheduler or BlockingScheduler(timezone="UTC")
    for periodic in jobs:
        scheduler.add_job(_wrap(periodic, sessions, holder, settings.worker_lease_seconds), "interval",
                          seconds=periodic.seconds, id=periodic.name, max_instances=1, coalesce=True)
    dispatch = delivery_jobs.dispatch_deliveries(settings, holder, stopping or threading.Event())
    scheduler.add_job(_everywhere(dispatch, sessions), "interval", seconds=settings.delivery_dispatch_seconds,
                      id="dispatch_deliveries", max_instances=2, coalesce=True)
    return scheduler


def run(settings: Settings) -> None:
    """Until SIGINT or SIGTERM; on SIGTERM the jobs running finish what they hold (a batch of
    deliveries is sent and recorded), then the worker exits."""
    stopping = threading.Event()
    scheduler = build(settings, stopping)

    def on_sigterm(_signum: int, _frame: FrameType | None) -> None:
        log.info("worker stopping: finishing the work in hand")
        stopping.set()
        scheduler.shutdown(wait=True)

    signal.signal(signal.SIGTERM, on_sigterm)
    log.info("worker started with jobs: %s", ", ".join(j.id for j in scheduler.get_jobs()))
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        log.info("worker stopped")
