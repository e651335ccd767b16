"""Ownership verification against real local servers: DNS TXT (dnslib), the .well-known file or <meta> tag
(HTTP), a confirmation link by mail (aiosmtpd), the RDAP abuse contact (HTTP), and approval; expiry and the
worker's re-check."""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from exchange.app import create_app
from exchange.assets import checks, verification
from exchange.assets.jobs import recheck_assets
from exchange.assets.models import Asset
from exchange.core import db
from exchange.core.settings import Settings
from exchange.jobs.scheduler import periodic_jobs
from exchange.orgs.models import AuditEntry, Role
from tests.assets.conftest import Mailbox, Site, Zone
from tests.orgs_factory import MakeOrg, auth

DAY = 86_400 * 1_000_000


@pytest.fixture
def settings(settings: Settings, dns_zone: Zone, site: Site, mailbox: Mailbox) -> Settings:
    return settings.model_copy(update={
        "assets_dns_nameservers": ["127.0.0.1"], "assets_dns_port": dns_zone.port,
        "assets_http_insecure": True,
        "assets_http_resolve": {"shop.test": f"127.0.0.1:{site.port}", "www.shop.test": f"127.0.0.1:{site.port}"},
        "assets_rdap_url": f"http://127.0.0.1:{site.port}/rdap",
        "smtp_url": f"smtp://127.0.0.1:{mailbox.port}", "base_url": "https://hub.test"})


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings)
    with TestClient(app) as c:
        yield c
    app.state.engine.dispose()


def _add(client: TestClient, key: str, kind: str, value: str) -> dict:  # type: ignore[type-arg]
    r = client.post("/api/v1/assets", json={"kind": kind, "value": value}, headers=auth(key))
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def _verify(client: TestClient, key: str, asset_id: int, **body: str) -> dict:  # type: ignore[type-arg]
    r = client.post(f"/api/v1/assets/{asset_id}/verify", json=body, headers=auth(key))
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def test_dns_txt_record_verifies_and_a_wrong_one_does_not(client, make_org, dns_zone) -> None:  # type: ignore[no-untyped-def]
    _, key = make_org(Role.sme)
    asset = _add(client, key, "domain", "Shop.TEST")
    dns_zone.txt["shop.test"] = ["v=spf1 -all", "exchange-verification=someone-elses-token"]
    first = _verify(client, key, asset["id"], method="dns")
    assert first["verified"] is False
    assert "no TXT record" in first["detail"]
    dns_zone.txt["shop.test"].append(asset["challenge"]["dns_txt"])
    second = _verify(client, key, asset["id"], method="dns")
    assert second["verified"] is True
    assert second["asset"]["verification_method"] == "dns"
    assert second["asset"]["verification_expires"] > second["asset"]["verified_at"]
    assert dns_zone.asked == ["shop.test", "shop.test"]


def test_pages_go_on_while_a_verification_waits_on_the_dns(settings: Settings, make_org: MakeOrg,
                                                            dns_zone: Zone) -> None:
    """A check waits on another host for up to its timeout, using no CPU: its request gives its turn back
    (``core.turns.leave_turn``), so a process that works on one request at once still serves the others."""
    _, key = make_org(Role.sme)
    app = create_app(settings.model_copy(update={"requests_at_once": 1}))
    with TestClient(app) as client, ThreadPoolExecutor(1) as pool:
        asset = _add(client, key, "domain", "shop.test")
        dns_zone.txt["shop.test"] = [asset["challenge"]["dns_txt"]]
        dns_zone.hold = True
        verifying = pool.submit(_verify, client, key, asset["id"], method="dns")
        assert dns_zone.holding.wait(30), "the check asked the DNS"
        listed = client.get("/api/v1/assets", headers=auth(key))
        assert listed.status_code == 200, listed.text
        assert not verifying.done()
        dns_zone.release.set()
        assert verifying.result(timeout=30)["verified"] is True
    app.state.engine.dispose()


def test_a_name_missing_from_the_dns_is_a_clear_answer(client, make_org, dns_zone) -> None:  # type: ignore[no-untyped-def]
    _, key = make_org(Role.sme)
    asset = _add(client, key, "mail-domain", "mail.shop.test")
    outcome = _verify(client, key, asset["id"], method="dns")
    assert outcome["verified"] is False
    assert "mail.shop.test" in outcome["detail"]


@pytest.mark.parametrize("page", [
    "exchange-verification={token}\n",
    '<html><head><meta name="exchange-verification" content="{token}"></head></html>',
])
def test_well_known_file_or_meta_tag_verifies(client, make_org, site, page) -> None:  # type: ignore[no-untyped-def]
    _, key = make_org(Role.sme)
    asset = _add(client, key, "url", "https://www.shop.test/login")
    site.put("www.shop.test", checks.WELL_KNOWN, page.format(token=asset["challenge"]["token"]).encode())
    outcome = _verify(client, key, asset["id"], method="http")
    assert outcome["verified"] is True, outcome["detail"]
    assert site.hits == [("www.shop.test", checks.WELL_KNOWN)]


