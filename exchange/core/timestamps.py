"""STIX timestamps <-> integer microseconds since the epoch (UTC), the store's time unit."""

from __future__ import annotations

import datetime as dt
import re
import time
from functools import lru_cache

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_US = dt.timedelta(microseconds=1)

# RFC 3339 as STIX 2.1 (section 3.2) allows it: UTC "Z", optional fraction. stix2 accepts at
# most six fractional digits (strptime's %f), so microseconds represent every accepted value.
TIMESTAMP_RE = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?Z\Z")


@lru_cache(maxsize=8192)
def to_micros(value: str) -> int | None:
    """Microseconds for a well-formed STIX timestamp, None when it is not one.

    Cached: an object's created, modified and valid_from are usually the same string, and a feed's
    objects share timestamps, so most calls are dictionary hits (a measured hot path of ingest).
    """
    if TIMESTAMP_RE.match(value) is None:
        return None
    try:
        return (dt.datetime.fromisoformat(value) - EPOCH) // _US
    except ValueError:  # e.g. February 30th
        return None


def from_micros(us: int) -> str:
    """The TAXII/STIX rendering with microsecond precision, e.g. 2024-01-01T00:00:00.000000Z."""
    return (EPOCH + dt.timedelta(microseconds=us)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def now_micros() -> int:
    return time.time_ns() // 1000
