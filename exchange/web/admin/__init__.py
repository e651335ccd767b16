"""Administration pages (issue 20, section 5): organisations, users and keys, sharing groups, collections and
their grants, feeds, and the audit log. Each part is its own router in ``ROUTERS``, listed one by one in the
page registry rather than nested in one router: the tests and the page benchmark walk the registry's routes,
and a nested router hides its routes from them."""

from __future__ import annotations

from fastapi import APIRouter

from exchange.web.admin import auditpage, feedpages, orgpages, sharingpages

ROUTERS: tuple[APIRouter, ...] = (orgpages.router, sharingpages.router, feedpages.router, auditpage.router)
