"""The append-only audit log: every write and administrative action leaves one row (who, what,
when, from where). Triggers in the database refuse UPDATE, DELETE, an INSERT that would replace a
row (SQLite's REPLACE) and TRUNCATE (PostgreSQL), so not even the hub's own code can rewrite history;
docs/decisions/0003-access.md says what the triggers cannot stop (the table's owner drops them)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from exchange.core.timestamps import now_micros
from exchange.orgs.models import AuditEntry, Org, User
from exchange.orgs.service import Principal

if TYPE_CHECKING:  # only the API passes requests: the command line records without importing FastAPI
    from fastapi import Request

CLI = "cli"  # the actor and origin of what the hub's own command line does


def record(session: Session, *, org: Org | None, action: str, target: str, detail: str = "",
           remote_addr: str | None = None, actor: str | None = None) -> None:
    session.add(AuditEntry(at=now_micros(), org_pk=org.pk if org is not None and org.pk else None,
                           actor=actor if actor is not None else (org.slug if org is not None else ""),
                           action=action, target=target[:300], detail=detail, remote_addr=remote_addr))


def client_address(request: Request) -> str | None:
    """Where a request came from, as the audit log records it."""
    return request.client.host if request.client else None


def record_request(session: Session, request: Request, caller: Principal, action: str, target: str,
                   detail: str = "") -> None:
    """A write through the API, by ``caller``, from the client's address."""
    record(session, org=caller.org, action=action, target=target, detail=detail, actor=caller.actor,
           remote_addr=client_address(request))


def record_person(session: Session, request: Request, org: Org, user: User, action: str, target: str,
                  detail: str = "") -> None:
    """A write by a person signed in to the web pages, named as the API names that person's keys
    (``Principal.actor``, ``slug/e-mail``): one name per person in the log, whichever way they came."""
    record(session, org=org, action=action, target=target, detail=detail,
           actor=Principal(org, user, user.role.scopes).actor, remote_addr=client_address(request))


def record_cli(session: Session, action: str, target: str, detail: str = "") -> None:
    record(session, org=None, action=action, target=target, detail=detail, actor=CLI, remote_addr=CLI)


def entries(*, since: int | None = None, until: int | None = None, action: str | None = None,
            org_slug: str | None = None, actor: str | None = None, before_pk: int | None = None) -> Select[AuditEntry]:
    """Newest first; ``before_pk`` continues a listing, ``until`` is exclusive. ``org_slug`` matches the recorded
    actor, not ``org_pk``: the log outlives organisations, and SQLite may give a deleted one's key to a new one.
    A person is named ``slug/e-mail``; web pages wrote ``slug:e-mail`` before 2026-12-06 (the log is
    append-only, so those entries stay), and both match.
    ``actor`` is any part of the recorded actor (an e-mail address, a slug)."""
    query = select(AuditEntry).order_by(AuditEntry.pk.desc())
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if until is not None:
        query = query.where(AuditEntry.at < until)
    if action is not None:
        query = query.where(AuditEntry.action == action)
    if org_slug is not None:
        query = query.where(or_(AuditEntry.actor == org_slug,
                                AuditEntry.actor.startswith(f"{org_slug}/", autoescape=True),
                                AuditEntry.actor.startswith(f"{org_slug}:", autoescape=True)))
    if actor is not None:
        query = query.where(AuditEntry.actor.contains(actor, autoescape=True))
    if before_pk is not None:
        query = query.where(AuditEntry.pk < before_pk)
    return query
