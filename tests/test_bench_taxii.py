"""``exchange bench taxii``'s client-side measurements: every figure is there and paging counts every
object exactly once, on a stateless cursor (an in-memory fake) and on medallion's consuming one (a
real medallion server). No timing is asserted: figures are for reports, not tests.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from exchange.bench.taxii import TAXII_JSON, Budget, Target, basic_auth, listing, post

COMPARE = Path(__file__).resolve().parents[1] / "benchmarks" / "taxii_compare.py"
SMALL = Budget(page_limit=5, listing_limit=10, samples=5, warmup=0, phase_seconds=5, envelopes=2, envelope_size=7)


def _objects(n: int) -> list[dict[str, Any]]:
    return [{"type": "indicator", "id": f"indicator--00000000-0000-4000-8000-{i:012d}",
             "modified": "2024-01-01T00:00:00.000Z"} for i in range(n)]


def _stateless_server(stored: list[dict[str, Any]]) -> httpx.MockTransport:
    """A TAXII objects endpoint whose ``next`` is the offset: the same cursor gives the same page."""

    def handle(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            sent = orjson.loads(request.content)["objects"]
            stored.extend(sent)
            return httpx.Response(202, json={"id": "s1", "status": "complete", "total_count": len(sent),
                                             "success_count": len(sent), "failure_count": 0, "pending_count": 0})
        assert request.headers["Accept"] == TAXII_JSON
        limit = int(request.url.params["limit"])
        start = int(request.url.params.get("next", "0"))
        page = stored[start:start + limit]
        more = start + limit < len(stored)
        body: dict[str, Any] = {"more": more, "objects": page} | ({"next": str(start + limit)} if more else {})
        return httpx.Response(200, json=body)

    return httpx.MockTransport(handle)


def test_stateless_cursor_lists_every_object_once_and_repeats_the_deep_page() -> None:
    stored = _objects(45)
    target = Target("fake", "http://fake/taxii2/", "http://fake/root/", "c1", basic_auth("u", "p"), len(stored))
    with httpx.Client(transport=_stateless_server(stored), headers={"Accept": TAXII_JSON}) as http:
        walked, deep = listing(http, target, SMALL)
        ingested = post(http, target, _objects(14), SMALL)
    assert walked.complete
    assert (walked.unique, walked.duplicates, walked.missing) == (45, 0, 0)
    assert walked.timed_objects == 45  # a stateless cursor's deep samples consume nothing
    assert len(deep.seconds) == SMALL.samples
    assert deep.note == ""
    assert (ingested.objects, ingested.succeeded, ingested.failed, ingested.envelopes) == (14, 14, 0, 2)


@pytest.mark.skipif(importlib.util.find_spec("medallion") is None, reason="medallion is not installed here")
def test_medallion_report_has_every_figure_and_counts_each_object_once() -> None:
    # The peers' runner is a script under benchmarks/, not part of the package: load it from its file.
    spec = importlib.util.spec_from_file_location("taxii_compare", COMPARE)
    assert spec is not None
    assert spec.loader is not None
    compare = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(compare)
    report = compare.run_medallion(40, budget=SMALL, python=sys.executable)
    figures = report.figures()
    missing = [key for key, value in figures.items() if value is None]
    assert missing == []
    assert report.listing.complete
    assert (report.listing.unique, report.listing.duplicates, report.listing.missing) == (40, 0, 0)
    # medallion's cursor is server memory, consumed by each use: its deep samples are consecutive pages
    assert report.deep_page.seconds
    assert "consumed" in report.deep_page.note
    assert len(report.first_page.seconds) == SMALL.samples
    assert (report.post.objects, report.post.succeeded, report.post.failed) == (14, 14, 0)
    assert report.peak_rss_mb is not None
    assert report.peak_rss_mb > 0
