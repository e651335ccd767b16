"""What one alert message says, independent of language and channel: the contract between the
code that knows the alert (matching, delivery) and the code that words it (``wording``).

Delivery builds a ``Message`` from an alert, the object it is about (only what the recipient may
read) and the recipient's subscription; ``wording.render`` turns it into a subject, a text body and
an HTML body in one language. Nothing here reads the database, so templates are tested alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from exchange.alerts.models import AlertKind, Severity, SourceGrade


@dataclass(frozen=True, slots=True)
class Sender:
    """Who published the object, and how the reader reaches them."""

    name: str
    contact: str | None = None  # an e-mail address, phone or web page the publisher gave


@dataclass(frozen=True, slots=True)
class Message:
    kind: AlertKind
    severity: Severity
    grade: SourceGrade
    tlp: str  # "clear", "green", "amber", "amber+strict" or "red" (exchange.stix.tlp levels)
    organisation: str  # the recipient organisation's display name
    asset: str  # the asset concerned as the organisation registered it ("bakery.example", "192.0.2.0/24")
    matched: str  # the published value that concerns it ("login-bakery.example", "192.0.2.7", "CVE-2024-3400")
    published_at: datetime  # timezone-aware; rendered in ``timezone``
    sender: Sender
    read_url: str  # where the full alert can be read after signing in
    answer_urls: Mapping[str, str] = field(default_factory=dict)  # AlertState value -> one-click link
    cleared: bool = False  # the object was revoked or expired: an "all clear" about an earlier alert
    withheld: bool = False  # the asset is not verified: only "confirm it is yours", nothing of the object
    title: str | None = None  # the object's name, if it has one (never for TLP:RED in e-mail)
    description: str | None = None  # the publisher's words (never for TLP:RED in e-mail)
    steps: tuple[str, ...] = ()  # from the publisher's course-of-action; empty: the template's own
    software: str | None = None  # software alerts: "Palo Alto Networks PAN-OS 10.2.9"
    exploited: bool = False  # known to be exploited in the wild
    port: int | None = None  # exposure alerts
    service: str | None = None  # exposure alerts: "rdp", "smb", "elasticsearch"
    sector: str | None = None  # sector advisories: the NACE section letter
    timezone: str = "UTC"  # IANA name, the recipient's


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    text: str
    html: str
