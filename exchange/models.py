"""Every table of the hub, imported in one place so Alembic and tests see the whole schema."""

from exchange.alerts.delivery.models import Delivery, Subscription, WebhookSecret
from exchange.alerts.models import Alert, AlertEvent, MatchCursor, Suppression
from exchange.assets.models import Asset, OrgProfile
from exchange.core.db import Base
from exchange.feeds.models import Feed, FeedItem, FeedRun
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
from exchange.web.models import WebPreference, WebSession, WebSigninLink

__all__ = [
    "Alert", "AlertEvent", "ApiKey", "ApiRoot", "Asset", "AuditEntry", "Base", "Collection", "CollectionGrant",
    "Delivery", "Feed", "FeedItem", "FeedRun", "HubSecret", "JobLease", "MatchCursor", "Observable", "Org",
    "OrgProfile", "StixObject", "Subscription", "Suppression", "TaxiiStatus", "WebhookSecret",
    "WebPreference", "WebSession", "WebSigninLink",
]
