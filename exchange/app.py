"""The FastAPI application factory. Nothing happens at import time; ``create_app`` wires it all."""

from __future__ import annotations

import gc
import hmac
import ipaddress
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import anyio
from fastapi import Depends, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest

from exchange import __version__, docs
from exchange.alerts import api as alerts_api
from exchange.alerts.delivery import api as delivery_api
from exchange.assets import api as assets_api
from exchange.core import handlers
from exchange.core.db import behind_head, make_engine, make_sessionmaker, request_turns
from exchange.core.errors import BadRequest, Forbidden, NotFound
from exchange.core.middleware import BodyBudget, BodyLimit, Metrics, SecurityHeaders
from exchange.core.ratelimit import RateLimit
from exchange.core.settings import Settings
from exchange.core.text import NUL
from exchange.feeds import api as feeds_api
from exchange.orgs import api as orgs_api
from exchange.orgs.service import KEY_SCHEME
from exchange.sharing import api as sharing_api
from exchange.store import api as store_api
from exchange.taxii import api as taxii_api
from exchange.taxii.ingest_queue import Ingester
from exchange.web import routes as web_routes

log = logging.getLogger(__name__)


async def reject_nul(request: Request) -> None:
    """NUL is never meaningful in a path or query, and PostgreSQL text cannot hold it: refuse it up front."""
    if NUL in request.url.path or "%00" in request.url.query.lower() or NUL in request.url.query:
        raise BadRequest("NUL characters are not allowed in the URL")


def metrics_access(settings: Settings) -> Callable[[Request], None]:
    """Who may scrape ``/metrics``: request counts by route and status tell an outsider what the hub
    serves and to whom, so only the configured token or networks (default: loopback) may read them.
    Others get 404, as if there were no such page; a wrong token gets 403."""
    networks = [ipaddress.ip_network(net, strict=False) for net in settings.metrics_allow]
    token = settings.metrics_token.encode()

    def check(request: Request) -> None:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            if token and hmac.compare_digest(value.strip().encode(), token):
                return
            raise Forbidden("this token may not read the metrics")
        try:
            address = ipaddress.ip_address(request.client.host if request.client else "")
        except ValueError:  # not an IP address (a Unix socket, a test client): never allowed by network
            address = None
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if address is None or not any(address in net for net in networks):
            raise NotFound("no such page")

    return check


def create_app(settings: Settings) -> FastAPI:
    engine = make_engine(settings.database_url, pool_timeout=settings.database_pool_timeout)
    registry = CollectorRegistry()
    sessions = make_sessionmaker(engine)
    # With the queue off nothing is queued here: what an earlier run or a replica left is prepared in
    # the ingester's thread, and no helper process is started for it.
    helpers = settings.ingest_prepare_processes if settings.ingest_queue_from else 0
    ingester = Ingester(sessions, merge_objects=settings.ingest_merge_objects, prepare_processes=helpers,
                        poll_seconds=settings.ingest_poll_seconds)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        """The ingester runs while the server does; it starts with whatever a previous run left queued."""
        ingester.start()
        # Everything loaded so far (modules, the app, SQLAlchemy's caches) lives as long as the server:
        # out of the collector's sight, a full collection no longer walks it (decision 0005, "Later
        # measurements").
        gc.freeze()
        try:
            yield
        finally:
            await anyio.to_thread.run_sync(ingester.stop)

    app = FastAPI(
        lifespan=lifespan,
        title="Exchange",
        version=__version__,
        redirect_slashes=False,  # TAXII routes register both forms; a redirect would drop POST bodies
        docs_url=None, redoc_url=None,  # served by ``docs.install`` from local assets
        dependencies=[Depends(reject_nul)],
        summary="Threat-information exchange for CSIRTs, ISACs and SMEs",
        description="Publish and query STIX 2.1 objects. Authenticate with `Authorization: Bearer <api key>` "
        "or HTTP Basic (organisation slug and API key).",
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = sessions
    turns = request_turns(engine, settings.requests_at_once)  # ``core.deps.database_turn``
    app.state.database_turns = anyio.Semaphore(turns) if turns is not None else None
    app.state.ingester = ingester
    app.state.ingested = Counter(
        "exchange_ingested_objects", "STIX objects processed by ingest", ["status"], registry=registry
    )
    handlers.install(app)
    docs.install(app)
    app.include_router(store_api.router)
    app.include_router(orgs_api.router)
    app.include_router(sharing_api.router)
    app.include_router(taxii_api.router)
    app.include_router(assets_api.router)
    app.include_router(feeds_api.router)
    app.include_router(alerts_api.router)
    app.include_router(alerts_api.pages)
    app.include_router(delivery_api.router)
    web_routes.install(app)  # the web portal's pages at / (exchange.web)

    @app.get("/healthz", tags=["operations"], summary="Liveness: the process answers")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"], summary="Readiness: the database answers, at this code's schema",
             responses={503: {"description": "database unreachable, or not migrated to this version"}})
    def readyz() -> Response:
        try:
            behind = behind_head(engine)
        except Exception:  # any database failure means "not ready"; the reason goes to the log
            log.warning("readiness check failed", exc_info=True)
            return JSONResponse({"status": "not ready", "description": "the database is unreachable"},
                                status_code=503)
        if behind is not None:
            return JSONResponse({"status": "not ready", "description": f"the database is at migration "
                                 f"{behind[0] or 'none'}, this version needs {behind[1]}: run `exchange db upgrade`"},
                                status_code=503)
        return JSONResponse({"status": "ready"})

    @app.get("/metrics", tags=["operations"], summary="Prometheus metrics", response_class=Response,
             dependencies=[Depends(metrics_access(settings))],
             responses={403: {"description": "a bearer token that is not EXCHANGE_METRICS_TOKEN"},
                        404: {"description": "no token, and the client is outside EXCHANGE_METRICS_ALLOW"}},
             description="Only for `Authorization: Bearer <EXCHANGE_METRICS_TOKEN>` or a client address in "
             "EXCHANGE_METRICS_ALLOW (default: loopback); 404 for anyone else.")
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    # Added innermost first. Rate limiting sits inside CORS so that a browser can read a 429, and
    # inside metrics and security headers so that 429s are counted and carry the headers too.
    if settings.rate_limit_per_ip or settings.rate_limit_per_key:
        app.add_middleware(RateLimit, per_ip=settings.rate_limit_per_ip, per_key=settings.rate_limit_per_key,
                           storage=settings.rate_limit_storage, key_scheme=KEY_SCHEME)
    if settings.cors_origins:
        # Keys travel in the Authorization header set by the calling script, so no credentials mode
        # (cookies, the browser's own HTTP auth) is needed or allowed.
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_credentials=False,
                           allow_methods=["GET", "POST", "DELETE"],
                           allow_headers=["Authorization", "Content-Type", "Accept"],
                           expose_headers=["Retry-After", "X-TAXII-Date-Added-First", "X-TAXII-Date-Added-Last"])
    app.add_middleware(SecurityHeaders)
    app.add_middleware(Metrics, registry=registry)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes, timeout=settings.body_timeout_seconds,
                       budget=BodyBudget(settings.max_body_bytes_in_flight))
    return app


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory`` and multi-process serving: settings from the environment."""
    return create_app(Settings())
