"""The admin pages in Chromium: a hub admin creates an organisation, a person and a key, sees the key once, revokes
it (the API then refuses it) and finds all of it in the audit log with a filter; everyone else is refused (403)
on the hub's pages, and an organisation's own owner manages its people and keys by the API's rules."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Page, expect
from sqlalchemy import select

from exchange.core.db import transaction
from exchange.orgs import users
from exchange.orgs.models import ApiKey, AuditEntry, Org, Role, User, UserRole
from tests.orgs_factory import auth
from tests.web.conftest import PASSWORD, Portal, screenshot, sign_in
from tests.web.test_signin import form_token

KEY = re.compile(r"exk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}")
HUB_PAGES = ("/admin/orgs", "/admin/groups", "/admin/collections", "/admin/feeds", "/admin/audit")


def _shown_key(page: Page) -> str:
    found = KEY.fullmatch(page.locator("#secret").inner_text().strip())
    assert found is not None
    return found.group(0)


def test_an_admin_creates_an_org_a_person_and_a_key_and_revokes_the_key(portal: Portal, page: Page) -> None:
    admin, admin_email = portal.person(Role.admin)
    sign_in(page, admin_email)
    page.get_by_role("link", name="Administration").click()
    page.fill("#org-name", "Bäckerei Sonne")
    page.select_option("#org-role", "sme")
    page.get_by_role("button", name="Add the organisation").click()
    first_key = _shown_key(page)
    assert page.request.get("/api/v1/me", headers=auth(first_key)).json()["org"]["slug"] == "backerei-sonne"

    page.get_by_role("link", name="Back to Bäckerei Sonne").click()
    page.fill("#user-email", "Anna@Sonne.test")
    page.select_option("#user-role", "owner")
    page.get_by_role("button", name="Add the person").click()
    expect(page.locator("#people + table")).to_contain_text("anna@sonne.test")

    page.fill("#key-name", "firewall")
    page.check("#scope-write")
    page.select_option("#key-lifetime", "30")
    page.select_option("#key-holder", "anna@sonne.test")
    page.get_by_role("button", name="Create the key").click()
    key = _shown_key(page)
    assert page.request.get("/api/v1/me", headers=auth(key)).json()["user"] == "anna@sonne.test"
    prefix = key.split("_")[1]

    page.goto("/admin/orgs/backerei-sonne")  # the key is never shown again
    assert key not in page.content()
    assert first_key not in page.content()
    row = page.locator("tr", has_text=prefix)
    expect(row).to_contain_text("anna@sonne.test")
    expect(row).to_contain_text("Read, Write")
    row.get_by_role("button", name=f"Revoke key {prefix}").click()
    expect(page.locator("tr", has_text=prefix)).to_contain_text("Revoked")
    assert httpx.get(f"{portal.url}/api/v1/me", headers=auth(key), timeout=60).status_code == 401

    page.get_by_role("link", name="Audit log").click()
    page.fill("#f-action", "key.revoke")
    page.get_by_role("button", name="Filter").click()
    rows = page.locator("table tbody tr")  # the audit log is append-only: earlier tests' revocations stay
    ours = rows.filter(has_text=f"backerei-sonne/{prefix}")
    expect(ours).to_have_count(1)
    expect(ours).to_contain_text(admin_email)
    expect(rows.filter(has_text="key.revoke")).to_have_count(rows.count())  # the filter left nothing else
    page.fill("#f-action", "")
    page.fill("#f-org", "backerei-sonne")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("No entries match.")).to_be_visible()  # the admin acted, not the bakery
    page.fill("#f-org", "")
    page.fill("#f-actor", admin_email)
    page.get_by_role("button", name="Filter").click()
    actions = ["key.revoke", "key.issue", "user.create", "org.create", "web.signin"]
    expect(page.locator("table tbody tr td:nth-child(3)")).to_have_text(actions)  # waits for the filtered page
    page.fill("#f-actor", "")
    page.fill("#f-org", admin.org.slug)  # the pages' and the API's actors alike
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(f"org={re.escape(admin.org.slug)}"))
    expect(page.locator("table tbody tr td:nth-child(3)")).to_have_text(actions)
    screenshot(page, "admin-audit")


def test_the_key_is_shown_once_and_not_kept_by_the_browser(portal: Portal) -> None:
    _, email = portal.person(Role.admin)
    with httpx.Client(timeout=60, base_url=portal.url) as http:
        http.post("/signin", data={"csrf": form_token(http), "email": email, "password": PASSWORD})
        answer = http.post("/admin/orgs", data={"csrf": form_token(http, "/admin/orgs"), "name": "Once Ltd",
                                                "role": "csirt"})
        assert answer.status_code == 200
        assert answer.headers["cache-control"] == "no-store"  # the hub's middleware, on every answer
        [key] = KEY.findall(answer.text)
        for path in (*HUB_PAGES, "/admin/orgs/once-ltd", "/admin/audit?org=once-ltd"):
            assert key not in http.get(path).text


def test_everyone_but_a_hub_admin_is_refused_the_hub_pages(portal: Portal, page: Page) -> None:
    sme, sme_owner = portal.person()
    csirt, operator = portal.person(Role.csirt)
    _, admin_member = portal.person(Role.admin, UserRole.member)
    # another organisation's page: a 404 to an owner (slugs cannot be probed), a 403 to a member, as on the API
    for email, other, status in ((sme_owner, csirt.org.slug, 404), (operator, sme.org.slug, 404),
                                 (admin_member, sme.org.slug, 403)):
        sign_in(page, email)
        expect(page.get_by_role("link", name="Administration")).to_have_count(0)
        for path in HUB_PAGES:
            assert page.goto(path).status == 403, (email, path)  # type: ignore[union-attr]
            expect(page.locator("h1")).to_have_text("Refused")
        assert page.goto(f"/admin/orgs/{other}").status == status  # type: ignore[union-attr]
        page.get_by_role("button", name="Sign out").click()
    with httpx.Client(timeout=60, base_url=portal.url) as http:  # a form posted anyway, with a good token
        http.post("/signin", data={"csrf": form_token(http), "email": operator, "password": PASSWORD})
        token = form_token(http, "/inbox")
        assert http.post("/admin/orgs", data={"csrf": token, "name": "Evil", "role": "admin"}).status_code == 403
        assert http.post(f"/admin/orgs/{sme.org.slug}/users", data={"csrf": token, "email": "x@evil.test",
                                                                   "role": "owner"}).status_code == 404
    with portal.sessions() as s:
        assert s.scalar(select(Org).where(Org.name == "Evil")) is None
        assert s.scalar(select(User).where(User.email == "x@evil.test")) is None


def test_every_admin_form_needs_its_token(portal: Portal) -> None:
    admin, email = portal.person(Role.admin)
    slug = admin.org.slug
    with httpx.Client(timeout=60, base_url=portal.url) as http:
        http.post("/signin", data={"csrf": form_token(http), "email": email, "password": PASSWORD})
        for path, data in (("/admin/orgs", {"name": "Forged", "role": "admin"}),
                           (f"/admin/orgs/{slug}/users", {"email": "forged@x.test", "role": "owner"}),
                           (f"/admin/orgs/{slug}/keys", {"scopes": "admin"}),
                           ("/admin/groups", {"name": "Forged"}), ("/admin/collections", {"title": "Forged"})):
            for token in ("", "0" * 64):
                answer = http.post(path, data={**data, "csrf": token}, headers={"Accept": "text/html"})
                assert answer.status_code == 403, path
                assert "text/html" in answer.headers["content-type"]
    with portal.sessions() as s:
        assert s.scalar(select(Org).where(Org.name == "Forged")) is None
        assert s.scalars(select(ApiKey).where(ApiKey.org_pk == admin.org.pk)).all() == \
            s.scalars(select(ApiKey).where(ApiKey.org_pk == admin.org.pk, ApiKey.user_pk.is_(None))).all()


def test_an_owner_manages_the_people_and_keys_of_its_own_organisation(portal: Portal, page: Page) -> None:
    sme, owner = portal.person()
    sign_in(page, owner)
    page.get_by_role("link", name="Organisation").click()
    expect(page.locator("h1")).to_have_text(sme.org.name)
    expect(page.locator("#key-holder")).to_have_count(0)  # an owner's keys are theirs (exchange.orgs.permissions)
    page.fill("#user-email", "clerk@bakery.test")
    page.fill("#user-password", "short")
    page.evaluate("document.querySelector('#user-password').removeAttribute('minlength')")
    page.get_by_role("button", name="Add the person").click()
    expect(page.locator("h1")).to_have_text("Bad request")  # users.create's own rule, as an HTML page
    page.go_back()
    page.fill("#user-email", "clerk@bakery.test")
    page.fill("#user-password", "")
    page.get_by_role("button", name="Add the person").click()
    row = page.locator("tr", has_text="clerk@bakery.test")
    row.get_by_label("New role of clerk@bakery.test").select_option("read-only")
    row.get_by_role("button", name="Change role: clerk@bakery.test").click()
    expect(page.locator("tr", has_text="clerk@bakery.test")).to_contain_text("Read only")
    page.locator("tr", has_text="clerk@bakery.test").get_by_role("button", name="Disable clerk@bakery.test").click()
    expect(page.locator("tr", has_text="clerk@bakery.test")).to_contain_text("Disabled since")

    page.check("#scope-admin")
    page.get_by_role("button", name="Create the key").click()
    key = _shown_key(page)
    with portal.sessions() as s:
        me = s.scalars(select(User).where(User.email == owner)).one()
        issued = s.scalars(select(ApiKey).where(ApiKey.prefix == key.split("_")[1])).one()
        assert (issued.user_pk, issued.scopes) == (me.pk, "read admin")
        clerk = s.scalars(select(User).where(User.email == "clerk@bakery.test")).one()
        assert (clerk.role, clerk.disabled_at is not None) == (UserRole.read_only, True)
        actions = s.scalars(select(AuditEntry.action).where(AuditEntry.actor == f"{sme.org.slug}/{owner}")
                            .order_by(AuditEntry.pk)).all()
        assert actions == ["user.create", "user.role", "user.disable", "key.issue"]
    screenshot(page, "admin-own-org")


def test_a_member_has_no_organisation_page(portal: Portal, page: Page) -> None:
    sme, member = portal.person(user_role=UserRole.member)
    sign_in(page, member)
    expect(page.get_by_role("link", name="Organisation")).to_have_count(0)
    assert page.goto(f"/admin/orgs/{sme.org.slug}").status == 403  # type: ignore[union-attr]


def test_an_owner_cannot_hand_a_key_to_someone_else(portal: Portal) -> None:
    sme, owner = portal.person()
    with transaction(portal.sessions) as s:
        users.create(s, s.get_one(Org, sme.org.pk), email="clerk@shop.test", role=UserRole.member)
    with httpx.Client(timeout=60, base_url=portal.url) as http:
        http.post("/signin", data={"csrf": form_token(http), "email": owner, "password": PASSWORD})
        token = form_token(http, f"/admin/orgs/{sme.org.slug}")
        refused = http.post(f"/admin/orgs/{sme.org.slug}/keys", data={"csrf": token, "scopes": "read",
                                                                     "holder": "clerk@shop.test"})
        assert refused.status_code == 403  # exchange.orgs.permissions.may_hand_out, as on the API
    with portal.sessions() as s:
        assert s.scalars(select(ApiKey).where(ApiKey.org_pk == sme.org.pk, ApiKey.user_pk.is_not(None))).all() == []
