"""Every table of the hub, imported in one place so Alembic and tests see the whole schema."""

from exchange.alerts.delivery.models import Delivery, Subscription, WebhookSecret
from exchange.alerts.models import Alert, AlertEvent
from exchange.assets.models import Asset, OrgProfile
from exchange.core.db import Base
from exchange.jobs.lease import JobLease
from exchange.orgs.models import ApiKey, AuditEntry, Org
from exchange.store.models import (
    ApiRoot,
    Collection,
    CollectionGrant,
    HubSecret,
    Observable,
    StixObject,
    TaxiiStatus,
)

__all__ = [
    "Alert", "AlertEvent", "ApiKey", "ApiRoot", "Delivery", "Subscription", "WebhookSecret",
    "Asset", "AuditEntry", "Base", "Collection", "CollectionGrant", "HubSecret", "JobLease",
    "Observable", "Org", "OrgProfile", "StixObject", "TaxiiStatus",
]