def test_a_page_without_the_token_or_a_redirect_does_not_verify(client, make_org, site) -> None:  # type: ignore[no-untyped-def]
    _, key = make_org(Role.sme)
    asset = _add(client, key, "domain", "shop.test")
    site.put("shop.test", checks.WELL_KNOWN, b"exchange-verification=not-the-token")
    assert _verify(client, key, asset["id"], method="http")["verified"] is False
    site.put("shop.test", checks.WELL_KNOWN, b"http://elsewhere.test/token", status=302)
    outcome = _verify(client, key, asset["id"], method="http")
    assert outcome["verified"] is False
    assert "302" in outcome["detail"]


def test_production_fetch_refuses_loopback_and_private_addresses(settings, site) -> None:  # type: ignore[no-untyped-def]
    strict = settings.model_copy(update={"assets_http_insecure": False})
    found = checks.web_file("shop.test", "token", strict)  # resolves (by the map) to 127.0.0.1
    assert found.ok is False
    assert "no public address" in found.detail
    assert site.hits == []  # nothing was fetched
    private = strict.model_copy(update={"assets_http_resolve": {"shop.test": "10.0.0.8:443"}})
    assert "no public address" in checks.web_file("shop.test", "token", private).detail


def test_mailed_link_confirms_once_and_only_through_the_button(client, make_org, mailbox, sessions) -> None:  # type: ignore[no-untyped-def]
    _, key = make_org(Role.sme)
    asset = _add(client, key, "domain", "shop.test")
    sent = _verify(client, key, asset["id"], method="email", mailbox="postmaster")
    assert sent["verified"] is False
    assert sent["sent_to"] == "postmaster@shop.test"
    [message] = mailbox.messages
    assert message["To"] == "postmaster@shop.test"
    link = re.search(r"https://hub\.test(/api/v1/assets/confirm/\S+)", mailbox.text())
    assert link is not None
    path = link.group(1)
    page = client.get(path)  # what a mail scanner following the link does: nothing changes
    assert page.status_code == 200
    assert "<form method=post>" in page.text
    assert client.get(f"/api/v1/assets/{asset['id']}", headers=auth(key)).json()["verified"] is False
    assert client.post(path).status_code == 200
    after = client.get(f"/api/v1/assets/{asset['id']}", headers=auth(key)).json()
    assert after["verified"] is True
    assert after["verification_method"] == "email"
    assert client.post(path).status_code == 404  # single use
    with sessions() as s:
        assert s.scalar(select(AuditEntry.actor).where(AuditEntry.action == "asset.confirm")) == \
            "link:postmaster@shop.test"


def test_one_link_per_asset_per_ten_minutes(client, make_org, mailbox) -> None:  # type: ignore[no-untyped-def]
    _, key = make_org(Role.sme)
    asset = _add(client, key, "domain", "shop.test")
    _verify(client, key, asset["id"], method="email")
    again = client.post(f"/api/v1/assets/{asset['id']}/verify", json={"method": "email"}, headers=auth(key))
    assert again.status_code == 429
    assert int(again.headers["Retry-After"]) <= 600
    assert len(mailbox.messages) == 1


def test_an_expired_link_is_refused(client, make_org, mailbox, sessions) -> None:  # type: ignore[no-untyped-def]
    _, key = make_org(Role.sme)
    asset = _add(client, key, "domain", "shop.test")
    _verify(client, key, asset["id"], method="email")
    path = re.search(r"https://hub\.test(\S+)", mailbox.text()).group(1)  # type: ignore[union-attr]
    with db.transaction(sessions) as s:
        s.execute(update(Asset).where(Asset.pk == asset["id"]).values(link_expires_at=1))
    assert client.post(path).status_code == 404
    assert client.get(path).status_code == 404


def test_mail_only_to_role_addresses(client, make_org) -> None:  # type: ignore[no-untyped-def]
    _, key = make_org(Role.sme)
    asset = _add(client, key, "domain", "shop.test")
    r = client.post(f"/api/v1/assets/{asset['id']}/verify", json={"method": "email", "mailbox": "ceo"},
                    headers=auth(key))
    assert r.status_code == 422


