"""Issue 18's "done when", end to end on the real pieces: a CSIRT POSTs an indicator over TAXII about an
SME's verified domain, with its contact and a course of action; matching makes the alert; the worker's
dispatch sends an e-mail to a real SMTP server and a signed CloudEvents webhook to a real receiver; the
SME clicks "fixed" in the mail it received; the CSIRT reads the sighting over TAXII.
"""

from __future__ import annotations

import re
from email.message import EmailMessage
from typing import Any

from fastapi.testclient import TestClient
from stix2.v21 import TLP_AMBER, TLP_GREEN

from exchange.alerts.delivery import dispatch
from exchange.assets.models import AssetKind
from exchange.orgs.models import Role
from exchange.store.reads import DEFAULT_COLLECTION_ID
from tests.alerts.conftest import World
from tests.alerts.delivery.conftest import SECRET, Receiver, SmtpServer, plain_text
from tests.factories import indicator

TAXII = "application/taxii+json;version=2.1"
OBJECTS = f"/taxii2/default/collections/{DEFAULT_COLLECTION_ID}/objects/"
CONTACT = "cert@cert.example, +33 1 23 45 67 89"
STEPS = ("Remove the login page the intruder added under /login.",
         "Change the password of the hosting account.",
         "Turn on two-step sign-in for the hosting account.")


def _envelope(csirt_identity: str, sme_identity: str) -> tuple[str, list[dict[str, Any]]]:
    """What a CSIRT posts: who it is and how to reach it, the finding (TLP:AMBER, naming the SME), and
    a course of action that mitigates it, tied by a relationship."""
    found = indicator("[domain-name:value = 'login.bakery.example']", name="Fake bank login on your site",
                      description="Your site shows a fake bank login page. It steals passwords.",
                      markings=[TLP_AMBER.id], confidence=90, x_exchange_recipients=[sme_identity])
    action = {"type": "course-of-action", "spec_version": "2.1", "id": "course-of-action--" + found["id"][11:],
              "created": found["created"], "modified": found["modified"], "name": "Clean the site",
              "description": "\n".join(f"{n}. {step}" for n, step in enumerate(STEPS, 1)),
              "object_marking_refs": [TLP_GREEN.id]}
    mitigates = {"type": "relationship", "spec_version": "2.1", "id": "relationship--" + found["id"][11:],
                 "created": found["created"], "modified": found["modified"], "relationship_type": "mitigates",
                 "source_ref": action["id"], "target_ref": found["id"], "object_marking_refs": [TLP_GREEN.id]}
    identity = {"type": "identity", "spec_version": "2.1", "id": csirt_identity, "created": found["created"],
                "modified": found["created"], "name": "CERT Example", "identity_class": "organization",
                "contact_information": CONTACT, "object_marking_refs": [TLP_GREEN.id]}
    return found["id"], [identity, found, action, mitigates]


def _deliver_all(world: World) -> None:
    """What ``exchange worker`` does every few seconds: batches until nothing is due."""
    while dispatch.run_batch(world.sessions, world.settings, "worker-1"):
        pass


def _links(text: str) -> dict[str, str]:
    """The answer links of a mail as a reader sees them: "- Label: URL" lines."""
    return {m.group(1): m.group(2) for m in re.finditer(r"^- ([^:\n]+): (http\S+/a/\S+)$", text, re.MULTILINE)}


