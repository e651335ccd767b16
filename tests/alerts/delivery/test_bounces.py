"""Bounces against a real SMTP server (aiosmtpd refusing chosen mailboxes at RCPT) and DSNs fed to the CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner, Result

from exchange.alerts.delivery import bounces, dispatch, outbox
from exchange.alerts.delivery.models import Delivery, Digest, Subscription
from exchange.alerts.models import AlertKind, Severity
from exchange.cli import app
from exchange.core import db
from exchange.core.settings import Settings
from exchange.notify import smtp
from exchange.orgs import users
from exchange.orgs.models import Org, Role, UserRole
from tests.alerts.delivery.conftest import free_port, make_alert, plain_text, serve_smtp, subscribe
from tests.orgs_factory import MakeOrg

runner = CliRunner()
RETURN_PATH = "bounces@hub.example"


@dataclass
class Mx:
    """A mail server that refuses the mailboxes in ``gone`` with 550 at RCPT and keeps the rest, with
    their envelope sender."""

    port: int = 0
    gone: set[str] = field(default_factory=set)
    received: list[tuple[str, str, EmailMessage]] = field(default_factory=list)  # (envelope from, to, message)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,  # noqa: N802 - aiosmtpd
                          options: list[str]) -> str:
        if address.lower() in self.gone:
            return "550 5.1.1 <" + address + ">: no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        for to in envelope.rcpt_tos:
            self.received.append((envelope.mail_from, to, message))
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for _, to, m in self.received if to == address]


@pytest.fixture
def mx() -> Iterator[Mx]:
    yield from serve_smtp(Mx())


@pytest.fixture
def settings(settings: Settings, mx: Mx, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Mail to ``mx`` with a VERP return path, for in-process calls and CLI commands alike."""
    monkeypatch.setenv("EXCHANGE_MAIL_RETURN_PATH", RETURN_PATH)
    return settings.model_copy(update={"smtp_url": f"smtp://127.0.0.1:{mx.port}", "mail_return_path": RETURN_PATH})


def _sub(sessions: sessionmaker[Session], pk: int) -> Subscription:
    with db.transaction(sessions) as s:
        return s.get_one(Subscription, pk)


def _deliveries(sessions: sessionmaker[Session], sub_pk: int) -> list[Delivery]:
    with db.transaction(sessions) as s:
        return list(s.scalars(select(Delivery).where(Delivery.subscription_pk == sub_pk).order_by(Delivery.pk)))


def _drain(sessions: sessionmaker[Session], settings: Settings) -> None:
    """Batches until nothing is due: the bounce's re-queued messages go out in the batch after it."""
    for _ in range(10):
        if not dispatch.run_batch(sessions, settings, "w1"):
            return
    raise AssertionError("deliveries still due after 10 batches")


def test_a_550_at_rcpt_bounces_and_the_other_address_gets_the_alerts(
        sessions: sessionmaker[Session], settings: Settings, make_org: MakeOrg, mx: Mx) -> None:
    mx.gone = {"gone@bakery.example"}
    sme, csirt = make_org(Role.sme).org, make_org(Role.csirt).org
    with db.transaction(sessions) as s:
        gone = subscribe(s, sme, settings, email="gone@bakery.example")
        # the owner hears only of critical alerts: without the bounce, these two would never reach them
        boss = subscribe(s, sme, settings, email="boss@bakery.example", min_severity=Severity.critical)
        first = make_alert(s, sme, csirt, name="Fake login page", tlp="green", asset="bakery.example")
        second = make_alert(s, sme, csirt, kind=AlertKind.lookalike, asset="bakery2.example")
        alerts = {first.pk, second.pk}
    _drain(sessions, settings)
    bounced = _sub(sessions, gone.pk)
    assert bounced.bounced_at is not None
    assert bounced.disabled_at is not None
    assert "550" in (bounced.disabled_reason or "")
    assert [(d.status, d.alert_pk in alerts) for d in _deliveries(sessions, gone.pk)] == [("dead", True),
                                                                                          ("cancelled", True)]
    sent = _deliveries(sessions, boss.pk)
    assert {d.alert_pk for d in sent} == alerts
    assert {d.status for d in sent} == {"sent"}
    got = mx.to("boss@bakery.example")
    assert sorted(m["Message-ID"] for m in got) == sorted(f"<delivery-{d.pk}@hub.example>" for d in sent)
    assert {f for f, to, _ in mx.received} == {f"bounces+{d.pk}@hub.example" for d in sent}, "VERP return paths"
    assert mx.to("gone@bakery.example") == []
    dispatch.run_batch(sessions, settings, "w1")
    assert len(mx.received) == 2, "nothing is sent twice"