RDAP = {"objectClassName": "ip network", "handle": "NET-198-51-100-0",
        "entities": [{"objectClassName": "entity", "roles": ["registrant"],
                      "vcardArray": ["vcard", [["version", {}, "text", "4.0"],
                                               ["email", {}, "text", "noc@owner.test"]]],
                      "entities": [{"objectClassName": "entity", "roles": ["abuse"],
                                    "vcardArray": ["vcard", [["version", {}, "text", "4.0"],
                                                             ["fn", {}, "text", "Abuse desk"],
                                                             ["email", {}, "text", "abuse@owner.test"]]]}]}]}


def test_a_range_is_confirmed_by_its_rdap_abuse_contact(client, make_org, site, mailbox) -> None:  # type: ignore[no-untyped-def]
    _, key = make_org(Role.sme)
    asset = _add(client, key, "cidr", "198.51.100.0/24")
    site.put("127.0.0.1", "/rdap/ip/198.51.100.0/24", RDAP)
    sent = _verify(client, key, asset["id"], method="rdap")
    assert sent["sent_to"] == "abuse@owner.test"
    path = re.search(r"https://hub\.test(\S+)", mailbox.text()).group(1)  # type: ignore[union-attr]
    assert client.post(path).status_code == 200
    after = client.get(f"/api/v1/assets/{asset['id']}", headers=auth(key)).json()
    assert after["verified"] is True
    assert after["verification_method"] == "rdap"


def test_an_as_without_an_abuse_contact_is_not_mailed(client, make_org, site, mailbox) -> None:  # type: ignore[no-untyped-def]
    _, key = make_org(Role.sme)
    asset = _add(client, key, "asn", "AS64500")
    site.put("127.0.0.1", "/rdap/autnum/64500", {"objectClassName": "autnum", "entities": []})
    outcome = _verify(client, key, asset["id"], method="rdap")
    assert outcome["verified"] is False
    assert "no abuse" in outcome["detail"]
    assert mailbox.messages == []
    wrong = client.post(f"/api/v1/assets/{asset['id']}/verify", json={"method": "dns"}, headers=auth(key))
    assert wrong.status_code == 400
    assert "rdap" in wrong.json()["description"]


def test_only_a_csirt_or_admin_approves(client, make_org, sessions) -> None:  # type: ignore[no-untyped-def]
    sme, sme_key = make_org(Role.sme)
    csirt, csirt_key = make_org(Role.csirt)
    asset = _add(client, sme_key, "cidr", "203.0.113.0/24")
    refused = client.post(f"/api/v1/assets/{asset['id']}/verify", json={"method": "approval"}, headers=auth(sme_key))
    assert refused.status_code == 403
    approved = _verify(client, csirt_key, asset["id"], method="approval")
    assert approved["verified"] is True
    assert approved["asset"]["verified_by"] == csirt.slug
    with sessions() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "asset.verify")
                          .order_by(AuditEntry.pk.desc())).first()
        assert entry is not None
        assert entry.actor == csirt.slug
        assert "approval" in entry.detail


def test_verification_expires_and_the_job_renews_what_it_can(settings, client, make_org, dns_zone, sessions) -> None:  # type: ignore[no-untyped-def]
    _, key = make_org(Role.sme)
    _, csirt_key = make_org(Role.csirt)
    by_dns = _add(client, key, "domain", "shop.test")
    by_approval = _add(client, key, "cidr", "192.0.2.0/24")
    dns_zone.txt["shop.test"] = [by_dns["challenge"]["dns_txt"]]
    assert _verify(client, key, by_dns["id"], method="dns")["verified"]
    assert _verify(client, csirt_key, by_approval["id"], method="approval")["verified"]
    with db.transaction(sessions) as s:  # a year later: both expired, last checked long ago
        s.execute(update(Asset).where(Asset.pk.in_([by_dns["id"], by_approval["id"]]))
                  .values(verification_expires_at=1, checked_at=1))
    listed = {a["id"]: a["verified"] for a in client.get("/api/v1/assets", headers=auth(key)).json()["assets"]}
    assert listed == {by_dns["id"]: False, by_approval["id"]: False}
    with db.transaction(sessions) as s:
        assert {a.pk for a in verification.due(s)} == {by_dns["id"], by_approval["id"]}
        recheck_assets(settings)(s)
    listed = {a["id"]: a["verified"] for a in client.get("/api/v1/assets", headers=auth(key)).json()["assets"]}
    assert listed == {by_dns["id"]: True, by_approval["id"]: False}  # an approval lapses until re-approved
    with db.transaction(sessions) as s:
        assert verification.due(s) == []  # the lapsed approval was tried today; the DNS one is renewed


def test_the_worker_schedules_the_recheck(settings) -> None:  # type: ignore[no-untyped-def]
    jobs = {p.name: p.seconds for p in periodic_jobs(settings)}
    assert jobs["recheck_asset_verifications"] == settings.assets_recheck_seconds
