"""Scoped, expiring, revocable API keys; users whose role caps their keys; managing them over REST."""

from __future__ import annotations

import base64
import secrets
from typing import Any, Literal

import pytest
from argon2 import PasswordHasher, profiles
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from exchange.core import db
from exchange.orgs import users
from exchange.orgs.models import ApiKey, Role, UserRole
from exchange.web import sessions as web_sessions
from tests.factories import bundle, indicator
from tests.orgs_factory import MakeOrg, auth


def issue(client: TestClient, admin_key: str, slug: str, **body: object) -> dict[str, Any]:
    r = client.post(f"/api/v1/orgs/{slug}/keys", json=body, headers=auth(admin_key))
    assert r.status_code == 201, r.text
    issued: dict[str, Any] = r.json()
    return issued


def test_scopes_decide_reads_writes_and_management(client: TestClient, make_org: MakeOrg) -> None:
    org, full = make_org(Role.csirt)
    read = issue(client, full, org.slug, scopes=["read"])["api_key"]
    write = issue(client, full, org.slug, scopes=["write"])["api_key"]
    assert client.get("/api/v1/objects", headers=auth(read)).status_code == 200
    refused = client.post("/api/v1/objects", json=bundle(indicator()), headers=auth(read))
    assert refused.status_code == 403
    assert "'write' scope" in refused.json()["description"]
    assert client.post("/api/v1/objects", json=bundle(indicator()), headers=auth(write)).status_code == 200
    assert client.get("/api/v1/objects", headers=auth(write)).status_code == 403
    for key in (read, write):
        assert client.get(f"/api/v1/orgs/{org.slug}/keys", headers=auth(key)).status_code == 403
    assert client.get("/api/v1/me", headers=auth(write)).json()["scopes"] == ["write"]


def test_a_key_never_carries_more_than_the_key_issuing_it(client: TestClient, make_org: MakeOrg) -> None:
    org, full = make_org(Role.isac)
    limited = issue(client, full, org.slug, scopes=["read", "admin"])["api_key"]
    r = client.post(f"/api/v1/orgs/{org.slug}/keys", json={"scopes": ["write"]}, headers=auth(limited))
    assert r.status_code == 403


def test_organisations_manage_only_themselves_and_hub_admins_everyone(client: TestClient, make_org: MakeOrg) -> None:
    org, key = make_org(Role.csirt)
    other, _ = make_org(Role.sme)
    _, admin = make_org(Role.admin)
    assert client.get(f"/api/v1/orgs/{other.slug}/keys", headers=auth(key)).status_code == 404
    assert client.post(f"/api/v1/orgs/{other.slug}/keys", json={}, headers=auth(key)).status_code == 404
    assert client.get("/api/v1/orgs", headers=auth(key)).status_code == 403
    assert client.get(f"/api/v1/orgs/{other.slug}/keys", headers=auth(admin)).status_code == 200
    created = client.post("/api/v1/orgs", json={"name": "CERT New", "role": "csirt"}, headers=auth(admin))
    assert created.status_code == 201
    new_key = created.json()["key"]["api_key"]
    assert client.get("/api/v1/me", headers=auth(new_key)).json()["org"]["slug"] == "cert-new"


