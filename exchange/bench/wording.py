"""``exchange bench wording``: what rendering the words of alerts costs a delivery worker, per language.

Delivery's own benchmark (TAXII POST to e-mail and webhook) includes this cost; measuring it apart
says how much of a worker's budget per message the templates take, and catches a slow template.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from exchange.alerts import wording
from exchange.alerts.message import Message, Sender
from exchange.alerts.models import AlertKind, Severity, SourceGrade

DIGEST_SIZE = 50


@dataclass(frozen=True, slots=True)
class WordingReport:
    language: str
    messages: int
    seconds: float
    digest_ms: float  # one digest of DIGEST_SIZE alerts

    @property
    def rate(self) -> float:
        return self.messages / self.seconds


def sample_messages() -> list[Message]:
    """One message of every template: each kind, an exploited flaw, an all-clear and a TLP:RED alert."""
    base = Message(
        kind=AlertKind.listed, severity=Severity.high, grade=SourceGrade.probable, tlp="amber",
        organisation="Boulangerie Martin", asset="bakery.example", matched="shop.bakery.example",
        published_at=datetime(2026, 12, 5, 9, 30, tzinfo=UTC), sender=Sender("CERT-EX", "cert@cert.example"),
        read_url="https://hub.example/alerts/1", title="Phishing kit hosted on compromised shops",
        description="The site hosts a phishing kit that imitates a bank. It was seen on 3 December.",
        answer_urls={state: f"https://hub.example/answer/{state}" for state in ("acknowledged", "fixed", "need-help")},
        timezone="Europe/Paris")
    return [
        base,
        replace(base, kind=AlertKind.lookalike, matched="bakery-example.com"),
        replace(base, kind=AlertKind.software, matched="CVE-2024-3400", software="PAN-OS 10.2.9", exploited=True,
                severity=Severity.critical),
        replace(base, kind=AlertKind.exposure, matched="192.0.2.7", asset="192.0.2.0/28", port=3389, service="rdp"),
        replace(base, kind=AlertKind.sector, matched="", asset="", sector="I", severity=Severity.medium),
        replace(base, cleared=True),
        replace(base, tlp="red"),
    ]


def run(n: int, languages: tuple[str, ...] = wording.LANGUAGES) -> list[WordingReport]:
    """Render ``n`` messages (the samples in turn) and one digest in each language, after one warm-up
    render (the first loads the catalogue and compiles the templates)."""
    samples = sample_messages()
    digest = [replace(samples[i % len(samples)], published_at=samples[0].published_at + timedelta(minutes=i))
              for i in range(DIGEST_SIZE)]
    reports = []
    for language in languages:
        wording.render(samples[0], language)
        started = time.perf_counter()
        for i in range(n):
            wording.render(samples[i % len(samples)], language)
        seconds = time.perf_counter() - started
        started = time.perf_counter()
        wording.render_digest(digest, language, organisation="Boulangerie Martin", period="daily")
        reports.append(WordingReport(language, n, seconds, (time.perf_counter() - started) * 1000))
    return reports