def test_with_no_other_address_the_users_get_the_alert(sessions: sessionmaker[Session], settings: Settings,
                                                       make_org: MakeOrg, mx: Mx) -> None:
    mx.gone = {"gone@bakery.example"}
    sme, csirt, stranger = make_org(Role.sme).org, make_org(Role.csirt).org, make_org(Role.sme).org
    with db.transaction(sessions) as s:
        users.create(s, sme, email="Owner@Bakery.example", role=UserRole.owner)
        users.disable(users.create(s, sme, email="left@bakery.example", role=UserRole.member))
        users.create(s, stranger, email="stranger@other.example", role=UserRole.owner)
        gone = subscribe(s, sme, settings, email="gone@bakery.example", language="fr", digest=Digest.none)
        alert = make_alert(s, sme, csirt, name="Fake login page", tlp="green")
    _drain(sessions, settings)
    assert _sub(sessions, gone.pk).bounced_at is not None
    [mail] = mx.to("owner@bakery.example")
    assert "Fake login page" in plain_text(mail)
    with db.transaction(sessions) as s:
        made = s.scalars(select(Subscription).where(Subscription.org_pk == sme.pk, Subscription.pk != gone.pk)).all()
        assert [(m.address, m.language, m.disabled_at) for m in made] == [("owner@bakery.example", "fr", None)]
        assert [d.alert_pk for d in s.scalars(select(Delivery).where(Delivery.subscription_pk == made[0].pk))] \
            == [alert.pk]
    assert [to for _, to, _ in mx.received] == ["owner@bakery.example"], "no disabled user, no other organisation"


def _dsn(*, to: str, recipient: str, status: str = "5.1.1", action: str = "failed",
         message_id: str | None = None, returned_as: str = "text/rfc822-headers") -> bytes:
    """A delivery status notification as Postfix writes one (RFC 3464)."""
    returned = (f"--B\r\nContent-Type: {returned_as}\r\n\r\nFrom: alerts@hub.example\r\n"
                f"Message-ID: {message_id}\r\nSubject: an alert\r\n\r\nThe alert.\r\n") if message_id else ""
    return (f"From: MAILER-DAEMON@mx.bakery.example (Mail Delivery System)\r\nTo: {to}\r\n"
            "Subject: Undelivered Mail Returned to Sender\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
            'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
            "--B\r\nContent-Type: text/plain\r\n\r\nI'm sorry to have to inform you that your message could not be "
            "delivered.\r\n\r\n"
            "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.bakery.example\r\n"
            "Arrival-Date: Sun, 6 Dec 2026 02:00:00 +0000\r\n\r\n"
            f"Final-Recipient: rfc822; {recipient}\r\nOriginal-Recipient: rfc822;{recipient}\r\nAction: {action}\r\n"
            f"Status: {status}\r\nRemote-MTA: dns; mailbox.bakery.example\r\n"
            f"Diagnostic-Code: smtp; {'550' if status[0] == '5' else '452'} {status} mailbox unavailable\r\n\r\n"
            f"{returned}--B--\r\n").encode()


def _bounce(raw: bytes, *args: str) -> Result:
    return runner.invoke(app, ["delivery", "bounce", *args], input=raw)


