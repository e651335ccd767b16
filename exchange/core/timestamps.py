"""STIX timestamps <-> integer microseconds since the epoch (UTC), the store's time unit."""

from __future__ import annotations

import datetime as dt
import re
import time
from functools import lru_cache

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
SECOND = 1_000_000  # µs
HOUR = 3_600 * SECOND
_US = dt.timedelta(microseconds=1)

# STIX 2.1, 2.16: YYYY-MM-DDTHH:mm:ss[.s+]Z with two-digit fields in range, as in the OASIS JSON
# schema (a leap second's :60 included). The one copy of the rule; the strict validation reports
# against it, and the store takes the subset it can keep (``to_micros``).
TIMESTAMP_RE = re.compile(
    r"[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
    r"T(?:[01][0-9]|2[0-3]):[0-5][0-9]:(?:[0-5][0-9]|60)(?:\.([0-9]+))?Z"
)
# "YYYY-MM-DDTHH:mm:ss.sssZ": created and modified carry at least milliseconds (STIX 2.1, 3.2).
MILLISECONDS_LENGTH = 24


@lru_cache(maxsize=8192)
def to_micros(value: str) -> int | None:
    """Microseconds for a well-formed STIX timestamp, None when it is not one, or not a real date, or
    finer than microseconds (stix2 accepts at most six fractional digits: strptime's %f).

    Cached: an object's created, modified and valid_from are usually the same string, and a feed's
    objects share timestamps, so most calls on the ingest path are dictionary hits.
    """
    match = TIMESTAMP_RE.fullmatch(value)
    if match is None or len(match.group(1) or "") > 6:
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
