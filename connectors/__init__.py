"""Connectors: one module per feed kind on the small shared base of ``connectors.base``. Each yields
pages of STIX objects; ``exchange.feeds`` stores them, keeps bookmarks and run history, schedules.

``KINDS`` maps a feed's ``kind`` to its connector; ``PUSH_KINDS`` the kinds that send instead."""

from __future__ import annotations

from collections.abc import Callable

from connectors.base import Connector
from connectors.blocklist import Blocklist
from connectors.csaf import Csaf
from connectors.kev import Kev
from connectors.misp import MispFeed
from connectors.shadowserver import Shadowserver
from connectors.taxii import TaxiiPull
from connectors.taxii_push import TaxiiPush

KINDS: dict[str, Callable[[], Connector]] = {"taxii": TaxiiPull, "csv": Blocklist, "kev": Kev, "misp": MispFeed,
                                             "shadowserver": Shadowserver, "csaf": Csaf}
# Kinds that send this hub's objects out (``exchange.feeds.push`` chooses what leaves).
PUSH_KINDS: dict[str, type[TaxiiPush]] = {"taxii-push": TaxiiPush}
# The TLP a kind's feeds apply to what they leave unmarked when the feed names none: an exposure
# finding is for the address's owner and the relaying CSIRT only.
DEFAULT_TLP: dict[str, str] = {"shadowserver": "amber+strict"}
