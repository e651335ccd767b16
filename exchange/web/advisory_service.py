"""Storing an advisory, and what it would reach before it is stored.

Publishing is ``store.ingest.ingest``, the path of TAXII and REST: the same validation, authorship and TLP
rules, and the alerts follow from the matching job like for any other object. The preview stores the same
objects in a savepoint, asks ``alerts.matching.preview`` (the job's own code, not a copy) what they hit and
``sharing.access`` (the one read rule) who may read the report, and rolls back: nothing is kept, no alert is
written, the matching cursor does not move. Services take a session and never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from exchange.alerts import matching
from exchange.alerts.candidates import readable
from exchange.alerts.models import SEVERITY_ORDER, Severity
from exchange.core.errors import BadRequest
from exchange.orgs.models import Org, Role
from exchange.sharing import catalog
from exchange.store import ingest
from exchange.store.ingest import IngestResult
from exchange.store.models import Collection, StixObject


@dataclass(frozen=True, slots=True)
class Reach:
    """Who an advisory would reach: organisations alerted in full (by their worst alert's severity), those
    asked first to prove they own the asset it names, and how many organisations may read it at all."""

    alerted: dict[str, list[str]]  # severity -> organisation names, most severe first
    to_verify: list[str]
    readers: int

    @property
    def count(self) -> int:
        return sum(len(names) for names in self.alerted.values())


def writable(session: Session, org: Org) -> list[Collection]:
    """The collections ``org`` may publish to (``catalog.rights``, the rule of TAXII and REST)."""
    return [c for c in session.scalars(select(Collection).order_by(Collection.pk))
            if catalog.rights(session, org, c).can_write]


def collection(session: Session, org: Org, collection_id: str) -> Collection:
    target, rights = catalog.get(session, org, None, collection_id)
    catalog.require_write(rights, org)
    return target


def publish(session: Session, org: Org, objects: list[dict[str, Any]], target: Collection) -> IngestResult:
    """Store the advisory through the one ingest path; all of it or nothing."""
    result = ingest.ingest(session, objects, collection=target, org=org)
    if result.rejected:
        raise BadRequest("; ".join(r.message or "" for r in result.results if r.status == "rejected"))
    return result


def preview(session: Session, org: Org, objects: list[dict[str, Any]], target: Collection) -> Reach:
    """What publishing ``objects`` would reach now; nothing of it is kept."""
    ids = [o["id"] for o in objects]
    nested = session.begin_nested()
    try:
        publish(session, org, objects, target)
        first, last = session.execute(select(func.min(StixObject.pk), func.max(StixObject.pk))
                                      .where(StixObject.stix_id.in_(ids))).one()
        found = matching.preview(session, first - 1, last)
        report = session.scalar(select(StixObject.pk).where(StixObject.stix_id == ids[0]))
        others = list(session.scalars(select(Org.pk).where(Org.pk != org.pk, Org.role != Role.admin)))
        readers = len(readable(session, ((pk, report) for pk in others))) if report is not None else 0
    finally:
        nested.rollback()
    worst: dict[int, Severity] = {}
    waiting: set[int] = set()
    for f in found:
        if not f.verified:
            waiting.add(f.hit.org_pk)
        elif f.hit.org_pk not in worst or SEVERITY_ORDER[f.severity] > SEVERITY_ORDER[worst[f.hit.org_pk]]:
            worst[f.hit.org_pk] = f.severity
    concerned = worst.keys() | waiting
    names: dict[int, str] = dict(session.execute(select(Org.pk, Org.name).where(Org.pk.in_(concerned))).all())
    alerted: dict[str, list[str]] = {}
    for level in sorted(set(worst.values()), key=lambda s: -SEVERITY_ORDER[s]):
        alerted[level.value] = sorted(names[pk] for pk, s in worst.items() if s == level)
    return Reach(alerted, sorted(names[pk] for pk in waiting - worst.keys()), readers)
