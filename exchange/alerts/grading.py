"""How bad and how sure: the severity table and the source grade (docs/decisions/0011-alerts.md).

Severity starts from what the alert is about (``BASE``), goes up one step when the publisher says the
threat is exploited in the wild (or that a look-alike domain has only a mail exchanger), and down with
the source's confidence (``CONFIDENCE_STEP``). The grade words the STIX ``confidence`` with the STIX 2.1
Admiralty mapping (specification, appendix "Confidence scales"),
capped by how reliable the publisher is (``RELIABILITY``).
"""

from __future__ import annotations

from exchange.alerts.models import SEVERITY_ORDER, AlertKind, Severity, SourceGrade
from exchange.orgs.models import Role

BASE = {
    AlertKind.listed: Severity.high,  # our own name or address is used in an attack, or is compromised
    AlertKind.exposure: Severity.high,  # a scan found something open or vulnerable on our address
    AlertKind.software: Severity.medium,  # software we run has a vulnerability
    AlertKind.lookalike: Severity.medium,  # someone imitates our domain (phishing, invoice fraud)
    AlertKind.sector: Severity.low,  # advice for everyone in our sector
}
# Steps down from the base for each grade: a doubtful report must not page anyone at night.
CONFIDENCE_STEP = {
    SourceGrade.confirmed: 0, SourceGrade.probable: 0, SourceGrade.unknown: 0,
    SourceGrade.possible: 1, SourceGrade.doubtful: 2, SourceGrade.improbable: 2,
}
# STIX 2.1 "Admiralty Credibility" mapping: confidence 80-100 confirmed, 60-79 probable, 40-59 possible,
# 20-39 doubtful, 0-19 improbable; no confidence: cannot be judged.
_ADMIRALTY = ((80, SourceGrade.confirmed), (60, SourceGrade.probable), (40, SourceGrade.possible),
              (20, SourceGrade.doubtful), (0, SourceGrade.improbable))
_GRADES = list(SourceGrade)  # strongest first
# The best grade a publisher of each role can give: a CSIRT vouches for what it publishes; an ISAC relays
# its members; an SME (publishing in a sharing group) is one voice.
RELIABILITY = {Role.csirt: SourceGrade.confirmed, Role.admin: SourceGrade.confirmed,
               Role.isac: SourceGrade.probable, Role.sme: SourceGrade.possible}


def grade(confidence: object, publisher_role: Role | None) -> SourceGrade:
    """The source grade of an object with STIX ``confidence`` published by an organisation of this role
    (None: loaded by the hub's operator from a feed, judged by its confidence alone)."""
    found = SourceGrade.unknown
    if isinstance(confidence, int) and not isinstance(confidence, bool) and 0 <= confidence <= 100:
        found = next(g for floor, g in _ADMIRALTY if confidence >= floor)
    cap = RELIABILITY.get(publisher_role) if publisher_role is not None else None
    if cap is not None and found != SourceGrade.unknown and _GRADES.index(found) < _GRADES.index(cap):
        return cap
    return found


def severity(kind: AlertKind, source: SourceGrade, *, exploited: bool = False, mx_only: bool = False) -> Severity:
    """``BASE`` of the kind; one step up when exploited in the wild, one when a look-alike has only a mail
    exchanger (invoice fraud); down with the grade."""
    level = SEVERITY_ORDER[BASE[kind]] + exploited + mx_only - CONFIDENCE_STEP[source]
    levels = list(Severity)
    return levels[max(0, min(level, len(levels) - 1))]
