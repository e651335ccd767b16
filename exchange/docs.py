"""The interactive API docs (``/docs``, ``/redoc``) and what the OpenAPI document says about security.

Why self-hosted: FastAPI's default pages load Swagger UI and ReDoc from a CDN, so ``/docs`` is a blank
page on the closed networks a CSIRT hub often runs on, and every visit tells a third party who reads
the docs. The assets come from the ``fastapi-offline`` package (Swagger UI 5 and ReDoc dist files,
Apache-2.0 and MIT, their licences ship with it), served under ``/docs/static``.

Why the security schemes are added here rather than declared by the auth dependencies: authentication
is one dependency that accepts either scheme (``exchange.orgs.auth``); declaring both in the document
gives Swagger UI its Authorize button without changing how requests are authenticated.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

STATIC = "/docs/static"
SECURITY_SCHEMES = {
    "bearerAuth": {"type": "http", "scheme": "bearer", "description": "`Authorization: Bearer <api key>`"},
    "basicAuth": {"type": "http", "scheme": "basic",
                  "description": "HTTP Basic: the organisation's slug as user name, an API key as password"},
}
_KEY_NEEDED: list[dict[str, list[str]]] = [{"bearerAuth": []}, {"basicAuth": []}]
_KEY_OPTIONAL = [*_KEY_NEEDED, {}]  # TAXII serves public collections and the operations endpoints anonymously
_REST = "/api/v1/"


def _with_security(spec: dict[str, Any]) -> dict[str, Any]:
    spec.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
    for path, operations in spec.get("paths", {}).items():
        for operation in operations.values():
            operation.setdefault("security", _KEY_NEEDED if path.startswith(_REST) else _KEY_OPTIONAL)
    return spec


def install(app: FastAPI) -> None:
    """Serve ``/docs`` and ``/redoc`` from local assets; add the security schemes to ``/openapi.json``.

    The app must be created with ``docs_url=None, redoc_url=None`` so these routes are the only ones.
    """
    app.mount(STATIC, StaticFiles(directory=str(files("fastapi_offline") / "static")), name="docs-static")

    generate = app.openapi

    def openapi() -> dict[str, Any]:
        return _with_security(generate())  # FastAPI caches the document; adding the schemes again is a no-op

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend the document

    def base(request: Request) -> str:
        return str(request.scope.get("root_path", "")).rstrip("/")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        root = base(request)
        return get_swagger_ui_html(
            openapi_url=root + (app.openapi_url or "/openapi.json"), title=f"{app.title} API",
            swagger_js_url=f"{root}{STATIC}/swagger-ui-bundle.js", swagger_css_url=f"{root}{STATIC}/swagger-ui.css",
            swagger_favicon_url=f"{root}{STATIC}/favicon.png",
            swagger_ui_parameters={"persistAuthorization": False})

    @app.get("/redoc", include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        root = base(request)
        return get_redoc_html(openapi_url=root + (app.openapi_url or "/openapi.json"), title=f"{app.title} API",
                              redoc_js_url=f"{root}{STATIC}/redoc.standalone.js",
                              redoc_favicon_url=f"{root}{STATIC}/favicon.png", with_google_fonts=False)
