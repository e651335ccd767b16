"""The alerts an organisation reads and answers; what the producer learns back.

Services take a session and never commit. An organisation sees only its own alerts (another's id is a
404). A withheld alert (its asset was not verified) shows no object, version or matched value: only
that something about the asset is waiting for the organisation to prove it owns it.

Each answer becomes a STIX ``sighting`` of the object, stored through ``store.ingest`` in the object's
collection at TLP:AMBER+STRICT and naming only the producer as recipient, so the read rule lets the
producer (and the answering organisation, when it agreed to be named as the sighting's author) read it
and nobody else. An organisation that does not agree to be named answers anonymously: the hub stores
the sighting with no author and no ``where_sighted_refs``.
"""

from __future__ import annotations

import statistics
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from exchange.alerts.models import Alert, AlertKind, AlertState, Severity, Suppression
from exchange.alerts.rules import SUPPRESSING
from exchange.assets.models import Asset
from exchange.core.errors import BadRequest, NotFound
from exchange.core.timestamps import HOUR, from_micros, now_micros
from exchange.orgs.models import Org
from exchange.sharing import access
from exchange.stix.tlp import MARKING_LEVELS, Tlp
from exchange.store import ingest
from exchange.store.models import Collection, ObjectRecipient, StixObject

ANSWERS = frozenset({AlertState.acknowledged, AlertState.fixed, AlertState.false_positive, AlertState.not_ours,
                     AlertState.accepted_risk, AlertState.need_help})
AMBER_STRICT = next(ref for ref, level in MARKING_LEVELS.items() if level == Tlp.amber_strict)
# Sightings are SDOs about SDOs: an SCO (a bare domain-name object) cannot be sighted in STIX 2.1.
_SCO_TYPES = frozenset({"domain-name", "ipv4-addr", "ipv6-addr", "url", "email-addr", "autonomous-system",
                        "file", "software"})


@dataclass(frozen=True, slots=True)
class Page:
    alerts: list[Alert]
    next: str | None
    assets: dict[int, Asset]  # the alerts' assets by pk, read with them: one statement, not one per alert


@dataclass(frozen=True, slots=True)
class Sightings:
    rows: list[StixObject]
    next: str | None


@dataclass(frozen=True, slots=True)
class Reach:
    object_id: str
    reached: int  # organisations told in full (withheld notices not counted)
    acknowledged: int  # of those, organisations that answered anything
    fixed: int
    false_positive: int
    not_ours: int
    need_help: int
    median_hours_to_fix: float | None


def page(session: Session, org: Org, *, limit: int, after: str | None = None, state: AlertState | None = None,
         kind: AlertKind | None = None, severity: Severity | None = None,
         states: tuple[AlertState, ...] | None = None) -> Page:
    """The organisation's alerts, newest first; ``after`` is ``next`` of the previous page (an alert id:
    listings are per organisation, so a plain key reveals nothing)."""
    query = (select(Alert, Asset).outerjoin(Asset, Asset.pk == Alert.asset_pk).where(Alert.org_pk == org.pk)
             .order_by(Alert.pk.desc()).limit(limit + 1))
    if after is not None:
        if not after.isdigit() or len(after) > 18:
            raise BadRequest("'next' must be the 'next' value of the previous page")
        query = query.where(Alert.pk < int(after))
    if state is not None:
        query = query.where(Alert.state == state.value)
    if states is not None:  # the web inbox's "open" filter: several states at once
        query = query.where(Alert.state.in_([s.value for s in states]))
    if kind is not None:
        query = query.where(Alert.kind == kind.value)
    if severity is not None:
        query = query.where(Alert.severity == severity.value)
    found = session.execute(query).all()
    more = len(found) > limit
    found = found[:limit]
    rows = [alert for alert, _ in found]
    return Page(rows, str(rows[-1].pk) if more else None, {asset.pk: asset for _, asset in found if asset is not None})


def get(session: Session, org: Org, pk: int) -> Alert:
    alert = session.get(Alert, pk)
    if alert is None or alert.org_pk != org.pk:
        raise NotFound(f"no alert {pk}")
    return alert


def detail(session: Session, alert: Alert) -> dict[str, Any] | None:
    """The object the alert is about, as the organisation may read it now (the version that alerted, or
    the current one if it moved on); None when withheld or no longer readable. What delivery words."""
    org = session.get(Org, alert.org_pk)
    if alert.withheld or org is None:
        return None
    raw = session.scalar(access.readable(org).with_only_columns(StixObject.raw)
                         .where(StixObject.stix_id == alert.object_id)
                         .order_by((StixObject.modified == alert.object_modified).desc(), StixObject.modified.desc())
                         .limit(1))
    return orjson.loads(raw) if raw is not None else None


