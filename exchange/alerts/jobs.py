"""The alerts' scheduled job: match what was stored since the last run. It calls the service, nothing else."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy.orm import Session

from exchange.alerts import matching
from exchange.core.settings import Settings

log = logging.getLogger(__name__)

MATCH_SECONDS = 5.0  # how soon an SME hears of a new object, at most (plus the run itself)


def match_alerts(session: Session) -> None:
    outcome = matching.run(session)
    log.info("alert matching: %d versions, %d created (%d to verify first), %d escalated, %d cleared",
             outcome.objects, outcome.created, outcome.withheld, outcome.escalated, outcome.cleared)


def match_new_objects(session: Session) -> None:
    """Only what was stored since the last run, as soon as the worker sees it: an SME hears of a new
    object within a dispatch tick, not a matching period (issue 18: POST to webhook, p50 <= 2 s)."""
    outcome = matching.match_pending(session)
    log.info("alert matching of new objects: %d versions, %d created", outcome.objects, outcome.created)


def new_objects(session: Session) -> bool:
    return matching.pending(session) > 0


def woken(settings: Settings) -> list[tuple[Callable[[Session], None], Callable[[Session], bool], float]]:
    """(job, is there work?, how often to ask) for the worker's scheduler: a job run when a read says so."""
    return [(match_new_objects, new_objects, settings.delivery_dispatch_seconds)]


def periodic(settings: Settings) -> list[tuple[Callable[[Session], None], float]]:
    """(job, period in seconds) pairs for the worker's scheduler."""
    return [(match_alerts, MATCH_SECONDS)]
