"""Export the current view of the object browser (the same filters: kind, value, day added, collection, TLP)
as a STIX bundle, CSV or a text blocklist, streamed as it is read.

Rows come from ``store.export.pages``, which reads through ``store.reads.list_objects`` (the one read rule):
an export holds exactly what the browser lists, so another organisation's AMBER object is never in it. An
export is bounded by ``EXCHANGE_WEB_EXPORT_MAX_ROWS``: it is counted up to that bound first (a cost of at
most that many index entries), and a view above it gets a page saying so instead of a truncated file that
looks complete. The stream reads a page per transaction with sessions of its own, since it outlives the
request's.
"""

from __future__ import annotations

from typing import Annotated, Literal

from babel.numbers import format_decimal
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse

from exchange.core.deps import SessionDep, get_settings
from exchange.store import export as exports
from exchange.store import reads
from exchange.web.deps import SignedInDep
from exchange.web.objects import BLOCKLIST_KINDS, ViewDep
from exchange.web.render import gettext, page

router = APIRouter()
MEDIA = {"stix": "application/json", "csv": "text/csv; charset=utf-8", "txt": "text/plain; charset=utf-8"}


@router.get("/export")
def export(request: Request, session: SessionDep, me: SignedInDep, shown: ViewDep,
           fmt: Annotated[Literal["stix", "csv", "txt"], Query(alias="format")] = "stix",
           kind: Annotated[str, Query(pattern=f"^({'|'.join(BLOCKLIST_KINDS)})$")] = "domain") -> Response:
    settings = get_settings(request)
    filters = shown.filters(session, me.org)
    limit = settings.web_export_max_rows
    if reads.count_objects(session, me.org, upto=limit + 1, **filters) > limit:
        message = gettext(request, "This view holds more than %(limit)s objects, the most one export may hold. "
                          "Narrow it by kind or value, or ask the hub's operator for a TAXII feed.",
                          limit=format_decimal(limit, locale=request.state.language))
        return page(request, "error.html", {"title": gettext(request, "Too large"), "message": message,
                                            "detail": ""}, status=413)
    rows = exports.pages(request.app.state.sessions, me.org, page_size=settings.max_page_size, **filters)
    name = {"stix": "exchange-objects.json", "csv": "exchange-objects.csv", "txt": f"exchange-blocklist-{kind}.txt"}
    return StreamingResponse(exports.chunks(fmt, kind if fmt == "txt" else None, rows), media_type=MEDIA[fmt],
                             headers={"Content-Disposition": f'attachment; filename="{name[fmt]}"'})