def _sent_to(sessions: sessionmaker[Session], settings: Settings, make_org: MakeOrg, mx: Mx,
             ) -> tuple[Org, Subscription, Subscription, Delivery]:
    """An organisation with two addresses; the first took an alert the second was not to get (severity)."""
    sme, csirt = make_org(Role.sme).org, make_org(Role.csirt).org
    with db.transaction(sessions) as s:
        it = subscribe(s, sme, settings, email="it@bakery.example")
        boss = subscribe(s, sme, settings, email="boss@bakery.example", min_severity=Severity.critical)
        make_alert(s, sme, csirt, name="Fake login page", tlp="green")
    _drain(sessions, settings)
    [delivery] = _deliveries(sessions, it.pk)
    assert delivery.status == "sent"
    assert len(mx.received) == 1
    return sme, it, boss, delivery


@pytest.mark.parametrize("how", ["--to", "To header", "returned headers", "returned message"])
def test_a_dsn_fed_to_the_cli_bounces_the_address(sessions: sessionmaker[Session], settings: Settings,
                                                  make_org: MakeOrg, mx: Mx, how: str) -> None:
    _, it, boss, delivery = _sent_to(sessions, settings, make_org, mx)
    path = mx.received[0][0]
    assert path == f"bounces+{delivery.pk}@hub.example"
    if how == "--to":
        done = _bounce(_dsn(to=RETURN_PATH, recipient="it@bakery.example"), "--to", path)
    elif how == "To header":
        done = _bounce(_dsn(to=f"<{path}>", recipient="IT@bakery.example"))
    else:  # a forwarded address: only the message it returns says which delivery it is
        done = _bounce(_dsn(to="alerts@hub.example", recipient="someone@forwarded.example",
                            message_id=str(mx.received[0][2]["Message-ID"]),
                            returned_as="message/rfc822" if how == "returned message" else "text/rfc822-headers"))
    assert done.exit_code == 0, done.output
    assert "it@bakery.example bounced; 1 alerts queued to boss@bakery.example" in done.output
    sub = _sub(sessions, it.pk)
    assert sub.bounced_at is not None
    assert sub.disabled_at is not None
    assert "5.1.1" in (sub.disabled_reason or "")
    [dead] = _deliveries(sessions, it.pk)
    assert (dead.status, dead.last_error) == ("dead", sub.disabled_reason)
    _drain(sessions, settings)
    [mail] = mx.to("boss@bakery.example")
    assert "Fake login page" in plain_text(mail)
    again = _bounce(_dsn(to=RETURN_PATH, recipient="it@bakery.example"), "--to", path)
    assert again.exit_code == 0, again.output
    _drain(sessions, settings)
    assert len(mx.to("boss@bakery.example")) == 1, "a second report of the same bounce sends nothing again"


@pytest.mark.parametrize(("status", "action"), [("4.2.2", "failed"), ("4.4.1", "delayed"), ("5.0.0", "delayed")])
def test_a_temporary_failure_changes_nothing(sessions: sessionmaker[Session], settings: Settings,
                                             make_org: MakeOrg, mx: Mx, status: str, action: str) -> None:
    _, it, _, delivery = _sent_to(sessions, settings, make_org, mx)
    done = _bounce(_dsn(to=RETURN_PATH, recipient="it@bakery.example", status=status, action=action),
                   "--to", f"bounces+{delivery.pk}@hub.example")
    assert done.exit_code == 0, done.output
    assert "temporary failure, nothing to do" in done.output
    sub = _sub(sessions, it.pk)
    assert (sub.bounced_at, sub.disabled_at) == (None, None)
    assert [d.status for d in _deliveries(sessions, it.pk)] == ["sent"]
    _drain(sessions, settings)
    assert len(mx.received) == 1


