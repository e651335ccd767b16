"""The flat reader (``patterns.flat``) against the parser: the same tree wherever it reads a pattern,
and it does read the shapes it is there for.

A trailing space sends any pattern through the tokens and the descent (the flat reader wants the
text to end where the pattern does), so ``parse(p + " ")`` is the parser's answer on ``p``.
"""

from __future__ import annotations

import pytest

from exchange.bench.data import indicators
from exchange.stix.patterns.errors import PatternError
from exchange.stix.patterns.flat import read
from exchange.stix.patterns.parser import parse
from tests.stix.patterns.generate import Patterns


def _same_answer(pattern: str) -> bool:
    """Both ways give the same tree, or both refuse."""
    try:
        tree = parse(pattern)
    except PatternError:
        with pytest.raises(PatternError):
            parse(pattern + " ")
        return True
    return tree == parse(pattern + " ")


def test_the_flat_reader_agrees_with_the_parser_on_the_generated_corpus() -> None:
    patterns = Patterns(seed=7)
    corpus = [patterns.valid() for _ in range(3000)] + [patterns.invalid() for _ in range(3000)]
    read_flat = [p for p in corpus if read(p) is not None]
    assert len(read_flat) > 10  # a few flat ones among the compound shapes; the feed shapes are below
    assert [p for p in corpus if not _same_answer(p)] == []


@pytest.mark.parametrize("shape", ["simple", "single", "and", "or"])
def test_the_feed_shapes_are_read_flat_and_as_the_parser_reads_them(shape: str) -> None:
    patterns = [obj["pattern"] for obj in indicators(500, seed=3, shape=shape)]
    flat = [p for p in patterns if read(p) is not None]
    assert [p for p in patterns if p not in flat and "MATCHES" not in p] == []
    assert all(read(p) == parse(p + " ") for p in flat)


@pytest.mark.parametrize("pattern", [
    "[a:b = 'x'] OR [c:d = 'it\\'s' AND e:f = 443]",
    "[a:b = 'x' AND c:d != 0] OR [e:i.'g h' LIKE '%.example'] OR [j:k ISSUBSET '10.0.0.0/8']",
    "[a:b = 'back\\\\slash'] OR [c:d = '']",
])
def test_the_flat_shapes(pattern: str) -> None:
    assert read(pattern) is not None
    assert _same_answer(pattern)


@pytest.mark.parametrize("pattern", [
    "[a:b = 'x']  OR [c:d = 'y']", "[a:b = 'x'] or [c:d = 'y']", "[a:b = 'x'] OR [c:d = 'y'] ",
    "[a:b LIKE 5]", "[a:b = 0443]", "[a:b = -1]", "[a:b = 1.5]", "[a:b = 'x'] AND [c:d = 'y']",
    "[a:b = 'x' OR c:d = 'y']", "[AND:b = 'x'] OR [c:d = 'y']", "[a:true = 'x' AND c:d = 'y']",
    "[a:b = 'x'] OR [c:d = 'y'] WITHIN 5 SECONDS", "[a:b = 'x'] OR", "[a:b = 'x'] OR [c:d = 'y'",
    "[a:b = 'x\\q'] OR [c:d = 'y']", "[a:b[0] = 'x'] OR [c:d = 'y']", "[a:b NOT = 'x'] OR [c:d = 'y']",
])
def test_other_layouts_are_left_to_the_parser(pattern: str) -> None:
    assert read(pattern) is None
    assert _same_answer(pattern)
