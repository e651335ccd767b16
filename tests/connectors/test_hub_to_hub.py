"""Hub to hub: this hub's TAXII feed pulls a collection of a second Exchange (a real ``exchange serve``
on a database of its own), relayed by a CSIRT here, the second hub's author kept."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from exchange.core import db
from exchange.core.settings import Settings
from exchange.orgs import service as orgs
from exchange.orgs.models import Role
from exchange.store.ingest import ingest
from exchange.store.reads import DEFAULT_COLLECTION_ID, get_collection
from tests.connectors.conftest import indicator
from tests.feeds.helpers import add, current, run
from tests.orgs_factory import MakeOrg
from tests.taxii.live import Server


def test_a_hub_pulls_another_hubs_collection(settings: Settings, sessions: sessionmaker[Session], make_org: MakeOrg,
                                             second_url: str, second_hub: Server,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    engine = db.make_engine(second_url)
    there = db.make_sessionmaker(engine)
    with db.transaction(there) as session:
        publisher = orgs.create(session, name="CERT elsewhere", role=Role.csirt)
        first = [indicator(n) for n in range(5)]
        assert ingest(session, first, collection=get_collection(session), org=publisher.org).added == 5
    relayer = make_org(Role.csirt).org
    monkeypatch.setenv("SECOND_HUB_KEY", publisher.api_key)
    add("elsewhere", "taxii", f"{second_hub.base}/taxii2/default/collections/{DEFAULT_COLLECTION_ID}/",
        "--username", publisher.org.slug, "--password-env", "SECOND_HUB_KEY", "--owner", relayer.slug,
        "--option", "page_size=2")
    assert run("elsewhere") == {"fetched": 5, "added": 6, "duplicates": 0, "rejected": 0}
    with db.transaction(there) as session:
        later = [indicator(n) for n in range(5, 7)]
        assert ingest(session, later, collection=get_collection(session), org=publisher.org).added == 2
    assert run("elsewhere") == {"fetched": 2, "added": 2, "duplicates": 1, "rejected": 0}
    stored = current(sessions, "indicator")
    assert set(stored) == {o["id"] for o in first + later}
    assert {o["created_by_ref"] for o in stored.values()} == {publisher.org.identity_id}  # the author, kept
    engine.dispose()


def test_the_second_hub_is_its_own_database(second_url: str, settings: Settings) -> None:
    """The pull above crossed databases, not collections of one (which the one-home rule would refuse)."""
    assert Path(second_url.removeprefix("sqlite:///")).exists()
    assert second_url != settings.database_url
