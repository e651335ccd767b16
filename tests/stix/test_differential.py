"""Our verdicts against ``stix2.parse(obj, allow_custom=True)`` on the whole corpus.

The requirement (docs/decisions/0002-validation.md): whatever stix2 rejects we reject; whatever it
accepts we accept, unless a documented STIX 2.1 rule (``strict.STRICT_RULES``) forbids it. On top
of that each corpus case states the verdict it was built for (see ``corpus``), so a rule that
fires on valid content, or stops firing, fails here too. The corpus is split into chunks so
pytest-xdist spreads the stix2 parsing over the workers.
"""

from __future__ import annotations

import copy
import warnings
from collections import Counter
from typing import Any

import pytest
import stix2

from exchange.stix import fastpath, strict
from exchange.stix.strict import STRICT_RULES
from exchange.stix.validate import check
from tests.stix.corpus import INVALID, REJECT, VALID, Case, corpus

CHUNKS = 12
LISTED_TYPES = {
    "indicator", "malware", "vulnerability", "report", "identity", "attack-pattern", "course-of-action",
    "note", "sighting", "relationship", "marking-definition", "domain-name", "ipv4-addr", "ipv6-addr", "url",
    "email-addr", "file",
}  # fmt: skip


def stix2_error(obj: dict[str, Any]) -> str | None:
    """stix2's verdict: None when it parses, else the exception it raised."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. STIXDeprecationWarning for observed-data objects
            stix2.parse(copy.deepcopy(obj), allow_custom=True)
    except Exception as exc:  # any failure inside stix2 is its verdict on the object
        return f"{type(exc).__name__}: {exc}"[:300]
    return None


def _problem(case: Case) -> str | None:
    """What is wrong with our verdict on ``case``, or None."""
    theirs = stix2_error(case.obj)
    ours = check(copy.deepcopy(case.obj))
    if theirs is not None and ours is None:
        return f"stix2 rejects ({theirs}) but we accept"
    if theirs is None and ours is not None and (ours.source != "spec" or ours.code not in STRICT_RULES):
        return f"stix2 accepts but we reject without a strict rule: {ours}"
    if case.expect == VALID and (theirs is not None or ours is not None):
        return f"valid by construction, yet stix2: {theirs}, we: {ours}"
    if case.expect == INVALID and theirs is None:
        return "built to be invalid, but stix2 accepts it"
    if case.expect not in (VALID, INVALID, REJECT):
        if theirs is not None:
            return f"built to test rule {case.expect} on stix2-valid content, but stix2 rejects: {theirs}"
        if ours is None or ours.code != case.expect:
            return f"breaks rule {case.expect}, but our verdict is {ours}"
    return None


def _report(failures: list[str]) -> str:
    return f"{len(failures)} wrong verdicts, e.g.:\n" + "\n".join(failures[:15])


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_verdicts_agree_with_stix2(chunk: int) -> None:
    failures = []
    for case in corpus()[chunk::CHUNKS]:
        problem = _problem(case)
        if problem is not None:
            failures.append(f"{case.label}: {problem}\n    {case.obj}")
    assert not failures, _report(failures)


@pytest.mark.parametrize("chunk", range(CHUNKS // 4))
def test_fast_path_accepts_only_valid_objects(chunk: int) -> None:
    """Guards the accept-only fast path: what it accepts, stix2 and the strict rules accept too."""
    failures = []
    for case in corpus()[chunk :: CHUNKS // 4]:
        if not fastpath.accepts(copy.deepcopy(case.obj)):
            continue
        theirs, ours = stix2_error(case.obj), strict.violation(copy.deepcopy(case.obj))
        if theirs is not None or ours is not None:
            failures.append(f"{case.label}: fast path accepts; stix2: {theirs}; strict: {ours}\n    {case.obj}")
    assert not failures, _report(failures)


def test_corpus_is_large_and_deterministic() -> None:
    """Counts by construction; test_verdicts_agree_with_stix2 proves stix2 agrees with each label."""
    expect = Counter(case.expect for case in corpus())
    stix2_valid = expect[VALID] + sum(n for code, n in expect.items() if code in STRICT_RULES)
    assert expect[VALID] >= 3000
    assert stix2_valid >= 3000
    assert expect[INVALID] >= 3000
    assert set(expect) - {VALID, INVALID, REJECT} <= STRICT_RULES.keys()
    assert repr(corpus.__wrapped__()) == repr(corpus())  # same seed, same cases (repr: NaN != NaN)


def test_every_listed_type_and_some_custom_ones_are_valid_cases() -> None:
    types = {case.obj["type"] for case in corpus() if case.expect == VALID}
    assert types >= LISTED_TYPES
    assert {"x-acme-campaign-note", "x-acme-sensor", "x-mitre-tactic"} <= types


def test_every_strict_rule_fires_on_the_corpus() -> None:
    fired: Counter[str] = Counter()
    for case in corpus():
        rejection = strict.violation(copy.deepcopy(case.obj))
        if rejection is not None:
            fired[rejection.code] += 1
    assert set(STRICT_RULES) - set(fired) == set(), f"rules that never fire: {set(STRICT_RULES) - set(fired)}"
