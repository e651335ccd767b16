"""Administration pages (issue 20, section 5): organisations, users and keys, sharing groups, collections and
their grants, feeds, and the audit log. One router for the registry; each part in its own module."""

from __future__ import annotations

from fastapi import APIRouter

from exchange.web.admin import auditpage, feedpages, orgpages, sharingpages

router = APIRouter()
for part in (orgpages.router, sharingpages.router, feedpages.router, auditpage.router):
    router.include_router(part)
