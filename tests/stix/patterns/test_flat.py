"""The flat reader (``patterns.flat``) against the parser: the same tree wherever it reads a pattern,
and it does read the shapes it is there for.

A trailing space sends any pattern through the tokens and the descent (the flat reader wants the
text to end where the pattern does), so ``parse(p + " ")`` is the parser's answer on ``p``.
"""

from __future__ import annotations

import random

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


@pytest.mark.parametrize("shape", ["simple", "single", "and", "or", "qualified"])
def test_the_feed_shapes_are_read_flat_and_as_the_parser_reads_them(shape: str) -> None:
    patterns = [obj["pattern"] for obj in indicators(500, seed=3, shape=shape)]
    flat = [p for p in patterns if read(p) is not None]
    assert [p for p in patterns if p not in flat and "MATCHES" not in p] == []
    assert all(read(p) == parse(p + " ") for p in flat)


@pytest.mark.parametrize("pattern", [
    "[a:b = 'x'] OR [c:d = 'it\\'s' AND e:f = 443]",
    "[a:b = 'x' AND c:d != 0] OR [e:i.'g h' LIKE '%.example'] OR [j:k ISSUBSET '10.0.0.0/8']",
    "[a:b = 'back\\\\slash'] OR [c:d = '']",
    "[a:b = 'x'] AND [c:d = 'y']", "[a:b = 'x' OR c:d = 'y' AND e:f = 1]",
    "[a:b = 'x'] OR [c:d = 'y'] WITHIN 5 SECONDS",
    "[a:b = 'x'] REPEATS 3 TIMES WITHIN 1.5 SECONDS FOLLOWEDBY [c:d = 'y'] OR [e:f = 'z'] AND [g:h = 'w']",
    "[a:b = 'x'] START t'2024-01-01T00:00:00Z' STOP t'2024-12-31T23:59:59.999Z'",
    "[a:b = h'0aFF' AND c:d != b'AAECAw=='] FOLLOWEDBY [e:f = t'2024-02-29T00:00:00Z'] WITHIN 0 SECONDS",
    "[a:b = 'x'] AND [c:d = 'y'] OR [e:f = 'z'] FOLLOWEDBY [g:h = 'w'] AND [i:j = 'v']",
])
def test_the_flat_shapes(pattern: str) -> None:
    assert read(pattern) is not None
    assert _same_answer(pattern)


@pytest.mark.parametrize("pattern", [
    "[a:b = 'x']  OR [c:d = 'y']", "[a:b = 'x'] or [c:d = 'y']", "[a:b = 'x'] OR [c:d = 'y'] ",
    "[a:b LIKE 5]", "[a:b = 0443]", "[a:b = -1]", "[a:b = 1.5]", "[a:b LIKE h'00']", "[a:b = h'0']",
    "[a:b = b'AAE']", "[a:b = t'2024-13-01T00:00:00Z']", "[a:b = 'x'] WITHIN -5 SECONDS",
    "[a:b = 'x'] WITHIN 05 SECONDS", "[a:b = 'x'] WITHIN 5 SECONDSX", "[a:b = 'x'] REPEATS 1.5 TIMES",
    "[a:b = 'x'] START t'2024-01-01T00:00:00Z'", "[a:b = 'x'] WITHIN 5 SECONDS ", "[a:b = 'x'] OR ([c:d = 'y'])",
    "[AND:b = 'x'] OR [c:d = 'y']", "[a:true = 'x' AND c:d = 'y']", "[a:b = 'x' OR [c:d = 'y']]",
    "[a:b = 'x'] OR", "[a:b = 'x'] OR [c:d = 'y'", "[a:b = 'x'] FOLLOWEDBY", "[a:b = 'x'] XOR [c:d = 'y']",
    "[a:b = 'x\\q'] OR [c:d = 'y']", "[a:b[0] = 'x'] OR [c:d = 'y']", "[a:b NOT = 'x'] OR [c:d = 'y']",
])
def test_other_layouts_are_left_to_the_parser(pattern: str) -> None:
    assert read(pattern) is None
    assert _same_answer(pattern)


# Pieces of the layouts the flat reader takes, each list valid up to its index, then not.
_PATHS = (["a:b", "domain-name:value", "file:hashes.'SHA-256'", "x-y:z.w"],
          ["AND:b", "a:true", "a:OR", "a:b[0]", "a:'k'"])
_OPS = (["=", "!="], ["LIKE", "MATCHES", "ISSUBSET", "<", "IN", "NOT =", "=="])
_LITERALS = (["'x'", "'it\\'s'", "'a\\\\b'", "0", "443", "h'0aFF'", "h''", "b'AAECAw=='", "b'AAE='",
              "t'2024-01-01T00:00:00Z'"],
             ["'bad\\q'", "0443", "-1", "1.5", "h'0'", "b'AAE'", "t'2024-13-01T00:00:00Z'", "true", "('a', 'b')",
              "'x'x"])
_QUALIFIERS = ([" WITHIN 5 SECONDS", " WITHIN 0.5 SECONDS", " REPEATS 3 TIMES",
                " START t'2024-01-01T00:00:00Z' STOP t'2024-12-31T23:59:59.999Z'"],
               [" WITHIN .5 SECONDS", " WITHIN 05 SECONDS", " WITHIN -1 SECONDS", " REPEATS 1.5 TIMES",
                " START t'2024-01-01T00:00:00Z' STOP t'2024-12-32T00:00:00Z'", " WITHIN 5 SECONDSX", " WITHIN 5"])
_JOINS = ([" AND ", " OR ", " FOLLOWEDBY "], [" XOR ", "  OR ", " OR"])


def _composed(rng: random.Random) -> str:
    """Observations of one to three comparisons with qualifiers, joined by the three operators;
    one piece in fifteen from the invalid or not-flat lists."""
    def pick(pieces: tuple[list[str], list[str]]) -> str:
        return rng.choice(pieces[0] if rng.random() < 0.93 else pieces[1])

    def observation() -> str:
        comparisons = [f"{pick(_PATHS)} {pick(_OPS)} {pick(_LITERALS)}" for _ in range(rng.randint(1, 3))]
        text = "[" + "".join(c + rng.choice((" AND ", " OR ")) for c in comparisons[:-1]) + comparisons[-1] + "]"
        while rng.random() < 0.3:
            text += pick(_QUALIFIERS)
        return text

    return observation() + "".join(pick(_JOINS) + observation() for _ in range(rng.randint(0, 4)))


def test_composed_layouts_are_read_as_the_parser_reads_them() -> None:
    rng = random.Random(16)
    corpus = [_composed(rng) for _ in range(20_000)]
    read_flat = [p for p in corpus if read(p) is not None]
    assert len(read_flat) > 4000
    assert [p for p in read_flat if read(p) != parse(p + " ")] == []
