"""The engine's own rules: the deliberate differences from the oracle, hostile input, the tree,
and the round trip through ``render``."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stix2patterns.validator import validate as oracle_validate

from exchange.stix.patterns.errors import PatternError
from exchange.stix.patterns.parser import MAX_DEPTH, MAX_LENGTH, parse
from exchange.stix.patterns.render import render
from exchange.stix.patterns.tree import (
    STAR,
    Binary,
    Comparison,
    ComparisonAnd,
    ComparisonOr,
    FollowedBy,
    Group,
    Hex,
    Observation,
    ObservationOr,
    Qualified,
    Repeats,
    Timestamp,
    Within,
)
from exchange.stix.patterns.validate import checked
from exchange.stix.prepare import prepare
from tests.stix.patterns.generate import Patterns

HEX32 = "a" * 32


@pytest.mark.parametrize(("pattern", "why"), [
    (f"[file:hashes.MD6 = '{HEX32}zz']", "MD6 values are 32 to 128 hex digits, not any text after 32"),
    (f"[file:hashes.MD5 = '{HEX32}\n']", "a hash value with a trailing line break is not a hash"),
])
def test_deliberate_differences(pattern: str, why: str) -> None:
    """Decision 0009: the engine refuses these, the oracle takes them."""
    assert oracle_validate(pattern, "2.1"), why
    with pytest.raises(PatternError):
        checked(pattern)


@pytest.mark.parametrize(("pattern", "message"), [
    ("(" * 10_000 + "[a:b = 1]" + ")" * 10_000, "nest deeper than"),
    ("(" * 200_000 + "[a:b = 1]" + ")" * 200_000, "longer than"),
    ("(" * 2_000 + "[a:b = 1]" + ")" * 2_000, "nest deeper than"),
    ("[a:b = 1 AND " + "(" * (MAX_DEPTH + 1) + "a:b = 1" + ")" * (MAX_DEPTH + 1) + "]", "nest deeper than"),
    ("[a:b = '" + "x" * 1_048_576 + "']", "longer than"),
    ("[" + " OR ".join(f"a:b = {i}" for i in range(100_000)) + "]", "longer than"),
    ("[a:b = 1]" + " OR [a:b = 1]" * 30_000, "longer than"),
])
def test_hostile_patterns_are_refused_with_a_message(pattern: str, message: str) -> None:
    with pytest.raises(PatternError, match=message):
        checked(pattern)


def test_a_long_flat_pattern_within_the_limit_is_fine() -> None:
    """The limits are on size and nesting, not on the number of terms: no recursion per term."""
    pattern = "[" + " OR ".join(f"ipv4-addr:value = '10.0.{i // 256}.{i % 256}'" for i in range(6000)) + "]"
    assert len(pattern) < MAX_LENGTH
    tree = checked(pattern)
    assert type(tree) is Observation
    assert type(tree.expression) is ComparisonOr
    assert len(tree.expression.operands) == 6000


def test_hostile_indicator_is_a_rejection_not_a_crash() -> None:
    """Through ingest's database-free half: the object is rejected with the engine's message."""
    indicator = {"type": "indicator", "spec_version": "2.1", "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
                 "created": "2024-03-01T12:00:00.000Z", "modified": "2024-03-01T12:00:00.000Z",
                 "pattern_type": "stix", "pattern_version": "2.1", "valid_from": "2024-03-01T12:00:00Z",
                 "pattern": "(" * 10_000 + "[a:b = 1]" + ")" * 10_000}
    prepared = prepare([indicator])
    assert not prepared.candidates
    assert prepared.rejected[0].message == "pattern: parentheses and brackets nest deeper than 64 at offset 64"


def test_syntax_errors_say_where() -> None:
    with pytest.raises(PatternError, match="expected a comparison operator, found the end of the pattern at offset 18"):
        checked("[domain-name:value")
    with pytest.raises(PatternError, match="unexpected character '#' at offset 10"):
        checked("[a:b = 1] # comment")
    with pytest.raises(PatternError, match="starts with '\\['"):
        checked("/* c */ [a:b = 1]")


def test_the_tree() -> None:
    tree = parse("([file:name = 'a\\'b.exe' AND file:hashes.'SHA-256' = '" + "0" * 64 + "' OR x:y[*].z IN (1, true)]"
                 " OR [a:b = h'00ff' AND a:c = b'QQ=='] FOLLOWEDBY [a:d > t'2024-01-01T00:00:00Z']) "
                 "WITHIN 600 SECONDS REPEATS 3 TIMES")
    assert tree == Qualified(Qualified(Group(FollowedBy((
        ObservationOr((
            Observation(ComparisonOr((
                ComparisonAnd((Comparison("file", ("name",), "=", False, "a'b.exe"),
                               Comparison("file", ("hashes", "SHA-256"), "=", False, "0" * 64))),
                Comparison("x", ("y", STAR, "z"), "IN", False, (1, True)),
            ))),
            Observation(ComparisonAnd((Comparison("a", ("b",), "=", False, Hex("00ff")),
                                       Comparison("a", ("c",), "=", False, Binary("QQ=="))))),
        )),
        Observation(Comparison("a", ("d",), ">", False, Timestamp("2024-01-01T00:00:00Z"))),
    ))), Within(600)), Repeats(3))


def test_parentheses_of_a_comparison_expression_are_not_kept_but_precedence_is() -> None:
    assert parse("[(a:b = 1 OR a:c = 2) OR a:d = 3]") == parse("[a:b = 1 OR a:c = 2 OR a:d = 3]")
    tree = parse("[(a:b = 1 OR a:c = 2) AND a:d = 3]")
    assert render(tree) == "[(a:b = 1 OR a:c = 2) AND a:d = 3]"
    assert parse(render(tree)) == tree


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=2**32))
def test_render_round_trips_generated_patterns(seed: int) -> None:
    tree = parse(Patterns(seed).valid())
    assert parse(render(tree)) == tree


_SCALARS = (st.text() | st.integers() | st.booleans()
            | st.floats(allow_nan=False, allow_infinity=False, min_value=-1e300, max_value=1e300))


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=1), st.lists(st.text(min_size=1) | st.integers(min_value=0) | st.just(STAR), max_size=4),
       st.sampled_from(["=", "!=", "IN", "LIKE"]), st.booleans(), _SCALARS, st.lists(_SCALARS, max_size=3))
def test_render_round_trips_any_literal_and_key(first: str, rest: list[str | int], op: str, negated: bool,
                                                value: str | int | float | bool, values: list[str]) -> None:
    literal = tuple(values) if op == "IN" else (value if op != "LIKE" or type(value) is str else str(value))
    tree = Observation(Comparison("x-type", (first, *rest), op, negated, literal))
    assert parse(render(tree)) == tree
