"""A live portal for the browser tests: the app served by uvicorn in a thread on a free port, Debian's
chromium driven by Playwright, and the real servers the pages talk to (DNS by dnslib, SMTP by aiosmtpd,
both from the asset tests).

The server's socket is bound and listening before uvicorn's thread starts, so the first request
simply waits in the listen queue: no polling, no sleeps. Chromium is the system's (never downloaded).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from argon2 import PasswordHasher, profiles
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from exchange.alerts import matching
from exchange.alerts.models import Alert
from exchange.app import create_app
from exchange.assets import service as assets
from exchange.assets.models import Asset, AssetKind
from exchange.core.db import transaction
from exchange.core.settings import Settings
from exchange.core.timestamps import now_micros
from exchange.feeds.models import Feed, FeedRun
from exchange.orgs import users
from exchange.orgs.models import Org, Role, UserRole
from exchange.store import reads
from exchange.store.reads import DEFAULT_COLLECTION_ID
from tests.assets.conftest import Mailbox, Zone, dns_zone, mailbox  # noqa: F401 - fixtures reused here
from tests.orgs_factory import MakeOrg, OrgKey, auth

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
PASSWORD = "correct horse battery staple"
TAXII_OBJECTS = f"/taxii2/default/collections/{DEFAULT_COLLECTION_ID}/objects/"
TAXII = "application/taxii+json;version=2.1"
SCREENSHOTS = Path(os.environ.get("EXCHANGE_WEB_SCREENSHOTS", "")) if os.environ.get("EXCHANGE_WEB_SCREENSHOTS") \
    else None


@pytest.fixture
def settings(settings: Settings, dns_zone: Zone, mailbox: Mailbox) -> Settings:  # noqa: F811 - the fixtures above
    """The test settings with documentation names allowed, and DNS and mail going to the local servers."""
    return settings.model_copy(update={
        "assets_allow_reserved": True, "assets_dns_nameservers": ["127.0.0.1"], "assets_dns_port": dns_zone.port,
        "smtp_url": f"smtp://127.0.0.1:{mailbox.port}", "web_signin_limit": "1000/minute"})


@dataclass
class Portal:
    url: str
    settings: Settings
    sessions: sessionmaker[Session]
    make_org: MakeOrg

    def person(self, role: Role = Role.sme, user_role: UserRole = UserRole.owner) -> tuple[OrgKey, str]:
        """An organisation with its API key and one user (password ``PASSWORD``); returns the key and e-mail."""
        who = self.make_org(role)
        email = f"{uuid.uuid4().hex[:8]}@{who.org.slug}.test"
        with transaction(self.sessions) as s:
            users.create(s, s.get_one(Org, who.org.pk), email=email, role=user_role, password=PASSWORD)
        return who, email

    def publish(self, csirt: OrgKey, *objects: dict[str, Any]) -> None:
        """A CSIRT publishes over TAXII, as its tools would."""
        answer = httpx.post(self.url + TAXII_OBJECTS, content=json.dumps({"objects": list(objects)}),
                            headers={**auth(csirt.key), "Content-Type": TAXII, "Accept": TAXII}, timeout=60)
        assert answer.status_code == 202, answer.text
        assert answer.json()["success_count"] == len(objects), answer.text

    def asset(self, org_pk: int, domain: str) -> int:
        """A verified domain asset of the organisation."""
        with transaction(self.sessions) as s:
            asset = assets.create(s, s.get_one(Org, org_pk), AssetKind.domain, domain, settings=self.settings)
            assets.approve(asset, None, settings=self.settings)
            return asset.pk

    def add_unverified(self, org_pk: int, domain: str) -> int:
        with transaction(self.sessions) as s:
            return assets.create(s, s.get_one(Org, org_pk), AssetKind.domain, domain, settings=self.settings).pk

    def approve(self, org_pk: int, domain: str) -> None:
        with transaction(self.sessions) as s:
            asset = s.scalars(select(Asset).where(Asset.org_pk == org_pk, Asset.value == domain)).one()
            assets.approve(asset, None, settings=self.settings)

    def alert_ids(self, org_pk: int) -> list[int]:
        with self.sessions() as s:
            return list(s.scalars(select(Alert.pk).where(Alert.org_pk == org_pk).order_by(Alert.pk)))

    def alert_states(self, org_pk: int) -> list[str]:
        with self.sessions() as s:
            return list(s.scalars(select(Alert.state).where(Alert.org_pk == org_pk).order_by(Alert.pk)))

    def feed_run(self, org_pk: int, name: str, *, added: int, problems: str = "") -> None:
        """A feed of the organisation with one finished run (the connectors' own tests run real ones)."""
        with transaction(self.sessions) as s:
            now = now_micros()
            feed = Feed(name=name, kind="csv", url="https://feeds.test/list.txt", owner_org_pk=org_pk,
                        collection_pk=reads.get_collection(s).pk, options={}, every_seconds=3600, enabled=True,
                        bookmark={}, created_at=now, last_run_at=now)
            s.add(feed)
            s.flush()
            s.add(FeedRun(feed_pk=feed.pk, started_at=now, ended_at=now, fetched=added, added=added, duplicates=0,
                          rejected=problems.count("\n") + 1 if problems else 0, problems=problems))

    def match(self) -> None:
        """What the worker's matching job does: read what was stored since last time, write the alerts."""
        while True:
            with transaction(self.sessions) as s:
                if matching.run(s, limit=500).objects == 0:
                    return


@pytest.fixture
def portal(settings: Settings, sessions: sessionmaker[Session], make_org: MakeOrg) -> Iterator[Portal]:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    live = settings.model_copy(update={"base_url": url})  # links in mail start with it
    app = create_app(live)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    yield Portal(url, live, sessions, make_org)
    server.should_exit = True
    thread.join(timeout=30)
    sock.close()
    app.state.engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("chromium is not installed (apt-get install chromium); .ci/run installs it")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser: Browser, portal: Portal) -> Iterator[BrowserContext]:
    ctx = browser.new_context(base_url=portal.url, locale="en-GB")
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


def sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    page.goto("/signin")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("form[action='/signin'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/inbox"))


def screenshot(page: Page, name: str) -> None:
    """Written only when EXCHANGE_WEB_SCREENSHOTS names a folder (the README's pictures come from there)."""
    if SCREENSHOTS is not None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@pytest.fixture(autouse=True)
def _cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2's cheapest parameters for the people the browser tests make and sign in: the hub's own cost
    (RFC 9106's, 64 MiB and three passes: 0.14 s of CPU a hash or a check on the CI machine) was a seventh
    of these tests' CPU, spent on nothing they check. The hashes stay argon2id and every check still runs;
    tests/orgs/test_keys_and_users.py checks the hub's own cost."""
    monkeypatch.setattr(users, "_hasher", PasswordHasher.from_parameters(profiles.CHEAPEST))
