"""The exposure summary of an organisation: its open alerts by asset and severity, and how long its fixes took.

Two aggregates over the organisation's own alerts (``alert.org_pk``, so nothing of anyone else is read):
open alerts counted per asset and severity in SQL, and the time from each alert to its "fixed" answer,
whose median is taken here (one column per fixed alert; an SME has hundreds, not millions).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from exchange.alerts.models import Alert, AlertState, Severity
from exchange.assets.models import Asset
from exchange.core.deps import SessionDep
from exchange.core.timestamps import HOUR
from exchange.orgs.models import Org
from exchange.web.deps import SignedInDep
from exchange.web.inbox import OPEN
from exchange.web.render import page

router = APIRouter()
SEVERITIES = tuple(reversed(Severity))  # critical first


@dataclass(frozen=True, slots=True)
class Row:
    asset_pk: int | None  # None: alerts about the sector, not one asset
    asset: str
    counts: dict[str, int]  # Severity value -> open alerts

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True, slots=True)
class Summary:
    rows: list[Row]
    totals: dict[str, int]
    fixed: int
    median_hours_to_fix: float | None
    median_hours_by_severity: dict[str, float]


def summary(session: Session, org: Org) -> Summary:
    cells: dict[int | None, dict[str, int]] = defaultdict(dict)
    names: dict[int | None, str] = {}
    # Counted first, named after: joined before counting, PostgreSQL hashed the whole asset table for one
    # organisation's alerts (25 ms at 100,000 assets); the counts are a row per asset and severity.
    counts = (select(Alert.asset_pk, Alert.severity, func.count().label("n"))
              .where(Alert.org_pk == org.pk, Alert.state.in_([s.value for s in OPEN]))
              .group_by(Alert.asset_pk, Alert.severity).subquery())
    for asset_pk, value, severity, count in session.execute(
            select(counts.c.asset_pk, Asset.value, counts.c.severity, counts.c.n)
            .outerjoin(Asset, Asset.pk == counts.c.asset_pk)):
        cells[asset_pk][severity] = count
        names[asset_pk] = value or ""
    rows = sorted((Row(pk, names[pk], counts) for pk, counts in cells.items()),
                  key=lambda r: (_weight(r.counts), r.asset))
    totals = {s.value: sum(r.counts.get(s.value, 0) for r in rows) for s in SEVERITIES}
    taken: dict[str, list[int]] = defaultdict(list)
    for severity, took in session.execute(
            select(Alert.severity, Alert.answered_at - Alert.created_at)
            .where(Alert.org_pk == org.pk, Alert.state == AlertState.fixed.value, Alert.answered_at.is_not(None))):
        if took is not None:
            taken[severity].append(took)
    every = [t for times in taken.values() for t in times]
    return Summary(rows, totals, len(every), _hours(every),
                   {s.value: h for s in SEVERITIES if (h := _hours(taken.get(s.value, []))) is not None})


def _weight(counts: dict[str, int]) -> tuple[int, ...]:
    """Sorts the most serious first: by critical count, then high, and so on."""
    return tuple(-counts.get(s.value, 0) for s in SEVERITIES)


def _hours(times: list[int]) -> float | None:
    return round(statistics.median(times) / HOUR, 1) if times else None


@router.get("/exposure")
def exposure(request: Request, session: SessionDep, me: SignedInDep) -> Response:
    return page(request, "exposure.html", {"summary": summary(session, me.org), "severities": SEVERITIES})
