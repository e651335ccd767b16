"""Pydantic models of the alerts API."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from exchange.alerts.models import Alert, AlertKind, AlertState, Severity, SourceGrade
from exchange.assets.models import Asset
from exchange.core.timestamps import from_micros


class AlertOut(BaseModel):
    id: int
    kind: AlertKind
    severity: Severity
    grade: SourceGrade = Field(description="How sure the source is, in words (STIX confidence, Admiralty scale)")
    state: AlertState
    withheld: bool = Field(description="The asset is not verified (or its verification expired): verify it to "
                           "see what this is about; until then object and matched value are null")
    asset: str | None = Field(description="The asset concerned, as registered; null for a sector advisory")
    asset_id: int | None
    matched: str | None = Field(description="The published value that concerns the asset")
    object_id: str | None = Field(description="The STIX id of the object")
    object_version: str | None = Field(description="The object's `modified` that last changed what to do")
    created: str
    updated: str
    answered: str | None


class AlertPageOut(BaseModel):
    alerts: list[AlertOut]
    more: bool
    next: str | None = Field(description="Pass as `next` for the following page")


class AnswerIn(BaseModel):
    answer: Annotated[AlertState, Field(description="acknowledged, fixed, false-positive, not-ours, accepted-risk "
                                                    "or need-help")]
    named: bool = Field(default=False, description="Let the publishing CSIRT see which organisation answered "
                        "(default: the answer reaches it without the organisation's name)")


class ReachOut(BaseModel):
    object_id: str
    reached: int = Field(description="Organisations alerted (a please-verify notice does not count)")
    acknowledged: int = Field(description="Of those, organisations that answered")
    fixed: int
    false_positive: int
    not_ours: int
    need_help: int
    median_hours_to_fix: float | None


def alert_out(session: Session, alert: Alert, assets: Mapping[int, Asset] | None = None) -> AlertOut:
    """``assets``: those read with a page of alerts (``service.Page.assets``); any other is read here."""
    asset = None if alert.asset_pk is None else (assets or {}).get(alert.asset_pk) or session.get(Asset, alert.asset_pk)
    hidden = alert.withheld
    return AlertOut(
        id=alert.pk, kind=AlertKind(alert.kind), severity=Severity(alert.severity), grade=SourceGrade(alert.grade),
        state=AlertState(alert.state), withheld=hidden, asset=asset.value if asset is not None else None,
        asset_id=alert.asset_pk, matched=None if hidden else alert.matched,
        object_id=None if hidden else alert.object_id,
        object_version=None if hidden else from_micros(alert.object_modified),
        created=from_micros(alert.created_at), updated=from_micros(alert.updated_at),
        answered=from_micros(alert.answered_at) if alert.answered_at is not None else None)
