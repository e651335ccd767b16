""""Is this known bad?": a domain, address, URL or hash looked up among what the organisation may read.

The query is the REST API's (``store.reads.lookup``, behind ``GET /api/v1/observables``): observables equal
to the value, or for an address the ranges containing it, each object through ``sharing.access``, so a
TLP:AMBER indicator of another group answers "nothing known" here as it does on the API.
"""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from exchange.core.deps import SessionDep
from exchange.store import reads
from exchange.web.deps import SignedInDep
from exchange.web.render import page

router = APIRouter()
LIMIT = 50  # objects shown; the newest first


@router.get("/lookup")
def lookup(request: Request, session: SessionDep, me: SignedInDep,
           value: Annotated[str, Query(max_length=1024, pattern=r"^[^\x00]*$")] = "") -> Response:
    wanted = value.strip()
    found = reads.lookup(session, me.org, wanted, limit=LIMIT) if wanted else []
    rows = [{"kind": hit.kind, "value": hit.value, "object": hit.object,
             "name": orjson.loads(hit.object.raw).get("name") or hit.object.type} for hit in found]
    return page(request, "lookup.html", {"value": wanted, "rows": rows, "asked": bool(wanted)})
