"""TAXII status resources (TAXII 2.1, section 4.3.1): the outcome of a POST, kept for clients.

All ingests complete within the request, so every status is "complete" with no pendings; the
resource is still stored, because clients poll it by id, possibly on another replica, later.
"""

from __future__ import annotations

import uuid
from typing import Any, cast

import orjson
from sqlalchemy import CursorResult, delete, select
from sqlalchemy.orm import Session

from exchange.errors import NotFound, Unauthenticated
from exchange.orgs.models import Org, Role
from exchange.stix.ingest import IngestResult
from exchange.stix.models import ApiRoot, TaxiiStatus
from exchange.stix.timestamps import from_micros, now_micros

RETENTION_US = 7 * 24 * 3600 * 1_000_000  # TAXII clients may poll for at least 24 hours; we keep a week


def create(session: Session, *, root: ApiRoot, org: Org | None, result: IngestResult, requested_at: int) -> bytes:
    successes: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    fallback_version = from_micros(requested_at)
    for r in result.results:
        detail = {"id": r.id or "", "version": r.version or fallback_version}
        if r.status == "rejected":
            failures.append(detail | {"message": r.message})
        else:
            successes.append(detail | ({"message": r.message} if r.message else {}))
    status_id = str(uuid.uuid4())
    body = orjson.dumps({
        "id": status_id,
        "status": "complete",
        "request_timestamp": from_micros(requested_at),
        "total_count": len(result.results),
        "success_count": len(successes),
        "successes": successes,
        "failure_count": len(failures),
        "failures": failures,
        "pending_count": 0,
        "pendings": [],
    })
    session.add(TaxiiStatus(id=status_id, api_root_pk=root.pk, org_pk=org.pk if org else None,
                            created_at=requested_at, body=body))
    return body


def get(session: Session, reader: Org | None, root: ApiRoot, status_id: str) -> bytes:
    """Only the organisation that posted (or an admin) may read a status; others get 404."""
    if reader is None:
        raise Unauthenticated("send the credentials the objects were posted with")
    row = session.scalar(select(TaxiiStatus).where(TaxiiStatus.id == status_id, TaxiiStatus.api_root_pk == root.pk))
    allowed = row is not None and reader is not None and (reader.role == Role.admin or row.org_pk == reader.pk)
    if row is None or not allowed:
        raise NotFound(f"no status {status_id!r}")
    return row.body


def purge(session: Session) -> int:
    """Drop status resources past their retention; a scheduled job of the worker."""
    cutoff = now_micros() - RETENTION_US
    result = cast(CursorResult[Any], session.execute(delete(TaxiiStatus).where(TaxiiStatus.created_at < cutoff)))
    return result.rowcount
