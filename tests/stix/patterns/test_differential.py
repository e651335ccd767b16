"""The engine against ``stix2-patterns`` (the oracle) on 20,000 valid compound patterns and 20,000
mutated ones: the same verdict on every one (decision 0009 lists the only deliberate differences,
tested one by one in test_engine.py).

The oracle parses about a thousand patterns a second, so this is the slow test of the engine: the
patterns are generated from a fixed seed, split into chunks for pytest-xdist, and run once per CI
run, in the SQLite pass (no database is involved, the PostgreSQL pass would repeat it unchanged).
"""

from __future__ import annotations

from functools import cache

import pytest
from stix2patterns.validator import validate as oracle_validate

from exchange.stix.patterns.errors import PatternError
from exchange.stix.patterns.validate import checked
from tests.conftest import once
from tests.stix.patterns.generate import Patterns

VALID = 20_000
MUTATED = 21_000  # a mutation now and then leaves a valid pattern: at least 20,000 are invalid
CHUNKS = 8
pytestmark = once("no database involved")


@cache
def corpus() -> tuple[tuple[str, ...], tuple[str, ...]]:
    patterns = Patterns(seed=16)
    valid = tuple(patterns.valid() for _ in range(VALID))
    return valid, tuple(patterns.invalid() for _ in range(MUTATED))


def oracle(pattern: str) -> bool:
    try:
        return bool(oracle_validate(pattern, "2.1"))
    except Exception:  # it crashes on a few inputs (a negative list index): a refusal all the same
        return False


def ours(pattern: str) -> bool:
    try:
        checked(pattern)
    except PatternError:
        return False
    return True


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_valid_compound_patterns(chunk: int) -> None:
    valid, _ = corpus()
    wrong = [p for p in valid[chunk::CHUNKS] if not (oracle(p) and ours(p))]
    assert not wrong, f"{len(wrong)} valid patterns refused, e.g. {[(p, oracle(p), ours(p)) for p in wrong[:3]]}"


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_mutated_patterns(chunk: int) -> None:
    _, mutated = corpus()
    verdicts = [(p, oracle(p), ours(p)) for p in mutated[chunk::CHUNKS]]
    wrong = [v for v in verdicts if v[1] != v[2]]
    assert not wrong, f"{len(wrong)} verdicts differ (pattern, oracle, engine), e.g. {wrong[:3]}"
    refused = sum(not theirs for _, theirs, _ in verdicts)
    assert refused >= 20_000 // CHUNKS, f"only {refused} of this chunk's mutations are invalid"


def test_the_corpus_has_every_feature() -> None:
    """What issue 16 asks the generator to cover, counted (so a change to it cannot drop one)."""
    valid, mutated = corpus()
    text = "\n".join(valid)
    for feature in (" AND ", " OR ", "FOLLOWEDBY", "WITHIN", "REPEATS", " START ", "NOT ", " IN (", " LIKE ",
                    " MATCHES ", " ISSUBSET ", " ISSUPERSET ", "EXISTS ", "t'", "h'", "b'", "[*]", "[0]", "_ref.",
                    ".'SHA-256'", "\\'", "日本語", "((", "/*", "//", "true", "-1", ".5"):
        assert feature in text, feature
    assert len(set(valid)) > 19_000
    assert len(set(mutated)) > 19_000
