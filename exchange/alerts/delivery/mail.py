"""An alert as an e-mail: text and HTML, a ``Message-ID`` fixed by the delivery, one-click unsubscribe.

The ``Message-ID`` is made from the delivery id and the sender's domain, so a message sent again
after a crash is the same message to every mail client and archive. ``List-Unsubscribe`` switches off
the category the alert belongs to (a digest: every category), with no sign-in (RFC 8058).
"""

from __future__ import annotations

from email.message import Message

from sqlalchemy.orm import Session

from exchange.alerts.delivery import unsubscribe
from exchange.alerts.delivery.models import Category, Subscription
from exchange.alerts.message import Rendered
from exchange.core.settings import Settings
from exchange.notify import smtp


def message_id(delivery_pk: int, sender: str) -> str:
    return f"<delivery-{delivery_pk}@{sender.rpartition('@')[2] or 'exchange.invalid'}>"


def compose(session: Session, delivery_pk: int, sub: Subscription, rendered: Rendered, categories: list[Category],
            *, settings: Settings) -> Message:
    base = settings.base_url.rstrip("/")
    links = ", ".join(f"<{base}/api/v1/unsubscribe/{unsubscribe.token(session, sub.pk, c)}>" for c in categories)
    return smtp.compose(sender=settings.smtp_from, to=sub.address, subject=rendered.subject, body=rendered.text,
                        html=rendered.html, message_id=message_id(delivery_pk, settings.smtp_from),
                        headers={"List-Unsubscribe": links, "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                                 "Auto-Submitted": "auto-generated"})


def dkim_signer(settings: Settings) -> smtp.Dkim | None:
    if not settings.dkim_domain or not settings.dkim_private_key:
        return None
    return smtp.Dkim(settings.dkim_domain, settings.dkim_selector, settings.dkim_private_key)
