"""The advisory form in words, and the STIX it becomes: a ``report`` gathering a ``vulnerability`` (the
software named), ``indicator`` objects (the domains and addresses), a ``course-of-action`` (what to do) and
``mitigates`` relationships from it. Pure: no database, no request; ``advisory`` stores and previews.

Each part is written the way alert matching reads it (decision 0011, "What matches"): affected software as
``x_exchange_affected`` with a ``vers:`` range, sectors as ``x_exchange_sectors`` on the report, and the steps
as numbered lines of the course of action, which delivery turns into the alert's "what to do". The course
of action also ``mitigates`` the report, so a sector alert (about the report) carries the steps too.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import orjson
from univers.version_range import VersionRange

from exchange.alerts.finders import WIDEST_V4, WIDEST_V6
from exchange.assets.sectors import NACE_SECTIONS
from exchange.core.timestamps import from_micros, now_micros
from exchange.stix.tlp import MARKING_LEVELS, TLP2_DEFINITIONS, Tlp


def N_(text: str) -> str:  # noqa: N802 - gettext's name for "translate later", known to pybabel extract
    return text


# What the form offers: TLP:AMBER+STRICT and RED reach only organisations named one by one, not an advisory's.
TLPS = (Tlp.clear, Tlp.green, Tlp.amber)
TLP_MEANINGS = {
    Tlp.clear: N_("Anyone allowed on the collection may read it, and it may be passed on publicly."),
    Tlp.green: N_("Every member organisation of the exchange may read it; not to be published."),
    Tlp.amber: N_("Only the members of the collection's sharing group may read it."),
}
MARKINGS = {level: next(ref for ref, lv in MARKING_LEVELS.items() if lv == level and ref in TLP2_DEFINITIONS)
            for level in TLPS}
# Severity is what alert grading reads (decision 0011, "Severity and grade"): exploitation raises an alert
# one step, a possible (unconfirmed) report lowers it one; the kind of match sets the rest.
SEVERITIES = {
    "exploited": N_("Urgent: being exploited now (software alerts one step more severe)"),
    "confirmed": N_("Confirmed, not known to be exploited"),
    "possible": N_("Not confirmed yet (alerts one step less severe)"),
}
_CONFIDENCE = {"exploited": 90, "confirmed": 85, "possible": 50}
MAX_VALUES = 100  # domains and addresses in one advisory
_DOMAIN = re.compile(r"(?=.{1,253}\Z)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]\Z")
_NAME = re.compile(r"^[\w .+-]{1,100}\Z")
_RANGE: Callable[[str], Any] = VersionRange.from_string  # univers is untyped; matching reads ranges with it too


@dataclass(frozen=True, slots=True)
class Advisory:
    """The form, checked and normalised."""

    title: str
    summary: str
    steps: tuple[str, ...]
    sectors: tuple[str, ...]
    vendor: str
    product: str
    versions: str  # a ``vers:`` range, or "" for every version
    domains: tuple[str, ...]
    addresses: tuple[str, ...]  # single addresses and CIDR ranges, as ``ipaddress`` writes them
    severity: str
    tlp: Tlp

    def digest(self) -> str:
        """What the preview was computed for: publishing a form changed since needs a new preview."""
        return hashlib.sha256(orjson.dumps(asdict(self))).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Problem:
    field: str
    message: str  # an N_ message of the web catalogue
    value: str = ""


def read(form: Mapping[str, Any]) -> tuple[Advisory | None, list[Problem]]:
    """The advisory a submitted form describes, or the problems to show beside its fields."""
    problems: list[Problem] = []
    title, summary = _text(form, "title", 200, problems), _text(form, "summary", 5000, problems)
    steps = tuple(s.strip() for s in str(form.get("steps", "")).splitlines() if s.strip())
    if not steps:
        problems.append(Problem("steps", N_("Say what the organisations should do, one step per line.")))
    sectors = tuple(sorted({str(s) for s in form.get("sectors", ()) if str(s) in NACE_SECTIONS}))
    vendor, product = str(form.get("vendor", "")).strip(), str(form.get("product", "")).strip()
    versions = _versions(str(form.get("versions", "")).strip(), problems)
    for name, value in (("vendor", vendor), ("product", product)):
        if value and not _NAME.match(value):
            problems.append(Problem(name, N_("Use letters, digits, spaces, dots, dashes or plus signs only."), value))
    if (vendor or versions) and not product:
        problems.append(Problem("product", N_("Name the product the vendor or version range is about.")))
    domains, addresses = _targets(str(form.get("targets", "")), problems)
    if not (sectors or product or domains or addresses) and not any(p.field in ("targets", "product")
                                                                       for p in problems):
        problems.append(Problem("affected", N_("Say who is affected: a sector, a product, or domains and addresses.")))
    severity = str(form.get("severity", ""))
    if severity not in SEVERITIES:
        problems.append(Problem("severity", N_("Choose a severity.")))
    tlp = next((level for level in TLPS if level.value == form.get("tlp")), None)
    if tlp is None:
        problems.append(Problem("tlp", N_("Choose who may read it (TLP).")))
    if problems or tlp is None:
        return None, problems
    return Advisory(title, summary, steps, sectors, vendor.lower(), product.lower(), versions, domains, addresses,
                    severity, tlp), []


def _text(form: Mapping[str, Any], name: str, limit: int, problems: list[Problem]) -> str:
    value = " ".join(str(form.get(name, "")).split()) if name == "title" else str(form.get(name, "")).strip()
    if not value:
        problems.append(Problem(name, N_("This field is required.")))
    elif len(value) > limit or "\x00" in value:
        problems.append(Problem(name, N_("This is too long."), value[:40]))
    return value


def _versions(text: str, problems: list[Problem]) -> str:
    """``>=10.2, <10.2.9`` (or a whole ``vers:`` range) as the ``vers:`` range matching reads; "" for all."""
    if not text:
        return ""
    spec = text if text.startswith("vers:") else "vers:generic/" + "|".join(
        part.replace(" ", "") for part in re.split(r"[,|]", text) if part.strip())
    try:
        _RANGE(spec)
    except Exception:  # noqa: BLE001 - univers raises bare ValueError, TypeError and its own errors alike
        problems.append(Problem("versions", N_("This is not a version range; write for example >=2.0, <2.4.1."),
                                text[:60]))
        return ""
    return spec


def _targets(text: str, problems: list[Problem]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Domains, and addresses or ranges, one per line; each bad line is a problem naming it."""
    domains: dict[str, None] = {}
    addresses: dict[str, None] = {}
    lines = [line.strip().rstrip(".").lower() for line in text.splitlines() if line.strip()]
    if len(lines) > MAX_VALUES:
        problems.append(Problem("targets", N_("At most 100 domains and addresses in one advisory.")))
        return (), ()
    for line in lines:
        if re.fullmatch(r"[0-9a-f:.]+(/\d{1,3})?", line) and (":" in line or line[-1].isdigit()):
            try:
                network = ipaddress.ip_network(line, strict=True)
            except ValueError:
                problems.append(Problem("targets", N_("Not an IP address or CIDR range (is the prefix right, "
                                                      "and are the bits after it zero?):"), line[:60]))
                continue
            if network.num_addresses > (WIDEST_V4 if network.version == 4 else WIDEST_V6):
                problems.append(Problem("targets", N_("This range is too wide to concern anyone in particular:"),
                                        line[:60]))
                continue
            addresses[str(network.network_address) if network.num_addresses == 1 else str(network)] = None
        else:
            try:
                name = line.encode("idna").decode()
            except UnicodeError:
                name = ""
            if not _DOMAIN.match(name):
                problems.append(Problem("targets", N_("Not a domain name, IP address or CIDR range:"), line[:60]))
                continue
            domains[name] = None
    return tuple(domains), tuple(addresses)


