"""Fixtures of the TAXII 2.1 tests: one live server for the folder (per xdist worker), a per-test handle on it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from exchange.settings import Settings
from tests.taxii.live import Hub, Server, start_server


@pytest.fixture(scope="package")
def live_server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from start_server(database_url, tmp_path_factory.mktemp("taxii"))


@pytest.fixture
def hub(live_server: Server, settings: Settings, make_org) -> Hub:  # type: ignore[no-untyped-def]
    """``settings`` points the in-process CLI at the test database and empties the tables afterwards."""
    return Hub(live_server, make_org)
