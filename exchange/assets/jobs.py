"""The inventory's scheduled job: renew verifications before they expire. It calls the service, nothing else."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy.orm import Session

from exchange.assets import verification
from exchange.core.errors import ExchangeError
from exchange.core.settings import Settings

log = logging.getLogger(__name__)


def recheck_assets(settings: Settings) -> Callable[[Session], None]:
    """A job (named ``recheck_asset_verifications`` in ``job_lease``) re-running each due verification."""

    def recheck_asset_verifications(session: Session) -> None:
        renewed = 0
        for asset in verification.due(session):
            try:
                renewed += verification.recheck(session, asset, settings=settings).verified
            except ExchangeError as exc:  # one owner's broken mail or DNS must not stop the others' re-checks
                log.warning("asset %s: re-check failed: %s", asset.pk, exc.description)
        log.info("asset verifications renewed: %d", renewed)

    return recheck_asset_verifications


def periodic(settings: Settings) -> list[tuple[Callable[[Session], None], float]]:
    """(job, period in seconds) pairs for the worker's scheduler."""
    return [(recheck_assets(settings), settings.assets_recheck_seconds)]
