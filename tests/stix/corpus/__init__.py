"""A deterministic corpus of STIX 2.1 objects for the validation differential tests.

``corpus()`` returns the same cases on every call and every machine (one seeded
``random.Random``): valid objects of every common type and, derived from them, single-fault
mutations. Each case says what the verdicts must be:

* ``VALID``   - stix2 accepts it and so must we;
* ``INVALID`` - stix2 rejects it, so we must reject it too;
* ``REJECT``  - we must reject it; stix2's verdict depends on details (spec_version "2.0" makes it
  parse the object as STIX 2.0, for example);
* a ``STRICT_RULES`` code - stix2 accepts it although the specification forbids it, and our
  rejection must carry exactly that rule code.

Many indicators have the shape of ``/work/shared/tools/gen_stix.py`` (the fast path's target), and
so do many mutations, so a fast path that accepts too much shows up here.
"""

from __future__ import annotations

import random
from functools import cache

from tests.stix.corpus.gen import INVALID, REJECT, SEED, VALID, Case, Gen
from tests.stix.corpus.mutations import mutations
from tests.stix.corpus.valid import valid_objects

__all__ = ["INVALID", "REJECT", "VALID", "Case", "corpus"]


@cache
def corpus() -> tuple[Case, ...]:
    g = Gen(random.Random(SEED))
    objects = valid_objects(g)
    cases = [Case(f"valid/{obj['type']}/{i}", obj, VALID) for i, obj in enumerate(objects)]
    cases.extend(mutations(objects, g))
    return tuple(cases)
