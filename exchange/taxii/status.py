"""TAXII status resources (TAXII 2.1, section 4.3.1): the outcome of a POST, kept for clients.

Small envelopes are stored within the request and answered "complete". Large ones are queued
(``stix.queue``) and answered "pending", every object listed under ``pendings``; that answer is
served until the ingester has stored them, and then the final resource is.
Either way the resource lives in the database, because clients poll it by id, possibly on another
replica, later.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

import orjson
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from exchange.core.db import rowcount
from exchange.core.errors import NotFound, Unauthenticated
from exchange.core.timestamps import from_micros, now_micros
from exchange.orgs.models import Org
from exchange.stix.prepare import reported_text
from exchange.store.ingest import IngestResult
from exchange.store.models import ApiRoot, IngestJob, TaxiiStatus

RETENTION_US = 7 * 24 * 3600 * 1_000_000  # TAXII clients may poll for at least 24 hours; we keep a week


def _render(status_id: str, requested_at: int, *, successes: list[dict[str, Any]] | None = None,
            failures: list[dict[str, Any]] | None = None, pendings: list[dict[str, Any]] | None = None) -> bytes:
    successes, failures, pendings = successes or [], failures or [], pendings or []
    return orjson.dumps({
        "id": status_id,
        "status": "pending" if pendings else "complete",
        "request_timestamp": from_micros(requested_at),
        "total_count": len(successes) + len(failures) + len(pendings),
        "success_count": len(successes),
        "successes": successes,
        "failure_count": len(failures),
        "failures": failures,
        "pending_count": len(pendings),
        "pendings": pendings,
    })


def create(session: Session, *, root_pk: int, org: Org | None, result: IngestResult, requested_at: int,
           status_id: str | None = None) -> bytes:
    """Store the final status of an ingest; ``status_id`` is the one a pending answer already gave."""
    successes: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    fallback_version = from_micros(requested_at)
    for r in result.results:  # one dict an object: this runs inside the ingester's transaction
        detail = {"id": r.id or "", "version": r.version or fallback_version}
        if r.message or r.status == "rejected":
            detail["message"] = r.message
        (failures if r.status == "rejected" else successes).append(detail)
    status_id = status_id or str(uuid.uuid4())
    body = _render(status_id, requested_at, successes=successes, failures=failures)
    session.add(TaxiiStatus(id=status_id, api_root_pk=root_pk, org_pk=org.pk if org else None,
                            created_at=requested_at, body=body))
    return body


def pending(status_id: str, requested_at: int, objects: Iterable[Any]) -> bytes:
    """The status of a queued envelope: every object pending, named as the client sent it."""
    fallback_version = from_micros(requested_at)
    pendings = [{"id": reported_text(o, "id") or "",
                 "version": reported_text(o, "modified") or reported_text(o, "created") or fallback_version}
                for o in objects]
    return _render(status_id, requested_at, pendings=pendings)


def get(session: Session, reader: Org | None, root: ApiRoot, status_id: str) -> bytes:
    """Only the organisation that posted (or an admin) may read a status; others get 404.

    The queued job is looked up first: the ingester deletes it in the transaction that writes the
    final status, so a job gone is a status there. In the other order, each read seeing its own
    snapshot, a status completed between the two reads was found in neither (seen: a 404 mid-poll).
    """
    if reader is None:
        raise Unauthenticated("send the credentials the objects were posted with")
    job = session.execute(select(IngestJob.org_pk, IngestJob.pending_status).where(
        IngestJob.status_id == status_id, IngestJob.api_root_pk == root.pk)).first()
    if job is not None:
        if _may_read(reader, job.org_pk):
            return bytes(job.pending_status)
    else:
        row = session.scalar(select(TaxiiStatus).where(TaxiiStatus.id == status_id,
                                                       TaxiiStatus.api_root_pk == root.pk))
        if row is not None and _may_read(reader, row.org_pk):
            return row.body
    raise NotFound(f"no status {status_id!r}")


def _may_read(reader: Org, poster_pk: int | None) -> bool:
    return reader.is_hub_admin or poster_pk == reader.pk


def purge(session: Session) -> int:
    """Drop status resources past their retention; a scheduled job of the worker."""
    cutoff = now_micros() - RETENTION_US
    return rowcount(session.execute(delete(TaxiiStatus).where(TaxiiStatus.created_at < cutoff)))