@pytest.fixture
def underscored_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Key secrets that hold ``_`` and ``-`` (as ``token_urlsafe`` gives in about half the keys): the
    secret ends in ``_a``, so splitting a key at its last ``_`` finds the secret ``a``."""
    real = secrets.token_urlsafe
    monkeypatch.setattr(secrets, "token_urlsafe", lambda n: f"_-{real(n)[4:]}_a")


def test_listed_keys_show_metadata_never_secrets(client: TestClient, make_org: MakeOrg,
                                                 underscored_secrets: None) -> None:
    org, key = make_org(Role.csirt)
    issued = issue(client, key, org.slug, scopes=["read"], expires_in_days=30, name="OpenCTI")
    client.get("/api/v1/objects", headers=auth(str(issued["api_key"])))
    listed = client.get(f"/api/v1/orgs/{org.slug}/keys", headers=auth(key))
    assert str(issued["api_key"]) not in listed.text
    head = f"exk_{issued['prefix']}_"  # the key format: the prefix is hex, the secret may hold "_"
    assert str(issued["api_key"]).startswith(head)
    secret_part = str(issued["api_key"]).removeprefix(head)
    assert len(secret_part) == 43
    assert secret_part not in listed.text
    row = next(k for k in listed.json() if k["prefix"] == issued["prefix"])
    assert (row["name"], row["scopes"], row["revoked"]) == ("OpenCTI", ["read"], None)
    assert None not in (row["expires"], row["last_used"])


def test_a_key_whose_secret_holds_underscores_authenticates(client: TestClient, make_org: MakeOrg,
                                                             underscored_secrets: None) -> None:
    """The hub finds a key by the text between the first two ``_``: a secret with ``_`` in it (here a
    leading one, so the key holds ``__``) must still be one key, over Bearer and HTTP Basic."""
    org, key = make_org(Role.csirt)
    issued = str(issue(client, key, org.slug, scopes=["read"])["api_key"])
    assert "__-" in issued
    basic = {"Authorization": "Basic " + base64.b64encode(f"{org.slug}:{issued}".encode()).decode()}
    for headers in (auth(issued), basic):
        assert client.get("/api/v1/me", headers=headers).json()["org"]["slug"] == org.slug
        assert client.get("/taxii2/", headers={**headers, "Accept": "application/taxii+json;version=2.1"}
                          ).status_code == 200
    assert client.get("/api/v1/me", headers=auth(issued.removesuffix("_a"))).status_code == 401


def test_revoked_rotated_and_expired_keys_stop_working(client: TestClient, make_org: MakeOrg,
                                                       sessions: sessionmaker[Session]) -> None:
    org, key = make_org(Role.csirt)
    doomed = issue(client, key, org.slug, scopes=["read"])
    assert client.delete(f"/api/v1/orgs/{org.slug}/keys/{doomed['prefix']}", headers=auth(key)).status_code == 204
    assert client.get("/api/v1/objects", headers=auth(str(doomed["api_key"]))).status_code == 401

    old = issue(client, key, org.slug, scopes=["read"], expires_in_days=7)
    rotated = client.post(f"/api/v1/orgs/{org.slug}/keys/{old['prefix']}/rotate", headers=auth(key))
    assert rotated.status_code == 201
    assert rotated.json()["scopes"] == ["read"]
    assert client.get("/api/v1/objects", headers=auth(str(old["api_key"]))).status_code == 401
    assert client.get("/api/v1/objects", headers=auth(rotated.json()["api_key"])).status_code == 200

    expiring = issue(client, key, org.slug, scopes=["read"], expires_in_days=1)
    assert client.get("/api/v1/objects", headers=auth(str(expiring["api_key"]))).status_code == 200
    with db.transaction(sessions) as s:  # a day passes
        s.execute(update(ApiKey).where(ApiKey.prefix == expiring["prefix"]).values(expires_at=1))
    r = client.get("/api/v1/objects", headers=auth(str(expiring["api_key"])))
    assert r.status_code == 401
    assert "expired" in r.json()["description"]


def test_a_users_role_caps_their_keys_and_disabling_stops_them(client: TestClient, make_org: MakeOrg) -> None:
    org, key = make_org(Role.csirt)
    r = client.post(f"/api/v1/orgs/{org.slug}/users", json={"email": "Ana@CERT.example", "role": "member",
                                                            "password": "correct horse battery"}, headers=auth(key))
    assert r.status_code == 201
    assert r.json()["email"] == "ana@cert.example"
    too_much = client.post(f"/api/v1/orgs/{org.slug}/keys", json={"scopes": ["admin"], "user": "ana@cert.example"},
                           headers=auth(key))
    assert too_much.status_code == 403
    ana = issue(client, key, org.slug, scopes=["read", "write"], user="ana@cert.example")["api_key"]
    assert client.get("/api/v1/me", headers=auth(str(ana))).json()["user"] == "ana@cert.example"
    assert client.post("/api/v1/objects", json=bundle(indicator()), headers=auth(str(ana))).status_code == 200

    demoted = client.patch(f"/api/v1/orgs/{org.slug}/users/ana@cert.example", json={"role": "read-only"},
                           headers=auth(key))
    assert demoted.status_code == 200
    assert client.post("/api/v1/objects", json=bundle(indicator()), headers=auth(str(ana))).status_code == 403
    assert client.get("/api/v1/objects", headers=auth(str(ana))).status_code == 200

    client.patch(f"/api/v1/orgs/{org.slug}/users/ana@cert.example", json={"disabled": True}, headers=auth(key))
    assert client.get("/api/v1/objects", headers=auth(str(ana))).status_code == 401


def test_passwords_are_argon2_hashes_that_verify(session: Session, make_org: MakeOrg) -> None:
    org, _ = make_org(Role.sme)
    user = users.create(session, session.merge(org), email="b@sme.example", role=UserRole.owner,
                        password="a long enough password")
    assert user.password_hash is not None
    assert user.password_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$")  # RFC 9106's second choice
    assert "a long enough password" not in user.password_hash
    assert users.verify_password(user, "a long enough password")
    assert not users.verify_password(user, "a long enough passwore")
    users.disable(user)
    assert not users.verify_password(user, "a long enough password")


class _CountingHasher(PasswordHasher):
    """argon2 as the hub runs it, counting the checks it makes."""

    checks = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:  # noqa: A002 - argon2's own name
        type(self).checks += 1
        return super().verify(hash, password)


def test_a_wrong_password_costs_one_argon2_check_whoever_it_is_for(
        session: Session, make_org: MakeOrg, monkeypatch: pytest.MonkeyPatch) -> None:
    """The sign-in form's answer is the same for every mismatch; its time must be too, or it tells who has an
    account: an unknown address, a disabled person and one without a password each cost one check, as a known
    person's wrong password does."""
    monkeypatch.setattr(users, "_hasher", _CountingHasher.from_parameters(profiles.CHEAPEST))
    org, _ = make_org(Role.sme)
    sme = session.merge(org)
    users.create(session, sme, email="known@sme.example", role=UserRole.owner, password="a long enough password")
    users.create(session, sme, email="invited@sme.example", role=UserRole.member)
    users.disable(users.create(session, sme, email="gone@sme.example", role=UserRole.member,
                               password="a long enough password"))
    for email in ("nobody@sme.example", "known@sme.example", "invited@sme.example", "gone@sme.example"):
        before = _CountingHasher.checks
        assert web_sessions.by_password(session, email, "a long enough password!") is None
        assert _CountingHasher.checks == before + 1, email
    assert web_sessions.by_password(session, "known@sme.example", "a long enough password") is not None


