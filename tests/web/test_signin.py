"""Sign-in in a real browser and over plain HTTP: password, mailed link (read from a real SMTP server),
CSRF refusal, rate limit, session fixation, open redirects, expiry and sign-out."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect
from sqlalchemy import update

from exchange.app import create_app
from exchange.core import db
from exchange.core.db import transaction
from exchange.core.settings import Settings
from exchange.orgs import users
from exchange.orgs.models import Org, Role, UserRole
from exchange.web.models import WebSession
from tests.assets.conftest import Mailbox
from tests.orgs_factory import MakeOrg
from tests.web.conftest import PASSWORD, Portal, sign_in

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def form_token(http: httpx.Client, path: str = "/signin") -> str:
    found = CSRF.search(http.get(path).text)
    assert found is not None
    return found.group(1)


def test_password_sign_in_and_sign_out(portal: Portal, page: Page) -> None:
    _, email = portal.person()
    page.goto("/inbox")
    expect(page).to_have_url(re.compile(r"/signin\?next=/inbox$"))
    page.fill("#email", email)
    page.fill("#password", "wrong password here")
    page.click("form[action='/signin'] button[type=submit]")
    expect(page.get_by_role("alert")).to_contain_text("Wrong e-mail address or password")
    sign_in(page, email)
    expect(page.get_by_role("heading", level=1)).to_have_text("Inbox")
    cookie = next(c for c in page.context.cookies() if c["name"] == "exchange_session")
    assert (cookie["httpOnly"], cookie["sameSite"], cookie["secure"]) == (True, "Lax", False)
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/signin$"))
    page.goto("/inbox")
    expect(page).to_have_url(re.compile(r"/signin\?next=/inbox$"))


def test_sign_in_by_a_mailed_link_works_once(portal: Portal, page: Page, mailbox: Mailbox) -> None:
    _, email = portal.person()
    page.goto("/signin")
    page.fill("#link-email", email)
    page.get_by_role("button", name="Send me a sign-in link").click()
    expect(page.get_by_role("status")).to_contain_text("a sign-in link is on its way")
    assert len(mailbox.messages) == 1
    assert mailbox.messages[0]["To"] == email
    link = re.search(r"http://\S+/signin/link/\S+", mailbox.text())
    assert link is not None
    page.goto(link.group(0))  # the link itself signs nobody in: a mail scanner may follow it
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/inbox$"))
    with httpx.Client(timeout=60, base_url=portal.url, headers={"Accept": "text/html"}) as http:
        assert http.get(link.group(0)).status_code == 404  # used


def test_an_unknown_address_gets_the_same_answer_and_no_mail(portal: Portal, page: Page, mailbox: Mailbox) -> None:
    page.goto("/signin")
    page.fill("#link-email", "nobody@nowhere.test")
    page.get_by_role("button", name="Send me a sign-in link").click()
    expect(page.get_by_role("status")).to_contain_text("a sign-in link is on its way")
    assert mailbox.messages == []


def test_forms_without_the_right_csrf_token_are_refused(portal: Portal) -> None:
    _, email = portal.person()
    with (httpx.Client(timeout=60, base_url=portal.url) as http,
          httpx.Client(timeout=60, base_url=portal.url) as attacker):
        token = form_token(http)
        foreign = form_token(attacker)  # a valid token, of another browser
        for bad in ("", "x", foreign):
            refused = http.post("/signin", data={"csrf": bad, "email": email, "password": PASSWORD})
            assert refused.status_code == 403
        assert http.post("/signin", data={"csrf": token, "email": email, "password": PASSWORD}).status_code == 303
        inbox_token = form_token(http, "/inbox")
        assert inbox_token != token  # signed in, forms carry the session's token
        assert http.post("/signout", data={"csrf": token}).status_code == 403  # the pre-sign-in one is dead
        assert http.get("/inbox").status_code == 200
        assert http.post("/signout", data={"csrf": inbox_token}).status_code == 303


def test_session_fixation_is_impossible(portal: Portal) -> None:
    """Ids an attacker planted in the victim's browser before sign-in (a made-up session id, a pre-session
    id the attacker also holds) are never promoted: sign-in issues a new id the attacker does not know."""
    _, victim = portal.person()
    with httpx.Client(timeout=60, base_url=portal.url) as attacker:
        attacker_token = form_token(attacker)
        planted = {"exchange_session": "made-up-by-the-attacker",
                   "exchange_presession": attacker.cookies["exchange_presession"]}
    with httpx.Client(timeout=60, base_url=portal.url, cookies=planted) as browser:
        signed = browser.post("/signin", data={"csrf": attacker_token, "email": victim, "password": PASSWORD})
        assert signed.status_code == 303
        issued = signed.cookies["exchange_session"]
        assert issued not in planted.values()
        assert victim in browser.get("/inbox").text
    with httpx.Client(timeout=60, base_url=portal.url, cookies=planted) as attacker:
        assert attacker.get("/inbox").status_code == 401  # still nobody


@pytest.mark.parametrize("target", ["//evil.test/x", "https://evil.test/", "/\\evil.test", "javascript:alert(1)"])
def test_sign_in_never_redirects_off_site(portal: Portal, target: str) -> None:
    _, email = portal.person()
    with httpx.Client(timeout=60, base_url=portal.url) as http:
        token = form_token(http, f"/signin?next={target}")
        done = http.post("/signin", data={"csrf": token, "email": email, "password": PASSWORD, "next": target})
        assert (done.status_code, done.headers["location"]) == (303, "/inbox")


def test_an_idle_session_ends(portal: Portal) -> None:
    _, email = portal.person()
    with httpx.Client(timeout=60, base_url=portal.url) as http:
        http.post("/signin", data={"csrf": form_token(http), "email": email, "password": PASSWORD})
        assert http.get("/inbox").status_code == 200
        idle = portal.settings.web_session_idle_minutes * 60_000_000
        with transaction(portal.sessions) as s:
            s.execute(update(WebSession).values(last_seen_at=WebSession.last_seen_at - idle - 1))
        gone = http.get("/inbox", headers={"Accept": "text/html"})
        assert (gone.status_code, gone.headers["location"]) == (303, "/signin?next=/inbox")


def test_api_clients_keep_json_errors_and_browsers_get_pages(portal: Portal) -> None:
    with httpx.Client(timeout=60, base_url=portal.url) as http:
        api = http.get("/api/v1/alerts/1", headers={"Accept": "text/html"})
        assert (api.status_code, api.headers["content-type"]) == (401, "application/json")
        missing = http.get("/no-such-page", headers={"Accept": "text/html,*/*", "Accept-Language": "de-CH,de;q=0.9"})
        assert missing.status_code == 404
        assert missing.headers["content-type"].startswith("text/html")
        assert "Nicht gefunden" in missing.text
        assert http.get("/no-such-page").headers["content-type"] == "application/json"


def test_cookies_are_secure_when_the_hub_is_served_over_https(settings: Settings, make_org: MakeOrg) -> None:
    who = make_org(Role.sme)
    with transaction(db.make_sessionmaker(db.make_engine(settings.database_url))) as s:
        users.create(s, s.get_one(Org, who.org.pk), email="owner@https.test", role=UserRole.owner, password=PASSWORD)
    app = create_app(settings.model_copy(update={"base_url": "https://hub.example"}))
    with TestClient(app, base_url="https://testserver") as http:  # a Secure cookie travels over https only
        first = http.get("/signin")
        assert "secure" in first.headers["set-cookie"].lower().split("; ")
        token = CSRF.search(first.text)
        assert token is not None
        signed = http.post("/signin", data={"csrf": token.group(1), "email": "owner@https.test", "password": PASSWORD},
                           follow_redirects=False)
        assert signed.status_code == 303
        flags = signed.headers["set-cookie"].lower().split("; ")
        assert {"secure", "httponly", "samesite=lax"} <= set(flags)
    app.state.engine.dispose()
