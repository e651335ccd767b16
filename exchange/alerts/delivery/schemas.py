"""Pydantic models of the subscription and delivery API."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from exchange.alerts.delivery import service
from exchange.alerts.delivery.models import Category, Channel, Delivery, DeliveryStatus, Digest, Subscription
from exchange.alerts.models import Severity
from exchange.core.text import NO_NUL
from exchange.core.timestamps import from_micros
from exchange.orgs.models import Org

Address = Annotated[str, StringConstraints(min_length=3, max_length=2048, pattern=NO_NUL)]
Secret = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=NO_NUL)]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]{1,64}$")]
Zone = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=NO_NUL)]
Language = Literal["en", "fr", "de", "it", "ja"]


class SubscriptionIn(BaseModel):
    channel: Channel
    address: Address = Field(description="An e-mail address, or the https URL of a webhook")
    secret: Secret | None = Field(default=None, description="Webhooks: the Standard Webhooks signing secret, "
                                  "whsec_ followed by base64 (at least 24 bytes)")
    language: Language = "en"
    min_severity: Severity = Field(default=Severity.low, description="Alerts below this severity are not sent")
    digest: Digest = Field(default=Digest.none, description="none: each alert at once; daily or weekly: together "
                           "(e-mail only)")
    timezone: Zone = Field(default="UTC", description="IANA time zone of digest_hour")
    digest_hour: int = Field(default=8, ge=0, le=23, description="Local hour digests go out")
    categories: list[Category] = Field(default=list(Category), description="Kinds of alert to hear about")
    org: Slug | None = Field(default=None, description="Another organisation (csirt and admin only)")


class SubscriptionOut(BaseModel):
    id: int
    org: str
    channel: Channel
    address: str
    language: str
    min_severity: Severity
    digest: Digest
    timezone: str
    digest_hour: int
    categories: list[Category]
    consented: bool = Field(description="Webhooks: the endpoint accepted the abuse-protection handshake")
    disabled: str | None = Field(description="Why it no longer receives (410 Gone, a bounce); null: active")
    bounced: str | None = Field(default=None, description="E-mail: when the address was refused for good; "
                                "POST .../clear-bounce once it is fixed")
    created: str


class RotateIn(BaseModel):
    secret: Secret | None = Field(default=None, description="The new secret; omitted: the hub makes one")


class RotateOut(BaseModel):
    secret: str = Field(description="The new signing secret; the previous ones keep signing for a day")


class DeliveryOut(BaseModel):
    id: int = Field(description="Also the webhook-id and the Message-ID of what was sent")
    subscription: int
    alert: int | None = Field(description="null for a digest")
    status: DeliveryStatus
    attempts: int
    next_at: str | None = Field(description="When it is tried next (pending only)")
    sent_at: str | None
    last_error: str | None


class DeliveryPageOut(BaseModel):
    deliveries: list[DeliveryOut]
    next: str | None = Field(description="Pass as `next` for the following page")


def subscription_out(sub: Subscription, org_slug: str) -> SubscriptionOut:
    return SubscriptionOut(
        id=sub.pk, org=org_slug, channel=Channel(sub.channel), address=sub.address, language=sub.language,
        min_severity=Severity(sub.min_severity), digest=Digest(sub.digest), timezone=sub.timezone,
        digest_hour=sub.digest_hour, categories=sorted(service.categories(sub)), consented=sub.consented_at is not None,
        disabled=(sub.disabled_reason or "disabled") if sub.disabled_at is not None else None,
        created=from_micros(sub.created_at),
        bounced=from_micros(sub.bounced_at) if sub.bounced_at is not None else None)


def delivery_out(d: Delivery) -> DeliveryOut:
    return DeliveryOut(id=d.pk, subscription=d.subscription_pk, alert=d.alert_pk, status=DeliveryStatus(d.status),
                       attempts=d.attempts,
                       next_at=from_micros(d.next_at) if d.status == DeliveryStatus.pending else None,
                       sent_at=from_micros(d.sent_at) if d.sent_at is not None else None, last_error=d.last_error)


class LostAddressOut(BaseModel):
    subscription: int
    channel: Channel
    address: str
    bounced: bool = Field(description="Refused for good by a mail server (else: a webhook's 410 Gone)")
    reason: str | None
    since: str


class UnreachableOut(BaseModel):
    org: str
    name: str
    reachable: bool = Field(description="false: no working subscription is left, alerts reach nobody")
    lost: list[LostAddressOut] = Field(description="The subscriptions that no longer work")


def unreachable_out(org: Org, reachable: bool, disabled: list[Subscription]) -> UnreachableOut:
    return UnreachableOut(org=org.slug, name=org.name, reachable=reachable, lost=[
        LostAddressOut(subscription=s.pk, channel=Channel(s.channel), address=s.address,
                       bounced=s.bounced_at is not None, reason=s.disabled_reason,
                       since=from_micros(s.disabled_at or s.created_at)) for s in disabled])
