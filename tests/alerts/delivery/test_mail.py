"""Alert mail against a real SMTP server (aiosmtpd): the message, one-click unsubscribe, 5xx, a slow server, DKIM."""

from __future__ import annotations

import base64

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from exchange.alerts.delivery import dispatch
from exchange.alerts.delivery.models import Delivery, Subscription
from exchange.alerts.models import AlertKind
from exchange.core import db
from exchange.core.settings import Settings
from exchange.notify import smtp
from exchange.orgs.models import Role
from tests.alerts.delivery.conftest import SmtpServer, make_alert, plain_text, subscribe
from tests.orgs_factory import MakeOrg


def _rows(sessions: sessionmaker[Session]) -> list[Delivery]:
    with db.transaction(sessions) as s:
        return list(s.scalars(select(Delivery).order_by(Delivery.pk)))


def test_text_and_html_with_a_stable_message_id(sessions: sessionmaker[Session], settings: Settings,
                                                make_org: MakeOrg, smtp_server: SmtpServer) -> None:
    sme, csirt = make_org(Role.sme).org, make_org(Role.csirt).org
    with db.transaction(sessions) as s:
        subscribe(s, sme, settings, email="it@Bakery.Example")
        make_alert(s, sme, csirt, tlp="green", name="Fake login page")
    dispatch.run_batch(sessions, settings, "w1")
    [row] = _rows(sessions)
    [mail] = smtp_server.messages
    assert mail["To"] == "it@bakery.example"
    assert mail["Message-ID"] == f"<delivery-{row.pk}@hub.example>"
    assert mail.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in mail.iter_parts()] == ["text/plain", "text/html"]
    assert not any(p.get_filename() for p in mail.walk()), "no attachments"
    assert "Fake login page" in plain_text(mail)
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mail["List-Unsubscribe"].strip().startswith("<http://hub.example/api/v1/unsubscribe/")
    assert row.status == "sent"


def test_tlp_red_never_in_mail(sessions: sessionmaker[Session], settings: Settings, make_org: MakeOrg,
                               smtp_server: SmtpServer) -> None:
    sme, csirt = make_org(Role.sme).org, make_org(Role.csirt).org
    with db.transaction(sessions) as s:
        subscribe(s, sme, settings, email="it@bakery.example")
        make_alert(s, sme, csirt, tlp="red", name="Operation Nightbird")
    dispatch.run_batch(sessions, settings, "w1")
    [mail] = smtp_server.messages
    raw = str(mail) + "".join(str(part.get_content()) for part in mail.walk() if not part.is_multipart())
    assert "Nightbird" not in raw
    assert "Steals passwords" not in raw
    assert "http://hub.example/inbox/" in raw, "the mail says where to read it"


def test_one_click_unsubscribe_switches_the_category_off(sessions: sessionmaker[Session], settings: Settings,
                                                          make_org: MakeOrg, smtp_server: SmtpServer,
                                                          client: TestClient) -> None:
    sme, csirt = make_org(Role.sme).org, make_org(Role.csirt).org
    with db.transaction(sessions) as s:
        sub = subscribe(s, sme, settings, email="it@bakery.example")
        make_alert(s, sme, csirt, kind=AlertKind.lookalike)
    dispatch.run_batch(sessions, settings, "w1")
    link = smtp_server.messages[0]["List-Unsubscribe"].strip().strip("<>").removeprefix("http://hub.example")
    page = client.get(link)
    assert page.status_code == 200
    assert "<form method=post>" in page.text
    with db.transaction(sessions) as s:
        assert "lookalikes" in s.get_one(Subscription, sub.pk).categories, "a GET changes nothing"
    done = client.post(link, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    with db.transaction(sessions) as s:
        assert s.get_one(Subscription, sub.pk).categories == "assets,sector,software"
    assert client.post(link[:-3] + "AAA").status_code == 404, "a forged token"
    assert client.post(link.replace("lookalikes", "software")).status_code == 404, "a token names one category"


def test_a_5xx_disables_the_address(sessions: sessionmaker[Session], settings: Settings, make_org: MakeOrg,
                                    smtp_server: SmtpServer) -> None:
    smtp_server.reply = "550 5.1.1 no such mailbox"
    sme, csirt = make_org(Role.sme).org, make_org(Role.csirt).org
    with db.transaction(sessions) as s:
        sub = subscribe(s, sme, settings, email="gone@bakery.example")
        make_alert(s, sme, csirt)
    dispatch.run_batch(sessions, settings, "w1")
    [row] = _rows(sessions)
    assert row.status == "dead"
    assert "550" in (row.last_error or "")
    with db.transaction(sessions) as s:
        assert "no such mailbox" in (s.get_one(Subscription, sub.pk).disabled_reason or "")


def test_a_4xx_or_a_slow_server_is_retried(sessions: sessionmaker[Session], settings: Settings, make_org: MakeOrg,
                                           smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch) -> None:
    sme, csirt = make_org(Role.sme).org, make_org(Role.csirt).org
    with db.transaction(sessions) as s:
        subscribe(s, sme, settings, email="it@bakery.example")
        make_alert(s, sme, csirt)
    smtp_server.reply = "451 4.3.0 try later"
    dispatch.run_batch(sessions, settings, "w1")
    [row] = _rows(sessions)
    assert (row.status, row.attempts) == ("pending", 1)
    with db.transaction(sessions) as s:
        s.get_one(Delivery, row.pk).next_at = 0
    smtp_server.reply, smtp_server.delay = "250 OK", 1.0
    monkeypatch.setattr(smtp, "TIMEOUT_SECONDS", 0.2)
    dispatch.run_batch(sessions, settings, "w1")
    [row] = _rows(sessions)
    assert (row.status, row.attempts) == ("pending", 2)
    assert "timed out" in (row.last_error or "")


def test_dkim_signature_verifies(sessions: sessionmaker[Session], settings: Settings, make_org: MakeOrg,
                                 smtp_server: SmtpServer) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    sme, csirt = make_org(Role.sme).org, make_org(Role.csirt).org
    with db.transaction(sessions) as s:
        subscribe(s, sme, settings, email="it@bakery.example")
        make_alert(s, sme, csirt, tlp="green")
    dispatch.run_batch(sessions, settings.model_copy(update={"dkim_domain": "hub.example", "dkim_private_key": pem}),
                       "w1")
    raw = smtp_server.messages[0].as_bytes()
    assert b"Steals" in raw
    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)

    def dns(name: bytes, timeout: int = 5) -> bytes:
        return record if name == b"exchange._domainkey.hub.example." else b""

    assert dkim.verify(raw, dnsfunc=dns)
    assert not dkim.verify(raw.replace(b"Steals", b"Sells"), dnsfunc=dns)
