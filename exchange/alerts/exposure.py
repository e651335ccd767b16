"""What an exposure alert is about beyond the address: the port, the protocol and the exposed service, and
when the scan saw it (issue 17: "address, port, protocol, what is exposed or vulnerable, when seen").

Matching keys an exposure alert on the address only (``matched``), so "not ours" about an address holds
whatever port a later scan finds open. The rest is read when the alert is worded: from the finding
(``observed-data``, or the observed-data a ``sighting`` references) and the ``network-traffic`` objects
it references, each read through ``access.readable`` as the recipient organisation, so a message never
says more than it may read. The shape is the one ``connectors/shadowserver.py`` publishes: the service
name from ``x_exchange_exposure.report`` (``scan_rdp`` -> ``rdp``) or ``tag``, else a well-known port.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy.orm import Session

from exchange.alerts.models import Alert, AlertKind
from exchange.orgs.models import Org
from exchange.sharing import access
from exchange.store.models import StixObject

# The services a scan report names most; a port not listed gives no service name.
WELL_KNOWN = {21: "ftp", 22: "ssh", 23: "telnet", 25: "smtp", 53: "dns", 80: "http", 110: "pop3", 123: "ntp",
              143: "imap", 161: "snmp", 389: "ldap", 443: "https", 445: "smb", 1433: "mssql", 1900: "ssdp",
              3306: "mysql", 3389: "rdp", 5432: "postgresql", 5900: "vnc", 6379: "redis", 9200: "elasticsearch",
              11211: "memcached", 27017: "mongodb"}
_MAX_REFS = 50  # references followed per finding: a finding names one address and a few services


@dataclass(frozen=True, slots=True)
class Exposure:
    port: int | None
    protocols: tuple[str, ...]
    service: str | None  # "rdp", "smb", "elasticsearch"
    seen: str | None  # the finding's last_observed, as published


def details(session: Session, org: Org, alert: Alert) -> Exposure | None:
    """The exposure an alert is about, as ``org`` may read it; None for other kinds, withheld alerts, or a
    finding the organisation cannot read (any more)."""
    if alert.kind != AlertKind.exposure.value or alert.withheld:
        return None
    finding = _read(session, org, [alert.object_id]).get(alert.object_id)
    if finding is not None and finding.get("type") == "sighting":
        refs = [r for r in finding.get("observed_data_refs") or () if isinstance(r, str)][:_MAX_REFS]
        finding = next(iter(_read(session, org, refs).values()), None)
    if finding is None or finding.get("type") != "observed-data":
        return None
    refs = [r for r in finding.get("object_refs") or () if isinstance(r, str)][:_MAX_REFS]
    traffic = [o for o in _read(session, org, refs).values() if o.get("type") == "network-traffic"]
    embedded = finding.get("objects")
    if isinstance(embedded, dict):  # STIX 2.0 style, still accepted
        traffic.extend(o for o in embedded.values() if isinstance(o, dict) and o.get("type") == "network-traffic")
    return summarise(finding, traffic)


def summarise(finding: Mapping[str, Any], traffic: Iterable[Mapping[str, Any]]) -> Exposure:
    """Port, protocols and service of a finding and its network-traffic objects (pure: no database)."""
    port: int | None = None
    protocols: list[str] = []
    for flow in traffic:
        value = flow.get("dst_port")
        if port is None and isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 65535:
            port = value
        protocols.extend(p.lower() for p in flow.get("protocols") or () if isinstance(p, str))
    seen = finding.get("last_observed")
    return Exposure(port, tuple(dict.fromkeys(protocols)), _service(finding, port),
                    seen if isinstance(seen, str) else None)


def _service(finding: Mapping[str, Any], port: int | None) -> str | None:
    exposure = finding.get("x_exchange_exposure")
    if isinstance(exposure, dict):
        for key in ("report", "tag"):
            name = exposure.get(key)
            if isinstance(name, str) and name.strip():
                return name.strip().lower().removeprefix("scan_").replace("_", " ")[:64]
    return WELL_KNOWN.get(port) if port is not None else None


def _read(session: Session, org: Org, ids: list[str]) -> dict[str, dict[str, Any]]:
    """The current readable version of each id (the newest one ``org`` may read)."""
    if not ids:
        return {}
    found: dict[str, dict[str, Any]] = {}
    for stix_id, raw in session.execute(
            access.readable(org).with_only_columns(StixObject.stix_id, StixObject.raw)
            .where(StixObject.stix_id.in_(ids)).order_by(StixObject.modified)):
        found[stix_id] = orjson.loads(raw)  # ordered by version: the newest wins
    return found


