"""A small hub for the alert tests: organisations, assets, publishing through the one ingest path, and
running the matching job as the worker does (its own committed transaction)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from exchange.alerts import matching
from exchange.alerts.models import Alert, AlertEvent
from exchange.assets import service as assets
from exchange.assets.models import Asset, AssetKind
from exchange.core.db import transaction
from exchange.core.settings import Settings
from exchange.orgs.models import Org, Role
from exchange.store import reads
from exchange.store.ingest import IngestResult, ingest
from tests.orgs_factory import MakeOrg, OrgKey


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The shared test settings, accepting the documentation names and ranges the tests use."""
    return settings.model_copy(update={"assets_allow_reserved": True})


@dataclass
class World:
    sessions: sessionmaker[Session]
    settings: Settings
    make_org: MakeOrg

    def org(self, role: Role = Role.sme, name: str | None = None) -> OrgKey:
        return self.make_org(role, name)

    def asset(self, org: Org, kind: AssetKind, value: str, *, verified: bool = True) -> int:
        with transaction(self.sessions) as s:
            asset = assets.create(s, s.get_one(Org, org.pk), kind, value, settings=self.settings)
            if verified:
                assets.approve(asset, None, settings=self.settings)
            return asset.pk

    def sector(self, org: Org, letter: str) -> None:
        with transaction(self.sessions) as s:
            assets.set_profile(s, s.get_one(Org, org.pk), sector=letter, country=None)

    def publish(self, org: Org, *objects: dict[str, Any]) -> IngestResult:
        with transaction(self.sessions) as s:
            result = ingest(s, list(objects), collection=reads.get_collection(s), org=s.get_one(Org, org.pk))
        assert result.rejected == 0, result.results
        return result

    def match(self) -> matching.Outcome:
        total = matching.Outcome()
        while True:
            with transaction(self.sessions) as s:
                outcome = matching.run(s, limit=500)
            total.add(outcome)
            if outcome.objects == 0:
                return total

    def alerts(self, org: Org) -> list[Alert]:
        with self.sessions() as s:
            return list(s.scalars(select(Alert).where(Alert.org_pk == org.pk).order_by(Alert.pk)))

    def events(self, org: Org) -> list[tuple[int, str]]:
        with self.sessions() as s:
            return [(e.alert_pk, e.type) for e in s.scalars(select(AlertEvent).where(AlertEvent.org_pk == org.pk)
                                                             .order_by(AlertEvent.pk))]

    def verify(self, asset_pk: int) -> None:
        with transaction(self.sessions) as s:
            assets.approve(s.get_one(Asset, asset_pk), None, settings=self.settings)


@pytest.fixture
def world(sessions: sessionmaker[Session], settings: Settings, make_org: MakeOrg) -> World:
    built = World(sessions, settings, make_org)
    built.match()  # start past whatever earlier tests stored
    return built
