"""The severity table (kind × source grade × known exploitation × MX-only look-alike) and the source grade
(STIX ``confidence`` through the Admiralty mapping, capped by the publisher's role), as decision 0011 words
them."""

from __future__ import annotations

import pytest

from exchange.alerts.grading import grade, severity
from exchange.alerts.models import AlertKind, Severity, SourceGrade
from exchange.orgs.models import Role


@pytest.mark.parametrize(("confidence", "role", "expected"), [
    (100, Role.csirt, SourceGrade.confirmed), (80, None, SourceGrade.confirmed),
    (79, None, SourceGrade.probable), (60, Role.csirt, SourceGrade.probable),
    (59, None, SourceGrade.possible), (40, None, SourceGrade.possible),
    (39, None, SourceGrade.doubtful), (20, None, SourceGrade.doubtful),
    (19, None, SourceGrade.improbable), (0, None, SourceGrade.improbable),
    (95, Role.isac, SourceGrade.probable), (95, Role.sme, SourceGrade.possible),  # capped by who says it
    (30, Role.csirt, SourceGrade.doubtful),  # a cap never raises a grade
    (None, Role.csirt, SourceGrade.unknown), (101, None, SourceGrade.unknown), (-1, None, SourceGrade.unknown),
    (True, None, SourceGrade.unknown), ("90", None, SourceGrade.unknown),  # not a STIX confidence
])
def test_the_source_grade_words_confidence_capped_by_the_publisher(confidence: object, role: Role | None,
                                                                   expected: SourceGrade) -> None:
    assert grade(confidence, role) == expected


@pytest.mark.parametrize(("kind", "source", "exploited", "mx_only", "expected"), [
    (AlertKind.listed, SourceGrade.confirmed, False, False, Severity.high),
    (AlertKind.listed, SourceGrade.confirmed, True, False, Severity.critical),
    (AlertKind.listed, SourceGrade.possible, False, False, Severity.medium),
    (AlertKind.exposure, SourceGrade.unknown, False, False, Severity.high),
    (AlertKind.software, SourceGrade.confirmed, True, False, Severity.high),
    (AlertKind.software, SourceGrade.doubtful, False, False, Severity.info),
    (AlertKind.lookalike, SourceGrade.probable, False, False, Severity.medium),
    (AlertKind.lookalike, SourceGrade.probable, False, True, Severity.high),
    (AlertKind.sector, SourceGrade.improbable, False, False, Severity.info),  # clamped, never below info
    (AlertKind.listed, SourceGrade.confirmed, True, True, Severity.critical),  # clamped, never above critical
])
def test_the_severity_table(kind: AlertKind, source: SourceGrade, exploited: bool, mx_only: bool,
                            expected: Severity) -> None:
    assert severity(kind, source, exploited=exploited, mx_only=mx_only) == expected
