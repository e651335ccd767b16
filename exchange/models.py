"""Every table of the hub, imported in one place so Alembic and tests see the whole schema."""

from exchange.db import Base
from exchange.orgs.models import ApiKey, Org
from exchange.stix.models import Collection, Observable, StixObject

__all__ = ["ApiKey", "Base", "Collection", "Observable", "Org", "StixObject"]
