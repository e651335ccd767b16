"""One-click unsubscribe links (RFC 8058): per subscription and category, signed, valid without sign-in.

The token is ``<subscription>.<category>.<mac>``; the MAC key is derived from the hub's cursor key
(one secret every replica already shares), so no new secret needs configuring. The links never
expire: a mail read months later must still switch its category off. A GET only shows a button;
the POST (what mail clients send for ``List-Unsubscribe-Post``) switches the category off.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from sqlalchemy.orm import Session

from exchange.alerts.delivery import service
from exchange.alerts.delivery.models import Category, Subscription
from exchange.core.errors import NotFound
from exchange.store import cursor


def _mac(session: Session, sub_pk: int, category: Category) -> str:
    key = hmac.new(cursor.signing_key(session), b"exchange unsubscribe", hashlib.sha256).digest()
    digest = hmac.new(key, f"{sub_pk}.{category.value}".encode(), hashlib.sha256).digest()[:18]
    return base64.urlsafe_b64encode(digest).decode()


def token(session: Session, sub_pk: int, category: Category) -> str:
    return f"{sub_pk}.{category.value}.{_mac(session, sub_pk, category)}"


def resolve(session: Session, value: str) -> tuple[Subscription, Category]:
    """The subscription and category a token names; NotFound for anything forged, mangled or gone."""
    pk, _, rest = value.partition(".")
    name, _, mac = rest.partition(".")
    try:
        sub_pk, category = int(pk), Category(name)
    except ValueError:
        raise NotFound("this unsubscribe link is not valid") from None
    sub = session.get(Subscription, sub_pk)
    if sub is None or not hmac.compare_digest(mac, _mac(session, sub_pk, category)):
        raise NotFound("this unsubscribe link is not valid")
    return sub, category


def unsubscribe(session: Session, value: str) -> tuple[Subscription, Category]:
    sub, category = resolve(session, value)
    service.set_category(sub, category, on=False)
    return sub, category