def test_reports_the_hub_cannot_use_are_refused_clearly(sessions: sessionmaker[Session], settings: Settings,
                                                        make_org: MakeOrg, mx: Mx) -> None:
    _, it, _, delivery = _sent_to(sessions, settings, make_org, mx)
    unknown = _bounce(_dsn(to=RETURN_PATH, recipient="it@bakery.example"), "--to", "bounces+999999999@hub.example")
    assert unknown.exit_code == 1
    assert "no delivery 999999999" in unknown.output
    stranger = _bounce(_dsn(to=RETURN_PATH, recipient="someone@else.example"),
                       "--to", f"bounces+{delivery.pk}@hub.example")
    assert stranger.exit_code == 1
    assert "does not name it@bakery.example" in stranger.output, "a guessed delivery id is not enough"
    nameless = _bounce(_dsn(to="postmaster@hub.example", recipient="it@bakery.example"))
    assert nameless.exit_code == 1
    assert "names no message of this hub" in nameless.output
    mismatch = _bounce(_dsn(to=RETURN_PATH, recipient="it@bakery.example", message_id="<delivery-1@hub.example>"),
                       "--to", f"bounces+{delivery.pk + 1}@hub.example")
    assert mismatch.exit_code == 1
    assert "returns the message of delivery 1" in mismatch.output
    plain = _bounce(b"From: someone@example.org\r\nSubject: out of office\r\n\r\nI am away.\r\n",
                    "--to", f"bounces+{delivery.pk}@hub.example")
    assert plain.exit_code == 1
    assert "not a delivery status notification" in plain.output
    assert _sub(sessions, it.pk).bounced_at is None


def test_without_the_database_the_mta_is_told_to_try_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """Exit 75 (EX_TEMPFAIL): Postfix keeps the report and pipes it again later, nothing is lost."""
    monkeypatch.setenv("EXCHANGE_DATABASE_URL", f"postgresql+psycopg://exchange@127.0.0.1:{free_port()}/exchange")
    done = _bounce(_dsn(to=RETURN_PATH, recipient="it@bakery.example"), "--to", "bounces+1@hub.example")
    assert done.exit_code == 75, done.output
    assert "cannot use the database" in done.output


def test_a_bounced_digest_sends_the_alerts_it_carried(sessions: sessionmaker[Session], settings: Settings,
                                                      make_org: MakeOrg, mx: Mx) -> None:
    mx.gone = {"gone@bakery.example"}
    sme, csirt = make_org(Role.sme).org, make_org(Role.csirt).org
    with db.transaction(sessions) as s:
        gone = subscribe(s, sme, settings, email="gone@bakery.example", digest=Digest.daily)
        other = subscribe(s, sme, settings, email="it@bakery.example", min_severity=Severity.critical)
        first = make_alert(s, sme, csirt, asset="a.example")
        second = make_alert(s, sme, csirt, asset="b.example")
    dispatch.run_batch(sessions, settings, "w1")  # fan out: held for the digest
    with db.transaction(sessions) as s:
        held = list(s.scalars(select(Delivery).where(Delivery.subscription_pk == gone.pk)))
        digest = Delivery(subscription_pk=gone.pk, org_pk=sme.pk, digest_due=1, attempts=0, status="pending",
                          next_at=0, created_at=0)
        s.add(digest)
        s.flush()
        for row in held:
            row.digest_pk = digest.pk
    _drain(sessions, settings)
    assert _sub(sessions, gone.pk).bounced_at is not None
    assert {d.alert_pk for d in _deliveries(sessions, other.pk)} == {first.pk, second.pk}
    assert len(mx.to("it@bakery.example")) == 2


def _bounced(sessions: sessionmaker[Session], settings: Settings, org: Org, address: str) -> Subscription:
    with db.transaction(sessions) as s:
        sub = subscribe(s, org, settings, email=address)
        delivery = Delivery(subscription_pk=sub.pk, org_pk=org.pk, status="sent", attempts=1, next_at=0,
                            created_at=0)
        s.add(delivery)
        s.flush()
        bounces.bounce(s, delivery.pk, "550 no such mailbox", settings=settings)
        outbox.stop(s, sub, "550 no such mailbox")
        return sub


