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


def periodic(settings: Settings) -> list[tuple[Callable[[Session], None], float]]:
    """(job, period in seconds) pairs for the worker's scheduler."""
    return [(match_alerts, MATCH_SECONDS)]
