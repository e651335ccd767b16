"""What came back from the organisations a producer's advisories reached: per advisory, how many were
alerted and what they answered (``alerts.service.reach``, the producer view of the API), and the sightings
the answers became (``alerts.service.sightings``). Producers only, like the dashboard that links here."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from babel.numbers import format_percent
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy import literal, select

from exchange.alerts import service as alerts
from exchange.core.deps import SessionDep
from exchange.orgs.models import Org
from exchange.sharing import access
from exchange.store.models import StixObject
from exchange.web.dashboard import producer
from exchange.web.render import page
from exchange.web.sessions import SignedIn

router = APIRouter()
PAGE_SIZE = 20
Producer = Annotated[SignedIn, Depends(producer)]
After = Annotated[str | None, Query(max_length=20, pattern=r"^[0-9]+$")]


def _rate(part: int, whole: int, language: str) -> str:
    return format_percent(part / whole, locale=language) if whole else ""


# Written into the statement, not bound: only then may the planner use the partial index of reports
# (``ix_stix_object_reports``), whose condition it must see in the query.
REPORTS = StixObject.type == literal("report", literal_execute=True)


@router.get("/advisories")
def advisories(request: Request, session: SessionDep, me: Producer, after: After = None,
               published: Annotated[bool, Query()] = False) -> Response:
    """The organisation's reports, newest first, each with what its alerts became."""
    query = (access.readable(me.org).where(StixObject.publisher_org_pk == me.org.pk, REPORTS,
                                           StixObject.is_latest.is_(True)).order_by(StixObject.pk.desc())
             .limit(PAGE_SIZE + 1))
    if after is not None:
        query = query.where(StixObject.pk < int(after))
    reports = list(session.scalars(query))
    language = request.state.language
    rows = []
    for report in reports[:PAGE_SIZE]:
        raw = orjson.loads(report.raw)
        refs = [r for r in raw.get("object_refs", ()) if isinstance(r, str)]
        reach = alerts.reach(session, me.org, report.stix_id, gathered=refs)
        rows.append({"id": report.stix_id, "name": raw.get("name") or report.stix_id, "added": report.date_added,
                     "r": reach, "rates": {name: _rate(getattr(reach, name), reach.reached, language) for name in
                                           ("acknowledged", "fixed", "false_positive", "need_help")}})
    more = str(reports[PAGE_SIZE - 1].pk) if len(reports) > PAGE_SIZE else None
    return page(request, "advisories.html", {"rows": rows, "next": more, "published": published})


@router.get("/sightings")
def sightings(request: Request, session: SessionDep, me: Producer, after: After = None) -> Response:
    """The sightings that came back: about which object, what was answered, by whom if they agreed to say."""
    found = alerts.sightings(session, me.org, limit=PAGE_SIZE * 2, after=after)
    parsed = [(row, orjson.loads(row.raw)) for row in found.rows]
    about = {s.get("sighting_of_ref") for _, s in parsed}
    # Asked only when there is something to name: an empty IN list is a scan of every object (40 ms at 100k).
    names = {stix_id: orjson.loads(raw).get("name") for stix_id, raw in session.execute(
        access.readable(me.org).with_only_columns(StixObject.stix_id, StixObject.raw)
        .where(StixObject.stix_id.in_(about), StixObject.is_latest.is_(True)))} if about else {}
    where = {ref for _, s in parsed for ref in s.get("where_sighted_refs") or ()}
    orgs = dict(session.execute(select(Org.identity_id, Org.name).where(Org.identity_id.in_(where))).all())
    rows: list[dict[str, Any]] = [{
        "added": row.date_added, "of": s.get("sighting_of_ref"), "name": names.get(s.get("sighting_of_ref")),
        "answer": s.get("x_exchange_answer"), "count": s.get("count"),
        "who": [orgs.get(ref, ref) for ref in s.get("where_sighted_refs") or ()]} for row, s in parsed]
    return page(request, "sightings.html", {"rows": rows, "next": found.next})
