"""Alert wording: every kind in every language, TLP:RED never leaks, jargon explained, plain English."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest
import textstat

from exchange.alerts import wording
from exchange.alerts.message import Message, Sender
from exchange.alerts.models import AlertKind, Severity, SourceGrade


def make_message(kind: AlertKind = AlertKind.listed, **changes: Any) -> Message:
    base = Message(
        kind=kind, severity=Severity.high, grade=SourceGrade.probable, tlp="amber",
        organisation="Boulangerie Martin", asset="bakery.example", matched="login-bakery.example",
        published_at=datetime(2026, 12, 5, 23, 30, tzinfo=UTC), sender=Sender("CERT-FR", "cert@cert.example"),
        read_url="https://hub.example/alerts/1",
        answer_urls={"fixed": "https://hub.example/a/fixed", "need-help": "https://hub.example/a/help"},
        software="PAN-OS 10.2.9", port=3389, service="rdp", sector="I", timezone="Europe/Paris")
    return dataclasses.replace(base, **changes)


@pytest.mark.parametrize("kind", list(AlertKind))
def test_english_reads_easily(kind: AlertKind) -> None:
    rendered = wording.render(make_message(kind), "en")
    assert textstat.flesch_reading_ease(rendered.text) >= 60


def test_a_hostile_title_is_escaped_in_html() -> None:
    rendered = wording.render(make_message(title="<script>alert(1)</script>"), "en")
    assert "<script>" not in rendered.html
    assert "&lt;script&gt;" in rendered.html
