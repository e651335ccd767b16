"""Connectors: one module per feed kind on the small shared base of ``connectors.base``. Each yields
pages of STIX objects; ``exchange.feeds`` stores them, keeps bookmarks and run history, schedules.

``KINDS`` maps a feed's ``kind`` to its connector."""

from __future__ import annotations

from collections.abc import Callable

from connectors.base import Connector
from connectors.blocklist import Blocklist
from connectors.csaf import Csaf
from connectors.kev import Kev
from connectors.misp import MispFeed
from connectors.shadowserver import Shadowserver
from connectors.taxii import TaxiiPull

KINDS: dict[str, Callable[[], Connector]] = {"taxii": TaxiiPull, "csv": Blocklist, "kev": Kev, "misp": MispFeed,
                                             "shadowserver": Shadowserver, "csaf": Csaf}
# The TLP a kind's feeds apply to what they leave unmarked when the feed names none: an exposure
# finding is for the address's owner and the relaying CSIRT only.
DEFAULT_TLP: dict[str, str] = {"shadowserver": "amber+strict"}
