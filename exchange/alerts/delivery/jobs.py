"""Delivery's scheduled jobs; each calls the delivery code, nothing else.

``dispatch`` runs on every worker at once (claims keep them apart), the others once per period
across workers (``exchange.jobs.lease``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from exchange.alerts.delivery import digests, dispatch, outbox
from exchange.core.settings import Settings

log = logging.getLogger(__name__)
DIGEST_SECONDS = 300
RETENTION_SECONDS = 86400


def dispatch_deliveries(settings: Settings, holder: str,
                        stopping: threading.Event) -> Callable[[sessionmaker[Session]], None]:
    def dispatch_deliveries(sessions: sessionmaker[Session]) -> None:
        with sessions() as session:
            if not outbox.waiting(session):  # the usual answer: a read, no write, on every tick
                return
        sent = sum(dispatch.batches(sessions, settings, holder, stopping))
        if sent:
            log.info("deliveries handled: %d", sent)

    return dispatch_deliveries


def make_digests(session: Session) -> None:
    made = digests.make_due(session)
    if made:
        log.info("digests due: %d", made)


def purge_deliveries(settings: Settings) -> Callable[[Session], None]:
    def purge_deliveries(session: Session) -> None:
        forgotten = outbox.purge(session, older_than_days=settings.delivery_retention_days)
        log.info("old deliveries forgotten: %d", forgotten)

    return purge_deliveries


def periodic(settings: Settings) -> list[tuple[Callable[[Session], None], float]]:
    """(job, period in seconds) pairs that run once per period across workers."""
    return [(make_digests, DIGEST_SECONDS), (purge_deliveries(settings), RETENTION_SECONDS)]