def test_rotation_never_widens_a_key_nor_revives_one(client: TestClient, make_org: MakeOrg) -> None:
    org, full = make_org(Role.csirt)
    admin_only = issue(client, full, org.slug, scopes=["admin"])["api_key"]
    full_prefix = full.split("_")[1]
    widened = client.post(f"/api/v1/orgs/{org.slug}/keys/{full_prefix}/rotate", headers=auth(str(admin_only)))
    assert widened.status_code == 403
    revoked = issue(client, full, org.slug, scopes=["read"])
    client.delete(f"/api/v1/orgs/{org.slug}/keys/{revoked['prefix']}", headers=auth(full))
    revived = client.post(f"/api/v1/orgs/{org.slug}/keys/{revoked['prefix']}/rotate", headers=auth(full))
    assert revived.status_code == 409


def test_keys_a_person_issues_stay_theirs(client: TestClient, make_org: MakeOrg) -> None:
    org, key = make_org(Role.csirt)
    client.post(f"/api/v1/orgs/{org.slug}/users", json={"email": "boss@cert.example", "role": "owner"},
                headers=auth(key))
    client.post(f"/api/v1/orgs/{org.slug}/users", json={"email": "ana@cert.example", "role": "member"},
                headers=auth(key))
    boss = issue(client, key, org.slug, scopes=["read", "write", "admin"], user="boss@cert.example")["api_key"]
    spare = issue(client, str(boss), org.slug, scopes=["read", "write"])
    listed = client.get(f"/api/v1/orgs/{org.slug}/keys", headers=auth(key)).json()
    assert [k["user"] for k in listed if k["prefix"] == spare["prefix"]] == ["boss@cert.example"]
    for_ana = client.post(f"/api/v1/orgs/{org.slug}/keys", json={"scopes": ["read"], "user": "ana@cert.example"},
                          headers=auth(str(boss)))
    assert for_ana.status_code == 403
    client.patch(f"/api/v1/orgs/{org.slug}/users/boss@cert.example", json={"disabled": True}, headers=auth(key))
    assert client.get("/api/v1/objects", headers=auth(str(spare["api_key"]))).status_code == 401
