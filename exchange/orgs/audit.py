"""The append-only audit log: every write and administrative action leaves one row."""

from __future__ import annotations

from sqlalchemy.orm import Session

from exchange.orgs.models import AuditEntry, Org
from exchange.stix.timestamps import now_micros


def record(session: Session, *, org: Org | None, action: str, target: str, detail: str = "",
           remote_addr: str | None = None) -> None:
    session.add(AuditEntry(at=now_micros(), org_pk=org.pk if org is not None and org.pk else None, action=action,
                           target=target[:300], detail=detail, remote_addr=remote_addr))
