"""What every REST endpoint does with its query string: only declared names, integers in range.

Why refuse unknown names: a misspelt filter (``?typ=indicator``) or the wrong paging name
(``?cursor=`` where the answer says ``next``) was silently ignored, so a client got everything,
or page 1 forever, and could not tell. A 400 naming the accepted parameters says what went wrong.

Why a range on every integer: values are handed to the database, whose integers are 64-bit; one
past that was a 500 (``/api/v1/audit?before=9223372036854775808``), and FastAPI checks ``le`` for
us before the handler runs, with the same 422 as any other invalid parameter.
"""

from __future__ import annotations

from typing import Any

from fastapi import Path, Query, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from exchange.core.errors import BadRequest
from exchange.core.text import NO_NUL

INT_MAX = 2**63 - 1  # the largest value a BIGINT (and SQLite's INTEGER) holds: every integer parameter stops here


def _names(dependant: Dependant) -> frozenset[str]:
    """Query parameter names (aliases) the endpoint and all its dependencies declare."""
    own = {field.alias for field in dependant.query_params}
    return frozenset(own.union(*(_names(sub) for sub in dependant.dependencies)))


async def known_only(request: Request) -> None:
    """Router dependency: 400 for a query parameter the matched endpoint does not declare."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    declared = _names(route.dependant)  # a few µs: cheaper than any cache keyed safely on the route
    unknown = sorted(set(request.query_params) - declared)
    if unknown:
        takes = ", ".join(sorted(declared)) if declared else "no query parameters"
        raise BadRequest(f"unknown query parameter {unknown[0][:64]!r}; this endpoint takes {takes}")


def text_query(**kwargs: Any) -> Any:
    """A string query parameter; NUL never passes (``app.reject_nul``), and the schema says so."""
    return Query(pattern=NO_NUL, **kwargs)


def text_path(**kwargs: Any) -> Any:
    """A string path parameter; NUL never passes (``app.reject_nul``), and the schema says so."""
    return Path(pattern=NO_NUL, **kwargs)


def page_limit() -> Any:
    """``limit`` of every REST listing: positive, in the database's range, capped by the server."""
    return Query(ge=1, le=INT_MAX, description="Page size (capped by the server)")
