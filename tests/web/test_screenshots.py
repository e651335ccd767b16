"""Screenshots of every page for the demo and the README: each GET page route of the portal without path
parameters (read from ``routes.PAGES``, so pages added later are captured without editing this test), plus
one alert and one object, as an SME, a CSIRT, an ISAC and an admin, at 1280 px and at 360 px, written to
``build/screenshots/`` (gitignored). Every page must answer without a server error."""

from __future__ import annotations

from pathlib import Path

from fastapi.routing import APIRoute
from playwright.sync_api import Browser

from exchange.orgs.models import Role
from exchange.web.routes import PAGES
from tests.conftest import once
from tests.factories import indicator
from tests.web.conftest import Portal, sign_in

# The pictures do not depend on the database; on PostgreSQL every page is rendered by the leak and
# accessibility tests (tests/web/test_page_leak.py, test_accessibility.py, test_admin_hub.py).
pytestmark = once("pictures of the pages")
FOLDER = Path(__file__).resolve().parents[2] / "build" / "screenshots"
WIDTHS = {"desktop": 1280, "narrow": 360}


def page_paths() -> list[str]:
    return sorted({route.path for router in PAGES for route in router.routes
                   if isinstance(route, APIRoute) and "GET" in (route.methods or ()) and "{" not in route.path})


def test_every_page_is_captured_for_every_role(portal: Portal, browser: Browser) -> None:
    csirt, csirt_email = portal.person(Role.csirt)
    sme, sme_email = portal.person()
    _, isac_email = portal.person(Role.isac)
    _, admin_email = portal.person(Role.admin)
    portal.asset(sme.org.pk, "bakery.test")
    published = indicator("[domain-name:value = 'login.bakery.test']", name="Phishing page imitating the bakery",
                          description="A copy of the bakery's login page collects customers' passwords.")
    portal.publish(csirt, published)
    portal.match()
    portal.feed_run(csirt.org.pk, "national-blocklist", added=1)
    [alert] = portal.alert_ids(sme.org.pk)
    paths = page_paths()
    assert {"/inbox", "/assets", "/settings", "/welcome", "/lookup", "/exposure"} <= set(paths)
    written: list[Path] = []
    downloads: set[str] = set()
    captured: set[str] = set()
    for role, email in (("sme", sme_email), ("csirt", csirt_email), ("isac", isac_email), ("admin", admin_email)):
        extra = [f"/inbox/{alert}"] if role == "sme" else []
        for size, width in WIDTHS.items():
            context = browser.new_context(base_url=portal.url, viewport={"width": width, "height": 900})
            page = context.new_page()
            try:
                sign_in(page, email)
                for path in [*paths, *extra, f"/objects/{published['id']}"]:
                    probe = page.request.get(path)
                    if probe.status in (403, 404):
                        continue  # another role's page (the producer's, the admin's)
                    if "text/html" not in probe.headers.get("content-type", ""):
                        downloads.add(path)  # a download (an export), not a page
                        continue
                    answer = page.goto(path)
                    assert answer is not None
                    assert answer.status < 500, f"{role} {path}: {answer.status}"
                    name = path.strip("/").replace("/", "-").replace("?", "-") or "start"
                    target = FOLDER / role / f"{size}-{name}.png"
                    target.parent.mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(target), full_page=True)
                    written.append(target)
                    captured.add(path)
            finally:
                context.close()
    assert all(shot.stat().st_size > 1000 for shot in written)
    assert downloads <= {"/export"}
    assert set(paths) - downloads <= captured  # every page was captured for some role
