"""The audit log for the hub admin, newest first, filtered by organisation, actor, action and days (UTC), paged
by entry id (``audit.entries``, the query ``GET /api/v1/audit`` runs), so a long log is never loaded whole."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from exchange.core.deps import SessionDep
from exchange.core.errors import BadRequest
from exchange.core.queryparams import INT_MAX
from exchange.core.timestamps import to_micros
from exchange.orgs import audit
from exchange.web.admin.access import HubAdminPage
from exchange.web.render import page

router = APIRouter()
PAGE_SIZE = 50
DAY = 86_400_000_000  # µs
Day = Annotated[str, Query(max_length=10, pattern=r"^([0-9]{4}-[0-9]{2}-[0-9]{2})?$")]
Text = Annotated[str, Query(max_length=320)]


def _day(value: str) -> int | None:
    """The start of a day (``YYYY-MM-DD``, what a date field sends) in µs, UTC; None for an empty field."""
    if not value:
        return None
    micros = to_micros(f"{value}T00:00:00Z")
    if micros is None:
        raise BadRequest(f"{value!r} is not a date")
    return micros


@router.get("/admin/audit")
def audit_log(request: Request, session: SessionDep, caller: HubAdminPage, org: Text = "", actor: Text = "",
              action: Annotated[str, Query(max_length=64)] = "", since: Day = "", until: Day = "",
              before: Annotated[int | None, Query(ge=1, le=INT_MAX)] = None) -> Response:
    last_day = _day(until)
    rows = list(session.scalars(audit.entries(
        org_slug=org or None, actor=actor or None, action=action or None, since=_day(since),
        until=last_day + DAY if last_day is not None else None, before_pk=before).limit(PAGE_SIZE + 1)))
    filters = {"org": org, "actor": actor, "action": action, "since": since, "until": until}
    more = f"?{urlencode({**filters, 'before': rows[PAGE_SIZE - 1].pk})}" if len(rows) > PAGE_SIZE else None
    return page(request, "admin_audit.html", {"entries": rows[:PAGE_SIZE], "filters": filters, "more": more})