def objects(advisory: Advisory, author: str) -> list[dict[str, Any]]:
    """The STIX objects of the advisory, authored by the identity ``author``; the report comes first."""
    stamp = from_micros(now_micros())
    common: dict[str, Any] = {"spec_version": "2.1", "created": stamp, "modified": stamp, "created_by_ref": author,
                              "object_marking_refs": [MARKINGS[advisory.tlp]]}
    exploited = advisory.severity == "exploited"
    graded = {"confidence": _CONFIDENCE[advisory.severity], **({"labels": ["known-exploited"]} if exploited else {})}
    about: list[dict[str, Any]] = []
    if advisory.product:
        affected = {"product": advisory.product, **({"vendor": advisory.vendor} if advisory.vendor else {}),
                    **({"versions": advisory.versions} if advisory.versions else {})}
        about.append({"type": "vulnerability", "id": f"vulnerability--{uuid.uuid4()}", **common, **graded,
                      "name": advisory.title, "description": advisory.summary, "x_exchange_affected": [affected],
                      **({"x_exchange_exploited": True} if exploited else {})})
    for value, kind in [(d, "domain-name") for d in advisory.domains] + [
            (a, "ipv6-addr" if ":" in a else "ipv4-addr") for a in advisory.addresses]:
        about.append({"type": "indicator", "id": f"indicator--{uuid.uuid4()}", **common, **graded,
                      "name": f"{advisory.title}: {value}", "description": advisory.summary,
                      "indicator_types": ["malicious-activity"], "pattern": f"[{kind}:value = '{value}']",
                      "pattern_type": "stix", "valid_from": stamp})
    action = {"type": "course-of-action", "id": f"course-of-action--{uuid.uuid4()}", **common,
              "name": advisory.title, "description": "\n".join(f"{n}. {s}" for n, s in enumerate(advisory.steps, 1))}
    report_id = f"report--{uuid.uuid4()}"
    mitigates = [{"type": "relationship", "id": f"relationship--{uuid.uuid4()}", **common,
                  "relationship_type": "mitigates", "source_ref": action["id"], "target_ref": target}
                 for target in [o["id"] for o in about] + [report_id]]
    refs = [o["id"] for o in (*about, action, *mitigates)]
    report = {"type": "report", "id": report_id, **common, **graded, "name": advisory.title,
              "description": advisory.summary, "report_types": ["threat-report"], "published": stamp,
              "object_refs": refs, **({"x_exchange_sectors": list(advisory.sectors)} if advisory.sectors else {})}
    return [report, *about, action, *mitigates]
