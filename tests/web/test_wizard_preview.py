"""The settings preview shows what delivery really sends: before any alert a sample, afterwards the newest alert,
and then the e-mail on the page is the one aiosmtpd received (same subject, same text, in the subscription's
language, not the page's) and the webhook payload is the one the receiver verified (same CloudEvents type and
data, same signature headers)."""

from __future__ import annotations

import json

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from exchange.alerts.delivery import dispatch
from exchange.alerts.delivery import service as subscriptions
from exchange.alerts.delivery.models import Channel
from exchange.core.db import transaction
from exchange.orgs.models import Org, Role
from tests.alerts.delivery.conftest import SECRET, Receiver, receiver  # noqa: F401 - fixture reused here
from tests.assets.conftest import Mailbox
from tests.factories import indicator
from tests.web.conftest import Portal, sign_in
from tests.web.test_accessibility import NARROW, WCAG_AA


def test_the_preview_is_what_delivery_sends(portal: Portal, page: Page, mailbox: Mailbox,
                                            receiver: Receiver) -> None:  # noqa: F811 - the fixture above
    sme, email = portal.person()
    csirt, _ = portal.person(Role.csirt)
    portal.asset(sme.org.pk, "bakery.test")
    settings = portal.settings.model_copy(update={"webhook_allowed_hosts": ["127.0.0.1"]})
    with transaction(portal.sessions) as s:
        org = s.get_one(Org, sme.org.pk)
        mail = subscriptions.create(s, org, channel=Channel.email, address="owner@bakery.test", language="fr",
                                    settings=settings).pk
        hook = subscriptions.create(s, org, channel=Channel.webhook, address=receiver.url, secret=SECRET,
                                    settings=settings).pk
    sign_in(page, email)
    page.goto("/settings")
    page.get_by_role("link", name="Preview what owner@bakery.test receives").click()
    expect(page.get_by_text("A sample alert")).to_be_visible()
    expect(page.locator("div.message")).to_contain_text("login-bakery.test")  # about the SME's own domain
    assert page.locator("div.message").get_attribute("lang") == "fr"

    portal.publish(csirt, indicator("[domain-name:value = 'login.bakery.test']", name="Phishing page"))
    portal.match()
    while dispatch.run_batch(portal.sessions, settings, "test-worker"):
        pass
    assert receiver.wait_for(1)
    [sent] = mailbox.messages

    page.goto(f"/settings/subscriptions/{mail}/preview")
    expect(page.get_by_text("Your latest alert")).to_be_visible()
    assert page.locator("p.message").inner_text() == sent["Subject"]
    words = page.locator("div.message").inner_text().split()  # the mail's lines end in CRLF: compare the words
    plain = sent.get_body(("plain",))
    assert plain is not None
    assert words == str(plain.get_content()).split()
    html = sent.get_body(("html",))
    assert html is not None
    framed = page.request.get(f"/settings/subscriptions/{mail}/preview/mail.html")
    assert framed.text().splitlines() == str(html.get_content()).splitlines()  # as sent (mail lines end in CRLF)
    assert "sandbox" in framed.headers["content-security-policy"]
    expect(page.frame_locator("iframe.mail-preview").locator("body")).to_contain_text("login.bakery.test")
    assert page.request.get(f"/settings/subscriptions/{hook}/preview/mail.html").status == 404

    page.goto(f"/settings/subscriptions/{hook}/preview")
    [(_, delivered, headers)] = receiver.received
    shown = json.loads(page.locator("pre.copy").nth(1).inner_text())
    assert (shown["type"], shown["data"]) == (delivered["type"], delivered["data"])
    names = {line.split(":")[0] for line in page.locator("pre.copy").first.inner_text().splitlines() if line}
    assert {"webhook-id", "webhook-timestamp", "webhook-signature"} <= names <= {n.lower() for n in headers} | {
        "Content-Type"}

    found = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_AA}}).response["violations"]
    assert [(v["id"], v["impact"]) for v in found] == []
    page.set_viewport_size(NARROW)
    for sub in (mail, hook):
        page.goto(f"/settings/subscriptions/{sub}/preview")
        assert page.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]


def test_another_organisations_subscription_has_no_preview(portal: Portal, page: Page) -> None:
    other, _ = portal.person()
    _, email = portal.person()
    with transaction(portal.sessions) as s:
        sub = subscriptions.create(s, s.get_one(Org, other.org.pk), channel=Channel.email,
                                   address="someone@other.test", settings=portal.settings).pk
    sign_in(page, email)
    answer = page.goto(f"/settings/subscriptions/{sub}/preview")
    assert answer is not None
    assert answer.status == 404
    assert "someone@other.test" not in page.content()
