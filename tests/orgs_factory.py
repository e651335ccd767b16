"""The typed organisation a test acts as: what the ``make_org`` fixture returns.

Here rather than in ``conftest`` so that helpers conftest itself imports (``tests/taxii/live.py``)
can name the type too.
"""

from __future__ import annotations

import base64
from typing import NamedTuple, Protocol

from exchange.orgs.models import Org, Role


def auth(key: str) -> dict[str, str]:
    """The bearer header for an API key."""
    return {"Authorization": f"Bearer {key}"}


def basic(slug: str, key: str) -> dict[str, str]:
    """The HTTP Basic header TAXII clients send: the organisation's slug and an API key."""
    return {"Authorization": "Basic " + base64.b64encode(f"{slug}:{key}".encode()).decode()}


class OrgKey(NamedTuple):
    """An organisation and its first API key (all scopes); unpacks as ``org, key``."""

    org: Org
    key: str

    @property
    def headers(self) -> dict[str, str]:
        return auth(self.key)


class MakeOrg(Protocol):
    """The ``make_org`` fixture: creates and commits an organisation, as the API sees only committed data."""

    def __call__(self, role: Role = ..., name: str | None = None) -> OrgKey: ...
