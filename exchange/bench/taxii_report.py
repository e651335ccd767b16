"""The figures of ``exchange bench taxii``: one report per server, and the side-by-side comparison
with ratios that the command prints.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Latency:
    seconds: tuple[float, ...] = ()
    note: str = ""

    @property
    def p50_ms(self) -> float | None:
        return statistics.median(self.seconds) * 1000 if self.seconds else None

    @property
    def p95_ms(self) -> float | None:
        if not self.seconds:
            return None
        ordered = sorted(self.seconds)  # nearest rank: with few samples, the slowest, never an interpolation
        return ordered[min(len(ordered) - 1, max(0, -(-95 * len(ordered) // 100) - 1))] * 1000


@dataclass(frozen=True, slots=True)
class Listing:
    timed_objects: int  # returned by the timed listing pages (deep-page samples excluded)
    seconds: float  # time spent in those requests, body read and parsed
    pages: int
    unique: int  # distinct ids seen by the whole walk, deep-page samples included
    duplicates: int
    expected: int
    complete: bool  # reached the end (more=false) rather than the time cap or an error
    note: str = ""

    @property
    def rate(self) -> float:
        return self.timed_objects / self.seconds if self.seconds else 0.0

    @property
    def missing(self) -> int | None:
        return self.expected - self.unique if self.complete else None


@dataclass(frozen=True, slots=True)
class Ingest:
    objects: int
    envelopes: int
    succeeded: int
    failed: int
    seconds: float  # from the first POST until every status resource is complete
    note: str = ""

    @property
    def rate(self) -> float:
        return self.objects / self.seconds if self.seconds else 0.0


@dataclass(frozen=True, slots=True)
class TaxiiReport:
    server: str
    objects: int  # collection size the reads were measured on
    load_seconds: float  # how long filling it took (each server is filled its own fastest way)
    first_page: Latency
    deep_page: Latency
    listing: Listing
    post: Ingest
    peak_rss_mb: float | None
    notes: tuple[str, ...] = field(default=())

    def figures(self) -> dict[str, Any]:
        def ms(v: float | None) -> float | None:
            return None if v is None else round(v, 2)

        return {
            "server": self.server,
            "objects": self.objects,
            "load_seconds": round(self.load_seconds, 1),
            "first_page_p50_ms": ms(self.first_page.p50_ms),
            "first_page_p95_ms": ms(self.first_page.p95_ms),
            "first_page_samples": len(self.first_page.seconds),
            "deep_page_p50_ms": ms(self.deep_page.p50_ms),
            "deep_page_p95_ms": ms(self.deep_page.p95_ms),
            "deep_page_samples": len(self.deep_page.seconds),
            "listing_objects_per_second": round(self.listing.rate) if self.listing.timed_objects else None,
            "listing_objects": self.listing.timed_objects,
            "listing_complete": self.listing.complete,
            "listing_unique": self.listing.unique,
            "listing_duplicates": self.listing.duplicates,
            "listing_missing": self.listing.missing,
            "post_objects_per_second": round(self.post.rate) if self.post.objects else None,
            "post_objects": self.post.objects,
            "post_succeeded": self.post.succeeded,
            "post_failed": self.post.failed,
            "peak_rss_mb": None if self.peak_rss_mb is None else round(self.peak_rss_mb, 1),
            "notes": list(self.notes) + [n for n in (self.first_page.note, self.deep_page.note, self.listing.note,
                                                     self.post.note) if n],
        }


def peak_rss_mb(pid: int | None) -> float | None:
    """Peak resident set size of a process (VmHWM), or None where /proc doesn't tell."""
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


Outcome = TaxiiReport | str  # a report, or why there is none (the error, in a sentence)


@dataclass(frozen=True, slots=True)
class Figure:
    label: str
    key: str
    lower_is_better: bool
    goal: str  # the target for Exchange, as text
    meets: Callable[[float], bool] | None = None  # for the figures that have a target


FIGURES = (
    Figure("first page p50 (ms, limit 100)", "first_page_p50_ms", True, "< 20", lambda v: v < 20),
    Figure("first page p95 (ms)", "first_page_p95_ms", True, "< 50", lambda v: v < 50),
    Figure("deep page p50 (ms, cursor mid-collection)", "deep_page_p50_ms", True, "< 20", lambda v: v < 20),
    Figure("deep page p95 (ms)", "deep_page_p95_ms", True, "< 50", lambda v: v < 50),
    Figure("full listing via next (objects/s, limit 1000)", "listing_objects_per_second", False, ">= 30,000",
           lambda v: v >= 30_000),
    Figure("POST ingest (objects/s, 1,000-object envelopes)", "post_objects_per_second", False, ">= 15,000",
           lambda v: v >= 15_000),
    Figure("server peak RSS (MB)", "peak_rss_mb", True, "< 400", lambda v: v < 400),
    Figure("objects in the collection", "objects", True, ""),
    Figure("load time (s, each server its fastest way)", "load_seconds", True, ""),
)


def value(outcome: Outcome | None, key: str) -> Any:
    return outcome.figures().get(key) if isinstance(outcome, TaxiiReport) else None
