"""The FastAPI application factory. Nothing happens at import time; ``create_app`` wires it all."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest
from sqlalchemy import text
from starlette.exceptions import HTTPException as StarletteHTTPException

from exchange import __version__
from exchange.db import make_engine, make_sessionmaker
from exchange.errors import ExchangeError
from exchange.middleware import BodyLimit, Metrics
from exchange.settings import Settings
from exchange.stix import api as stix_api

log = logging.getLogger(__name__)


def _all_subclasses(cls: type[ExchangeError]) -> list[type[ExchangeError]]:
    return [sub for direct in cls.__subclasses__() for sub in (direct, *_all_subclasses(direct))]


# Errors raised by the framework (unknown route, body limit) get the same titles as ours.
_TITLES = {cls.status: cls.title for cls in _all_subclasses(ExchangeError)}


def _error(status: int, title: str, description: str, headers: Mapping[str, str] | None = None,
           **extra: Any) -> JSONResponse:
    body = {"title": title, "description": description, "http_status": str(status), **extra}
    return JSONResponse(body, status_code=status, headers=headers)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ExchangeError)
    async def exchange_error(_: Request, exc: ExchangeError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers or None)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {"location": ".".join(str(p) for p in e.get("loc", ())), "message": e.get("msg", "")}
            for e in exc.errors()
        ]
        return _error(422, "Invalid request", "some parameters are missing or malformed",
                      details={"errors": problems})

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        title = _TITLES.get(exc.status_code) or HTTPStatus(exc.status_code).phrase
        return _error(exc.status_code, title, str(exc.detail), headers=exc.headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return _error(500, "Internal error", "the hub could not complete the request; it has been logged")


def create_app(settings: Settings) -> FastAPI:
    engine = make_engine(settings.database_url)
    registry = CollectorRegistry()
    app = FastAPI(
        title="Exchange",
        version=__version__,
        summary="Threat-information exchange for CSIRTs, ISACs and SMEs",
        description="Publish and query STIX 2.1 objects. Authenticate with `Authorization: Bearer <api key>` "
        "or HTTP Basic (organisation slug and API key).",
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = make_sessionmaker(engine)
    app.state.ingested = Counter(
        "exchange_ingested_objects", "STIX objects processed by ingest", ["status"], registry=registry
    )
    _install_error_handlers(app)
    app.include_router(stix_api.router)

    @app.get("/healthz", tags=["operations"], summary="Liveness: the process answers")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"], summary="Readiness: the database answers",
             responses={503: {"description": "database unreachable"}})
    def readyz() -> Response:
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception:  # any database failure means "not ready"; the reason goes to the log
            log.warning("readiness check failed", exc_info=True)
            return _error(503, "Not ready", "the database is unreachable")
        return JSONResponse({"status": "ready"})

    @app.get("/metrics", tags=["operations"], summary="Prometheus metrics", response_class=Response)
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    app.add_middleware(Metrics, registry=registry)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    return app