def answer(session: Session, alert: Alert, state: AlertState, *, named: bool = False) -> Alert:
    """Record the organisation's answer, suppress repeats after "false positive" or "not ours", and tell the
    producer with a sighting (naming the organisation only if ``named``)."""
    if state not in ANSWERS:
        raise BadRequest(f"{state.value!r} is not an answer; answer one of "
                         f"{', '.join(sorted(s.value for s in ANSWERS))}")
    if alert.withheld:
        raise BadRequest("verify the asset first: this alert is withheld until the organisation proves it owns it")
    now = now_micros()
    alert.state, alert.answered_at, alert.updated_at = state.value, now, now
    if state in SUPPRESSING and alert.asset_pk is not None and session.get(
            Suppression, (alert.org_pk, alert.asset_pk, alert.matched)) is None:
        session.add(Suppression(org_pk=alert.org_pk, asset_pk=alert.asset_pk, matched=alert.matched,
                                state=state.value, created_at=now))
    _sighting(session, alert, state, named=named, now=now)
    session.flush()
    return alert


def _sighting(session: Session, alert: Alert, state: AlertState, *, named: bool, now: int) -> None:
    row = session.scalar(select(StixObject).where(StixObject.stix_id == alert.object_id,
                                                  StixObject.is_latest.is_(True)).order_by(StixObject.pk).limit(1))
    if row is None or row.type in _SCO_TYPES:
        return
    collection = session.get_one(Collection, row.collection_pk)
    producer = session.get(Org, row.publisher_org_pk) if row.publisher_org_pk is not None else None
    sme = session.get_one(Org, alert.org_pk)
    stamp = from_micros(now)
    sighting: dict[str, Any] = {
        "type": "sighting", "spec_version": "2.1", "id": f"sighting--{uuid.uuid4()}", "created": stamp,
        "modified": stamp, "sighting_of_ref": alert.object_id, "count": 1,
        "first_seen": from_micros(alert.created_at), "last_seen": stamp, "object_marking_refs": [AMBER_STRICT],
        "x_exchange_answer": state.value,
    }
    if producer is not None and producer.pk != sme.pk:
        sighting["x_exchange_recipients"] = [producer.identity_id]
    if named:
        sighting["created_by_ref"] = sme.identity_id
        sighting["where_sighted_refs"] = [sme.identity_id]
    result = ingest.ingest(session, [sighting], collection=collection, org=sme if named else None)
    if result.added != 1:
        raise BadRequest(f"the answer could not be recorded as a sighting: {result.results[0].message}")


def reach(session: Session, org: Org, object_id: str, *, gathered: Sequence[str] = ()) -> Reach:
    """Per object, for its producer (or a hub admin): how many organisations it reached and what they did.
    ``gathered``: the objects a report gathers (an advisory's vulnerability and indicators), counted with it,
    those of the same producer only; an organisation alerted about several of them counts once."""
    producer = session.scalar(select(StixObject.publisher_org_pk).where(StixObject.stix_id == object_id,
                                                                        StixObject.is_latest.is_(True)).limit(1))
    if producer is None or (producer != org.pk and not org.is_hub_admin):
        raise NotFound(f"no object {object_id!r} published by {org.slug}")
    ids = [object_id, *session.scalars(select(StixObject.stix_id).where(
        StixObject.stix_id.in_(gathered), StixObject.is_latest.is_(True), StixObject.publisher_org_pk == producer))]
    told = (Alert.object_id.in_(ids), Alert.withheld.is_(False))
    counts = {r[0]: r[1] for r in session.execute(
        select(Alert.state, func.count(func.distinct(Alert.org_pk))).where(*told).group_by(Alert.state))}
    reached = session.scalar(select(func.count(func.distinct(Alert.org_pk))).where(*told)) or 0
    answered = session.scalar(select(func.count(func.distinct(Alert.org_pk))).where(
        *told, Alert.answered_at.is_not(None))) or 0
    fixes = [a.answered_at - a.created_at for a in session.scalars(
        select(Alert).where(*told, Alert.state == AlertState.fixed.value)) if a.answered_at is not None]
    return Reach(object_id, reached, answered, counts.get(AlertState.fixed.value, 0),
                 counts.get(AlertState.false_positive.value, 0), counts.get(AlertState.not_ours.value, 0),
                 counts.get(AlertState.need_help.value, 0),
                 round(statistics.median(fixes) / HOUR, 2) if fixes else None)


def sightings(session: Session, org: Org, *, limit: int, after: str | None = None) -> Sightings:
    """The sightings that came back to ``org``, newest first: the answers to its objects' alerts (each names
    its producer as recipient, ``_sighting``) and any other sighting naming it, as far as it may read them."""
    named = select(ObjectRecipient.object_pk).where(ObjectRecipient.org_pk == org.pk)
    query = (access.readable(org).where(StixObject.type == "sighting", StixObject.is_latest.is_(True),
                                        StixObject.pk.in_(named)).order_by(StixObject.pk.desc()).limit(limit + 1))
    if after is not None:
        if not after.isdigit() or len(after) > 18:
            raise BadRequest("'next' must be the 'next' value of the previous page")
        query = query.where(StixObject.pk < int(after))
    rows = list(session.scalars(query))
    return Sightings(rows[:limit], str(rows[limit - 1].pk) if len(rows) > limit else None)
