"""Errors to responses, in one place: every failure becomes a JSON body with a 4xx/5xx status.

Under ``/taxii2/`` the body is TAXII's error message (TAXII 2.1, section 3.6.1: ``error_id``,
``error_code``, ``http_status`` as a string) with the TAXII media type; elsewhere the same fields
as plain JSON. Tracebacks go to the log, never to the client.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from exchange.core.errors import ExchangeError
from exchange.core.media import TAXII

log = logging.getLogger(__name__)


def _all_subclasses(cls: type[ExchangeError]) -> list[type[ExchangeError]]:
    return [sub for direct in cls.__subclasses__() for sub in (direct, *_all_subclasses(direct))]


# Errors raised by the framework (unknown route, body limit) get the same titles as ours.
_TITLES = {cls.status: cls.title for cls in _all_subclasses(ExchangeError)}


# The body of every error outside /taxii2/ (which adds TAXII's error_id and error_code), for the API documents.
class ErrorOut(BaseModel):
    title: str
    description: str
    http_status: str
    details: dict[str, Any] | None = None


# Documented on every REST router, so each operation lists the errors it can answer with.
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut, "description": text}
    for code, text in {
        400: "Malformed input", 401: "No or wrong credentials", 403: "Not allowed for this organisation or key",
        404: "Not found or not readable", 409: "Conflicts with an existing resource", 413: "Body too large",
        422: "Invalid parameters", 429: "Too many requests: wait for Retry-After seconds",
    }.items()
}


def error_response(request: Request, status: int, description: str, *, title: str | None = None,
                   headers: Mapping[str, str] | None = None, details: dict[str, Any] | None = None) -> Response:
    title = title or _TITLES.get(status) or HTTPStatus(status).phrase
    # A browser asking for a page gets the web portal's HTML error page instead (exchange.web.errors).
    html = getattr(request.scope["app"].state, "html_error", None) if "app" in request.scope else None
    page: Response | None = html(request, status, title, description, headers) if html is not None else None
    if page is not None:
        return page
    body: dict[str, Any] = {"title": title, "description": description, "http_status": str(status)}
    if details:
        body["details"] = details
    media_type = "application/json"
    if request.url.path.startswith("/taxii2"):
        media_type = TAXII
        body["error_id"] = str(uuid.uuid4())
        body["error_code"] = HTTPStatus(status).name
    return Response(orjson.dumps(body), status_code=status, headers=dict(headers or {}), media_type=media_type)


def exchange_error_response(request: Request, exc: ExchangeError) -> Response:
    """The response to one of our errors; also used by middleware, which runs outside the exception handlers."""
    return error_response(request, exc.status, exc.description, title=exc.title, headers=exc.response_headers(),
                          details=exc.details)


def _allowed_methods(request: Request) -> list[str]:
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches(request.scope)
        if match != Match.NONE:
            methods.update(getattr(route, "methods", None) or ())
    return sorted(methods)


def install(app: FastAPI) -> None:
    @app.exception_handler(ExchangeError)
    async def exchange_error(request: Request, exc: ExchangeError) -> Response:
        return exchange_error_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        problems = [{"location": ".".join(str(p) for p in e.get("loc", ())), "message": e.get("msg", "")}
                    for e in exc.errors()]
        return error_response(request, 422, "some parameters are missing or malformed", title="Invalid request",
                              details={"errors": problems})

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # Starlette names only the methods of the first route with this path
            headers["Allow"] = ", ".join(_allowed_methods(request))
        return error_response(request, exc.status_code, str(exc.detail), headers=headers)

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    @app.exception_handler(PoolTimeout)
    async def database_unavailable(request: Request, exc: Exception) -> Response:
        """The database is down, unreachable or out of connections: a client should retry, not report a bug."""
        log.warning("database unavailable on %s %s: %s", request.method, request.url.path,
                    str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        return error_response(request, 503, "the database is unavailable; retry later", headers={"Retry-After": "5"})

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(request, 500, "the hub could not complete the request; it has been logged",
                              title="Internal error")
