"""The webhook events: CloudEvents 1.0 structured JSON, one versioned type per change of an alert.

Each type has a JSON Schema in ``schemas/events/<type>.json`` generated from these models
(``exchange delivery schema --write schemas/events``; a test fails when a file is stale). A change
that breaks a receiver gets a new type (``.v2``) beside the old one, never an edit of ``.v1``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from exchange.alerts.message import Message
from exchange.alerts.models import AlertEventType, AlertKind, Severity, SourceGrade

SCHEMA_BASE = "https://exchange.invalid/schemas/events/"


def event_type(change: AlertEventType) -> str:
    return f"org.exchange.alert.{change.value}.v1"


class AlertData(BaseModel):
    """What the alert says, as the subscriber's organisation may read it."""

    alert_id: int = Field(description="Answer with POST /api/v1/alerts/{alert_id}/answer")
    organisation: str = Field(description="Slug of the organisation the alert is for")
    kind: AlertKind
    severity: Severity
    grade: SourceGrade = Field(description="How sure the source is")
    tlp: str = Field(description="clear, green, amber, amber+strict or red: what the reader may do with it")
    asset: str = Field(description="The asset concerned, as the organisation registered it")
    matched: str = Field(description="The published value that concerns it")
    object_id: str = Field(description="STIX id of the published object")
    title: str | None
    description: str | None
    publisher: str = Field(description="Who published the object")
    published_at: str = Field(description="RFC 3339, UTC")
    read_url: str
    answer_urls: dict[str, str] = Field(description="Answer -> link that records it")


class _Event(BaseModel):
    specversion: Literal["1.0"] = "1.0"
    id: str = Field(description="The delivery id, also the webhook-id header: the same on every retry")
    source: str = Field(description="The hub's base URL")
    subject: str = Field(description="The alert id")
    time: str = Field(description="When the change happened, RFC 3339 UTC")
    datacontenttype: Literal["application/json"] = "application/json"
    data: AlertData


class AlertCreatedV1(_Event):
    """An organisation must hear about a published object that touches it."""

    model_config = {"title": "org.exchange.alert.created.v1"}
    type: Literal["org.exchange.alert.created.v1"] = "org.exchange.alert.created.v1"


class AlertEscalatedV1(_Event):
    """A new version of the object changed what to do (higher severity, a new action)."""

    model_config = {"title": "org.exchange.alert.escalated.v1"}
    type: Literal["org.exchange.alert.escalated.v1"] = "org.exchange.alert.escalated.v1"


class AlertClearedV1(_Event):
    """The object was revoked or expired: all clear about an earlier alert."""

    model_config = {"title": "org.exchange.alert.cleared.v1"}
    type: Literal["org.exchange.alert.cleared.v1"] = "org.exchange.alert.cleared.v1"


EVENTS: dict[AlertEventType, type[_Event]] = {AlertEventType.created: AlertCreatedV1,
                                               AlertEventType.escalated: AlertEscalatedV1,
                                               AlertEventType.cleared: AlertClearedV1}


def envelope(delivery_pk: int, change: AlertEventType, at_micros: int, message: Message, *, alert_id: int,
             organisation: str, object_id: str, source: str) -> bytes:
    data = AlertData(alert_id=alert_id, organisation=organisation, kind=message.kind, severity=message.severity,
                     grade=message.grade, tlp=message.tlp, asset=message.asset, matched=message.matched,
                     object_id=object_id, title=message.title, description=message.description,
                     publisher=message.sender.name, published_at=_rfc3339(message.published_at),
                     read_url=message.read_url, answer_urls=dict(message.answer_urls))
    event = EVENTS[change](id=str(delivery_pk), source=source, subject=str(alert_id),
                           time=_rfc3339(datetime.fromtimestamp(at_micros / 1_000_000, tz=UTC)), data=data)
    return event.model_dump_json().encode()


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def json_schemas() -> dict[str, str]:
    """File name -> the text of ``schemas/events/<file>``, byte for byte."""
    out: dict[str, str] = {}
    for change, model in EVENTS.items():
        name = event_type(change)
        schema: dict[str, Any] = {"$schema": "https://json-schema.org/draft/2020-12/schema",
                                  "$id": f"{SCHEMA_BASE}{name}.json", **model.model_json_schema()}
        out[f"{name}.json"] = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    return out
