"""``exchange bench feeds`` counts every row once, through the connector and through the import (no
timing is asserted: figures are for reports)."""

from __future__ import annotations

from exchange.bench import feeds as feeds_bench


def test_the_csv_benchmark_stores_each_row_once_both_ways() -> None:
    feed, imported = feeds_bench.csv_feed(20)
    assert (feed.objects, imported.objects) == (21, 21)  # 20 indicators and the source's identity
    assert feed.peak_rss_mb > 0
    assert imported.peak_rss_mb > 0