def test_unreachable_and_clear_bounce_over_rest(client: TestClient, sessions: sessionmaker[Session],
                                                settings: Settings, make_org: MakeOrg) -> None:
    sme, other, csirt = make_org(Role.sme), make_org(Role.sme), make_org(Role.csirt)
    lost = _bounced(sessions, settings, sme.org, "gone@bakery.example")
    with db.transaction(sessions) as s:
        subscribe(s, other.org, settings, email="it@other.example")
    theirs = _bounced(sessions, settings, other.org, "old@other.example")
    seen = client.get("/api/v1/deliveries/unreachable", headers=csirt.headers)
    assert seen.status_code == 200, seen.text
    assert [(u["org"], u["reachable"], [a["address"] for a in u["lost"]]) for u in seen.json()] == [
        (sme.org.slug, False, ["gone@bakery.example"]), (other.org.slug, True, ["old@other.example"])]
    assert seen.json()[0]["lost"][0]["bounced"] is True
    own = client.get("/api/v1/deliveries/unreachable", headers=sme.headers).json()
    assert [u["org"] for u in own] == [sme.org.slug], "an organisation sees only itself"
    assert client.get("/api/v1/deliveries/unreachable").status_code == 401
    listed = client.get("/api/v1/subscriptions", headers=sme.headers).json()
    assert listed[0]["bounced"] is not None
    assert "550" in listed[0]["disabled"]

    assert client.post(f"/api/v1/subscriptions/{theirs.pk}/clear-bounce", headers=sme.headers).status_code == 404
    assert client.post(f"/api/v1/subscriptions/{theirs.pk}/clear-bounce?org={other.org.slug}",
                       headers=sme.headers).status_code == 404, "an SME cannot act for another organisation"
    assert _sub(sessions, theirs.pk).bounced_at is not None
    cleared = client.post(f"/api/v1/subscriptions/{lost.pk}/clear-bounce", headers=sme.headers)
    assert cleared.status_code == 200, cleared.text
    assert (cleared.json()["bounced"], cleared.json()["disabled"]) == (None, None)
    assert client.post(f"/api/v1/subscriptions/{lost.pk}/clear-bounce", headers=sme.headers).status_code == 409
    by_csirt = client.post(f"/api/v1/subscriptions/{theirs.pk}/clear-bounce?org={other.org.slug}",
                           headers=csirt.headers)
    assert by_csirt.status_code == 200, by_csirt.text
    assert client.get("/api/v1/deliveries/unreachable", headers=csirt.headers).json() == []


def test_unreachable_and_clear_bounce_from_the_cli(sessions: sessionmaker[Session], settings: Settings,
                                                   make_org: MakeOrg) -> None:
    sme = make_org(Role.sme).org
    lost = _bounced(sessions, settings, sme, "gone@bakery.example")
    listed = runner.invoke(app, ["delivery", "unreachable", "--json"])
    assert listed.exit_code == 0, listed.output
    assert [(u["org"], u["reachable"]) for u in json.loads(listed.stdout)] == [(sme.slug, False)]
    table = runner.invoke(app, ["delivery", "unreachable"])
    assert table.exit_code == 0, table.output
    assert "NO" in table.output, "no working address left"
    cleared = runner.invoke(app, ["subscription", "clear-bounce", str(lost.pk)])
    assert cleared.exit_code == 0, cleared.output
    assert _sub(sessions, lost.pk).disabled_at is None
    again = runner.invoke(app, ["subscription", "clear-bounce", str(lost.pk)])
    assert again.exit_code == 1
    assert "has not bounced" in again.output
    assert runner.invoke(app, ["subscription", "clear-bounce", "999999999"]).exit_code == 1


def test_the_return_path_shows_in_a_file_mailbox(tmp_path: Any) -> None:
    with smtp.Mailer(f"file://{tmp_path}") as mailer:
        mailer.send(smtp.compose(sender="alerts@hub.example", to="a@b.example", subject="s", body="b",
                                 message_id="<delivery-7@hub.example>"), envelope_from="bounces+7@hub.example")
    [eml] = tmp_path.iterdir()
    assert eml.read_bytes().startswith(b"Return-Path: <bounces+7@hub.example>\r\n")
