"""The worker's scheduler: which job runs when; each job calls one service function.

Jobs now: a heartbeat that proves the worker reaches the database, the hourly purge of expired
TAXII status resources, and (PostgreSQL) re-analysing tables whose planner statistics went stale.
Alert matching, deliveries and feed syncs register here as they arrive.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from exchange.db import make_engine, make_sessionmaker, transaction
from exchange.settings import Settings
from exchange.stix import maintenance, status

log = logging.getLogger(__name__)

Job = Callable[[Session], None]


def heartbeat(session: Session) -> None:
    session.execute(text("SELECT 1"))
    log.info("worker heartbeat: database reachable")


def _wrap(job: Job, sessions: sessionmaker[Session]) -> Callable[[], None]:
    """Each run is one transaction; a failure is logged with its traceback and the next run goes on."""

    def run_once() -> None:
        try:
            with transaction(sessions) as session:
                job(session)
        except Exception:  # a failing job must not stop the scheduler; the traceback goes to the log
            log.exception("job %s failed", job.__name__)

    return run_once


def purge_statuses(session: Session) -> None:
    removed = status.purge(session)
    log.info("purged %d expired TAXII status resources", removed)


def refresh_statistics(session: Session) -> None:
    analysed = maintenance.analyze(session, only_stale=True)
    if analysed:
        log.info("refreshed planner statistics of %s", ", ".join(analysed))


def build(settings: Settings) -> BlockingScheduler:
    sessions = make_sessionmaker(make_engine(settings.database_url))
    scheduler = BlockingScheduler(timezone="UTC")
    scheduler.add_job(_wrap(heartbeat, sessions), "interval", seconds=settings.worker_tick_seconds,
                      id="heartbeat", max_instances=1, coalesce=True)
    scheduler.add_job(_wrap(purge_statuses, sessions), "interval", hours=1, id="purge_statuses",
                      max_instances=1, coalesce=True)
    scheduler.add_job(_wrap(refresh_statistics, sessions), "interval", minutes=10, id="refresh_statistics",
                      max_instances=1, coalesce=True)
    return scheduler


def run(settings: Settings) -> None:
    scheduler = build(settings)
    log.info("worker started with jobs: %s", ", ".join(j.id for j in scheduler.get_jobs()))
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        log.info("worker stopped")
