"""The in-memory inventory answers like a scan of every asset would: ranges (nested, adjacent, wide ones
before narrow ones) and parent domains."""

from __future__ import annotations

from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from exchange.alerts.index import AssetIndex, AssetRow

_BASE = 0xFFFF << 32  # IPv4 mapped, as the observable table keeps addresses


def _row(pk: int, kind: str, value: str, lo: int | None = None, hi: int | None = None) -> AssetRow:
    return AssetRow(pk, pk, kind, value, None if lo is None else f"{_BASE + lo:032x}",
                    None if hi is None else f"{_BASE + hi:032x}", None, None, None, None, True)


_ranges = st.lists(st.tuples(st.integers(0, 4000), st.integers(0, 600)), max_size=30)


@hypothesis_settings(max_examples=300, deadline=None)
@given(ranges=_ranges, start=st.integers(0, 5000), width=st.integers(0, 50))
def test_overlapping_finds_exactly_the_ranges_a_scan_finds(ranges: list[tuple[int, int]], start: int,
                                                          width: int) -> None:
    rows = [_row(i, "cidr", f"r{i}", lo, lo + size) for i, (lo, size) in enumerate(ranges)]
    index = AssetIndex(rows, {})
    lo, hi = f"{_BASE + start:032x}", f"{_BASE + start + width:032x}"
    expected = {r.pk for r in rows if (r.ip_lo or "") <= hi and (r.ip_hi or "") >= lo}
    assert {r.pk for r in index.overlapping(lo, hi)} == expected


def test_a_wide_range_is_found_behind_narrow_ones_that_start_later() -> None:
    wide, narrow = _row(1, "cidr", "wide", 0, 65535), _row(2, "cidr", "narrow", 1280, 1535)
    index = AssetIndex([wide, narrow], {})
    address = f"{_BASE + 51201:032x}"  # after the narrow range, inside the wide one
    assert [r.pk for r in index.overlapping(address, address)] == [1]


def test_under_compares_whole_labels_from_the_right() -> None:
    index = AssetIndex([_row(1, "domain", "bakery.test"), _row(2, "domain", "shop.bakery.test"),
                        _row(3, "domain", "test")], {})
    assert sorted(r.pk for r in index.under("www.shop.bakery.test")) == [1, 2]  # never the bare "test"
    assert [r.pk for r in index.under("bakery.test.evil.test")] == []
    assert [r.pk for r in index.under("notbakery.test")] == []
    assert index.observable_kinds() == ("domain", "email-domain")  # nothing else can match
