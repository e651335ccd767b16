"""The feeds' scheduled job: run every due feed. It calls the service, nothing else."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy.orm import Session

from exchange.core.db import make_sessionmaker
from exchange.core.settings import Settings
from exchange.core.timestamps import now_micros
from exchange.feeds import schedule, service

log = logging.getLogger(__name__)


def run_due_feeds(session: Session) -> None:
    """Each due feed, one after the other; each run commits page by page in its own transactions
    (``service.run``), so this job's session only reads which feeds are due. A feed whose source
    fails records why in its run and the next one goes on; an unexpected error is recorded in its run
    too, and ends the job (the scheduler logs it)."""
    sessions = make_sessionmaker(session.get_bind())  # type: ignore[arg-type]
    for name in schedule.due(session, now_micros()):
        counts = service.run(sessions, name)
        log.info("feed %s: %s", name, counts.as_dict())


def periodic(settings: Settings) -> list[tuple[Callable[[Session], None], float]]:
    """(job, period in seconds) pairs for the worker's scheduler."""
    return [(run_due_feeds, settings.feeds_tick_seconds)]
