"""The page-router registry: every page router of the portal, mounted by ``install`` at ``/``.

A feature's pages are one router in its own module; adding one is one line in ``PAGES``. Pages are
outside the OpenAPI document (they are not an API) and the API and TAXII routes are untouched.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI
from fastapi.staticfiles import StaticFiles

from exchange.web import (
    admin,
    advisory,
    advisory_feedback,
    assetpages,
    dashboard,
    exports,
    exposure,
    inbox,
    lookup,
    objects,
    roster,
    settingspage,
    signin,
    wizard,
)
from exchange.web.deps import web_context
from exchange.web.errors import html_error
from exchange.web.render import TEMPLATES_DIR

PAGES: tuple[APIRouter, ...] = (signin.router, inbox.router, assetpages.router, settingspage.router,
                                 objects.router, dashboard.router)
PAGES += (advisory.router, advisory_feedback.router, roster.router)
PAGES += (*admin.ROUTERS, exports.router)
PAGES += (wizard.router, lookup.router, exposure.router)
STATIC_DIR = TEMPLATES_DIR.parent / "static"


def install(app: FastAPI) -> None:
    for router in PAGES:
        app.include_router(router, include_in_schema=False, dependencies=[Depends(web_context)])
    app.mount("/static/web", StaticFiles(directory=STATIC_DIR), name="web-static")
    app.state.html_error = html_error
    app.state.web_limiter = signin.limiter_for(app.state.settings)
