"""An in-process hub on the test database with settings of a test's own (limits, CORS, metrics)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient

from exchange.app import create_app
from exchange.core.settings import Settings

NO_LIMITS = {"rate_limit_per_ip": "", "rate_limit_per_key": ""}


@contextmanager
def serving(settings: Settings, **overrides: Any) -> Iterator[TestClient]:
    """The test database's hub with other settings (validated, as they would be from the environment).
    A server error comes back as the 500 a real client would see."""
    app = create_app(Settings(**(settings.model_dump() | overrides)))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client
    app.state.engine.dispose()