def test_taxii_post_to_mail_and_webhook_to_fixed_to_sighting(world: World, client: TestClient,
                                                             smtp_server: SmtpServer, receiver: Receiver) -> None:
    sme, csirt = world.org(Role.sme, "Boulangerie Martin"), world.org(Role.csirt, "CERT Example")
    world.asset(sme.org, AssetKind.domain, "bakery.example")
    for body in ({"channel": "email", "address": "boss@bakery.example"},
                 {"channel": "webhook", "address": receiver.url, "secret": SECRET}):
        assert client.post("/api/v1/subscriptions", headers=sme.headers, json=body).status_code == 201

    object_id, objects = _envelope(csirt.org.identity_id, sme.org.identity_id)
    posted = client.post(OBJECTS, headers={**csirt.headers, "Accept": TAXII, "Content-Type": TAXII},
                         json={"objects": objects})
    assert posted.status_code == 202, posted.text
    assert posted.json()["success_count"] == len(objects), posted.json()
    assert world.match().created == 1
    _deliver_all(world)

    # The e-mail, read as the baker reads it.
    [mail] = smtp_server.messages
    assert isinstance(mail, EmailMessage)
    text = plain_text(mail).replace("\r\n", "\n")
    assert mail["To"] == "boss@bakery.example"
    headline = "login.bakery.example is on a list of bad addresses"
    assert mail["Subject"] == f"Important: {headline}"
    assert text.startswith(headline + "\n"), "the headline opens the mail"
    assert "Fake bank login on your site" in text
    assert "It steals passwords." in text
    numbered = re.findall(r"^(\d)\. (.+)$", text.split("What to do now", 1)[1], re.MULTILINE)
    assert numbered == [(str(n), step) for n, step in enumerate(STEPS, 1)], "the CSIRT's own steps, in order"
    assert f"CERT Example (contact: {CONTACT})" in text
    assert "TLP:AMBER" in text
    links = _links(text)
    assert set(links) == {"I have seen it", "It is fixed", "This is a false alarm", "This is not ours",
                          "I need help"}, links
    unsubscribe = str(mail["List-Unsubscribe"]).strip()
    assert re.fullmatch(r"<http://hub\.example/api/v1/unsubscribe/[^>]+>", unsubscribe), unsubscribe
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    html = mail.get_body(("html",))
    assert isinstance(html, EmailMessage)
    assert links["It is fixed"] in html.get_content()
    # "Read the full alert" opens the web inbox (sign-in first), not an API URL that needs a key.
    read = re.search(r"Read the full alert: (\S+)", text)
    assert read is not None, text
    assert re.fullmatch(r"http://hub\.example/inbox/\d+", read[1]), read[1]
    page = client.get(read[1].removeprefix("http://hub.example"), headers={"Accept": "text/html"},
                      follow_redirects=False)
    assert page.status_code == 303, page.headers
    assert page.headers["location"].startswith("/signin"), page.headers

    # The webhook, verified with the Standard Webhooks package by the receiver.
    assert receiver.wait_for(1)
    [(webhook_id, event, headers)] = receiver.received
    assert receiver.forged == 0
    assert event["specversion"] == "1.0"
    assert event["type"] == "org.exchange.alert.created.v1"
    assert event["id"] == webhook_id == headers["webhook-id"]
    assert event["data"]["object_id"] == object_id
    assert event["data"]["matched"] == "login.bakery.example"
    assert event["data"]["answer_urls"]["fixed"].startswith("http://hub.example/a/")

    # One click on "fixed" in the mail: the page asks to confirm (a scanner's GET changes nothing), the POST answers.
    path = links["It is fixed"].removeprefix("http://hub.example")
    page = client.get(path)
    assert page.status_code == 200
    assert "<form method=post>" in page.text
    assert client.get("/api/v1/alerts", headers=sme.headers).json()["alerts"][0]["state"] == "new"
    assert client.post(path).status_code == 200
    assert client.get("/api/v1/alerts", headers=sme.headers).json()["alerts"][0]["state"] == "fixed"

    # The CSIRT sees the answer over TAXII, as a sighting of its indicator.
    got = client.get(OBJECTS, params={"match[type]": "sighting"}, headers={**csirt.headers, "Accept": TAXII})
    assert got.status_code == 200, got.text
    [sighting] = got.json()["objects"]
    assert sighting["sighting_of_ref"] == object_id
    assert sighting["x_exchange_answer"] == "fixed"
    assert client.get(OBJECTS, params={"match[type]": "sighting"},
                      headers={**world.org(Role.sme).headers, "Accept": TAXII}).json().get("objects", []) == []
