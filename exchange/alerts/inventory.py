"""The inventory matching works against, read once and kept while nothing in it changed.

Reading 100,000 assets and building their look-alike index costs more than matching a batch, so both
are kept per database and re-read only when the fingerprint of the asset and profile tables changes,
or when the first verification in them expires (``AssetIndex.stale_at``) (decision 0011).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from exchange.alerts import benign, lookalike
from exchange.alerts.finders import Finders
from exchange.alerts.index import AssetIndex, AssetRow
from exchange.assets.models import Asset, OrgProfile
from exchange.core.timestamps import now_micros


@dataclass(slots=True)
class Inventory:
    """The asset index and the look-alike index of its verified domains, as of ``fingerprint``."""

    fingerprint: tuple[Any, ...]
    index: AssetIndex
    lookalikes: lookalike.LookalikeIndex[AssetRow] | None = None

    def lookalike_index(self) -> lookalike.LookalikeIndex[AssetRow]:
        if self.lookalikes is None:
            self.lookalikes = lookalike.LookalikeIndex((d.value, d) for d in self.index.domains if d.verified)
        return self.lookalikes

    def finders(self) -> Finders:
        return Finders(self.index, self.lookalike_index(), benign.builtin())


_CACHE: dict[str, Inventory] = {}


def current(session: Session) -> Inventory:
    """The inventory as the database holds it now: the cached one unless an asset or profile changed or a
    verification expired since it was read."""
    fingerprint = (
        *session.execute(select(func.count(), func.sum(Asset.pk), func.max(Asset.verified_at),
                                func.max(Asset.verification_expires_at), func.max(Asset.checked_at))).one(),
        *session.execute(select(func.count(), func.max(OrgProfile.updated_at))).one())
    bind = session.get_bind()
    key = str((bind if isinstance(bind, Engine) else bind.engine).url)  # one cache per database
    cached = _CACHE.get(key)
    stale = cached is not None and cached.index.stale_at is not None and cached.index.stale_at <= now_micros()
    if cached is None or stale or cached.fingerprint != fingerprint:
        cached = _CACHE[key] = Inventory(fingerprint, AssetIndex.load(session))
    return cached


def prepare(session: Session) -> None:
    """Read the inventory, build its look-alike index and read the benign lists now, not in the first run
    (a worker's start, a benchmark's setup)."""
    current(session).lookalike_index()
    benign.load()
