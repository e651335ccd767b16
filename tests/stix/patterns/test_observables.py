"""Observable rows from the engine's tree: every row stix2-patterns' inspection gave before
(the rows of ``exchange.stix.observables`` up to issue 16), plus the reference paths it missed."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from stix2patterns.pattern import Pattern

from exchange.bench.data import indicators
from exchange.stix.observables import Extracted, extract, from_comparison

_LITERAL = re.compile(r"'((?:[^'\\]|\\.)*)'")


def inspected_rows(pattern: str) -> Iterator[Extracted]:
    """The rows as the hub made them before the engine: stix2-patterns' inspection, read the same way."""
    for sco, items in Pattern(pattern).inspect().comparisons.items():
        for path, op, literal in items:
            if op in ("=", "ISSUBSET", "IN"):
                for value in _LITERAL.findall(literal):
                    yield from from_comparison(sco, [str(p) for p in path],
                                               value.replace("\\'", "'").replace("\\\\", "\\"))


def rows(pattern: str) -> set[Extracted]:
    return set(extract({"type": "indicator", "pattern_type": "stix", "pattern": pattern}))


@pytest.mark.parametrize("shape", ["single", "and", "or", "qualified"])
def test_every_row_inspection_gave_is_still_there(shape: str) -> None:
    for obj in indicators(150, seed=7, shape=shape):
        before = {e for e in inspected_rows(obj["pattern"]) if 0 < len(e.value) <= 1024}
        assert before <= rows(obj["pattern"]), obj["pattern"]


@pytest.mark.parametrize(("pattern", "expected"), [
    ("[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '198.51.100.9' AND "
     "network-traffic:dst_port = 443]", {("ipv4", "198.51.100.9")}),
    ("[network-traffic:dst_ref.type = 'domain-name' AND network-traffic:dst_ref.value = 'C2.Example']",
     {("domain", "c2.example")}),
    ("[network-traffic:src_ref.value = '2001:db8::1']", {("ipv6", "2001:db8::1")}),
    ("[email-message:from_ref.value = 'CEO@evil.example' AND email-message:subject = 'Invoice']",
     {("email", "ceo@evil.example"), ("email-domain", "evil.example")}),
    ("[email-message:to_refs[*].value IN ('a@x.example', 'b@y.example')]",
     {("email", "a@x.example"), ("email-domain", "x.example"), ("email", "b@y.example"),
      ("email-domain", "y.example")}),
    ("[domain-name:resolves_to_refs[0].value = '192.0.2.1'] FOLLOWEDBY [url:value = 'http://e.example/x']",
     {("ipv4", "192.0.2.1"), ("url", "http://e.example/x"), ("domain", "e.example")}),
])
def test_reference_paths_are_indexed_as_the_object_they_name(pattern: str, expected: set[tuple[str, str]]) -> None:
    assert {(e.kind, e.value) for e in rows(pattern)} == expected
    ours = {(e.kind, e.value) for e in rows(pattern)}
    theirs = {(e.kind, e.value) for e in inspected_rows(pattern)}
    assert theirs < ours  # inspection missed the referenced values


@pytest.mark.parametrize("pattern", [
    "[domain-name:value NOT = 'x.example']",
    "[domain-name:value LIKE '%.x.example']",
    "[file:magic_number_hex = h'4d5a']",
    "[artifact:payload_bin = b'TVo=']",
    "[network-traffic:dst_ref.value != '192.0.2.1']",
    "[domain-name:value = 'x.example'",  # not a pattern: nothing, and no exception
])
def test_what_is_not_an_observable(pattern: str) -> None:
    assert rows(pattern) == set()
