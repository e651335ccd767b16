"""Exposure reports in the Shadowserver report format (CSV, one row per finding: ``timestamp``, ``ip``,
``port``, ``protocol``, ``asn``, ``hostname``, ``tag``, ``severity`` and type-specific columns) →
exposure findings, the STIX shape alert matching reads (decision 0011): an ``observed-data`` naming
the address (an ``ipv4-addr``/``ipv6-addr``), the exposed service (a ``network-traffic`` with the
port and protocol) and the host name when the report gives one.

The hub marks them TLP:AMBER+STRICT unless the feed says otherwise (``connectors.DEFAULT_TLP``), and
names the address's verified owner as recipient (``exchange.feeds.owners``): only the owner and the
relaying CSIRT read a finding. Needed columns: ``timestamp`` and ``ip`` (a run fails naming the one
that disappeared); the others are kept when present, type-specific ones under
``x_exchange_exposure``. Option ``report``: the report type (``scan_rdp``, ...), shown in the
finding. Ids are UUIDv5 of the feed and the finding, so a report read twice stores nothing new.
"""

from __future__ import annotations

import csv
import datetime as dt
import ipaddress
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

import orjson

from connectors.base import FeedError, Http, Page, Source, conditional, lines, required, validators

NEEDED = ("timestamp", "ip")
_COMMON = frozenset({"timestamp", "ip", "port", "protocol", "asn", "hostname", "tag", "severity", "geo", "region",
                     "city", "naics", "sic", "sector"})
_SCO_NAMESPACE = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")  # STIX 2.1, 2.9: ids of SCOs
DEFAULT_PAGE_SIZE = 2000


def sco_id(kind: str, contributing: Mapping[str, Any]) -> str:
    """An SCO's id as STIX 2.1 derives it: UUIDv5 of its ID-contributing properties, serialised as
    canonical JSON (RFC 8785: sorted keys, no spaces), so every producer names one address alike."""
    canonical = orjson.dumps(dict(contributing), option=orjson.OPT_SORT_KEYS).decode()
    return f"{kind}--{uuid.uuid5(_SCO_NAMESPACE, canonical)}"


def _when(text: str, row: int) -> str:
    try:
        when = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise FeedError(f"row {row}: timestamp {text[:40]!r} is not a date and time") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def convert(source: Source, row: Mapping[str, str], number: int) -> list[dict[str, Any]] | str:
    """One report row → its SCOs and the observed-data; a string says why the row was skipped."""
    try:
        address = ipaddress.ip_address(row["ip"].strip())
    except ValueError:
        return f"row {number}: {row['ip'][:60]!r} is not an IP address"
    when = _when(row["timestamp"], number)
    ip = {"type": f"ipv{address.version}-addr", "spec_version": "2.1", "value": str(address)}
    ip["id"] = sco_id(ip["type"], {"value": ip["value"]})
    scos: list[dict[str, Any]] = [ip]
    port = (row.get("port") or "").strip()
    protocol = (row.get("protocol") or "").strip().lower()
    if port.isdigit() and int(port) <= 65535:
        traffic: dict[str, Any] = {"type": "network-traffic", "spec_version": "2.1", "dst_ref": ip["id"],
                                   "dst_port": int(port), "protocols": [protocol or "tcp"]}
        traffic["id"] = sco_id("network-traffic", {k: traffic[k] for k in ("dst_ref", "dst_port", "protocols")})
        scos.append(traffic)
    host = (row.get("hostname") or "").strip().lower().rstrip(".")
    if host:
        name = {"type": "domain-name", "spec_version": "2.1", "value": host}
        name["id"] = sco_id("domain-name", {"value": host})
        scos.append(name)
    report = str(source.option("report") or row.get("tag") or "exposure")
    kept = {"report": report, **{k: row.get(k) for k in ("tag", "severity", "asn")},
            **{k: v for k, v in row.items() if k and k not in _COMMON}}
    finding: dict[str, Any] = {
        "type": "observed-data", "spec_version": "2.1", "created": when, "modified": when,
        "id": source.derived_id("observed-data", f"{address}|{port}|{protocol}|{when}|{report}"),
        "first_observed": when, "last_observed": when, "number_observed": 1,
        "object_refs": [s["id"] for s in scos], "labels": ["exposure", report[:100]],
        "x_exchange_exposure": {k: v for k, v in kept.items() if v not in (None, "")},
    }
    return [*scos, finding]


class Shadowserver:
    def snapshot(self, source: Source) -> bool:
        return False

    def pages(self, source: Source, bookmark: Mapping[str, Any]) -> Iterator[Page]:
        with Http(source) as http, http.open(source.url, conditional(bookmark)) as response:
            if response.status_code == 304:
                return
            rows = csv.DictReader(lines(response))
            required(dict.fromkeys(rows.fieldnames or ()), NEEDED, "Shadowserver report")
            page = Page([], {}, 0)
            ids: set[str] = set()  # an address found open on several ports: its SCOs once a page
            for number, row in enumerate(rows, start=2):
                page.fetched += 1
                converted = convert(source, row, number)
                if isinstance(converted, str):
                    page.problems.append(converted)
                else:
                    page.objects.extend(o for o in converted if o["id"] not in ids)
                    ids.update(o["id"] for o in converted)
                if page.fetched >= int(source.option("page_size", DEFAULT_PAGE_SIZE)):
                    yield page
                    page, ids = Page([], {}, 0), set()
            page.bookmark = validators(response)
            yield page
