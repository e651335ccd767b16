"""What one message about one alert may say to one subscriber, read through the one read rule.

The object is read with ``sharing.access.readable`` as the recipient organisation, so a message
never says more than that organisation may read; its name and description stay out of e-mail
when it is TLP:RED (the mail says there is something to read and where).
"""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from exchange.alerts.delivery.models import Channel, Subscription
from exchange.alerts.message import Message, Rendered, Sender
from exchange.alerts.models import Alert, AlertEventType, AlertKind, Severity, SourceGrade
from exchange.assets.models import Asset
from exchange.orgs.models import Org
from exchange.sharing import access
from exchange.stix.tlp import Tlp
from exchange.store.models import StixObject


def message(session: Session, alert: Alert, org: Org, sub: Subscription, *, base_url: str,
            event: AlertEventType = AlertEventType.created) -> Message:
    obj = session.scalars(access.readable(org).where(StixObject.stix_id == alert.object_id)
                          .order_by(StixObject.is_latest.desc(), StixObject.modified.desc()).limit(1)).first()
    raw = json.loads(obj.raw) if obj is not None else {}
    tlp = obj.tlp if obj is not None else Tlp.red.value  # unreadable: say nothing, as for RED
    hidden = obj is None or (tlp == Tlp.red.value and sub.channel == Channel.email)
    publisher = session.get(Org, obj.publisher_org_pk) if obj is not None and obj.publisher_org_pk else None
    asset = session.get(Asset, alert.asset_pk) if alert.asset_pk is not None else None
    return Message(
        kind=AlertKind(alert.kind), severity=Severity(alert.severity), grade=SourceGrade(alert.grade), tlp=tlp,
        organisation=org.name, asset=asset.value if asset is not None else alert.match_key, matched=alert.matched,
        published_at=datetime.fromtimestamp(alert.object_modified / 1_000_000, tz=UTC),
        sender=Sender(name=publisher.name if publisher is not None else "the hub"),
        read_url=f"{base_url.rstrip('/')}/api/v1/alerts/{alert.pk}", cleared=event is AlertEventType.cleared,
        title=None if hidden else _text(raw.get("name")), description=None if hidden else _text(raw.get("description")),
        timezone=sub.timezone)


def _text(value: object) -> str | None:
    return value[:2000] if isinstance(value, str) and value else None


def render(message: Message, language: str) -> Rendered:
    """English stand-in for ``exchange.alerts.wording.render`` (issue 18 item 2), which replaces it on merge."""
    what = "All clear" if message.cleared else f"{message.severity.value.capitalize()} alert"
    subject = f"{what} for {message.asset}: {message.matched}"
    lines = [subject, "", f"Sent by {message.sender.name} to {message.organisation}.",
             f"TLP:{message.tlp.upper()}.", *(x for x in (message.title, message.description) if x),
             f"Read it all: {message.read_url}", *(f"{k}: {v}" for k, v in message.answer_urls.items())]
    text = "\n".join(lines) + "\n"
    return Rendered(subject=subject, text=text,
                    html="".join(f"<p>{html.escape(line)}</p>" for line in lines if line))
