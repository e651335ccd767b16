"""The verdict on a pattern: the grammar (``parser``) plus the rules ``stix2-patterns`` applies for
STIX 2.1 after parsing, so that whatever it refuses we refuse too (decision 0009 lists each rule
and the few places where we refuse more).

``checked`` is cached: on ingest the fast path validates a pattern and observable extraction then
reads the same tree, so each pattern is parsed once.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final

from exchange.stix.patterns.errors import PatternError
from exchange.stix.patterns.parser import parse
from exchange.stix.patterns.render import literal
from exchange.stix.patterns.tree import (
    Comparison,
    Group,
    Observation,
    ObservationExpression,
    Qualified,
    Star,
    comparisons,
)

_HEX = "[0-9a-fA-F]"
# Hash algorithms the oracle checks, by name upper-cased without hyphens and quotes, and the
# values it takes. MD6 and the trailing new line are the deliberate differences (decision 0009).
_HASH_VALUES: Final = {
    name: re.compile(rx) for name, rx in {
        "MD5": f"{_HEX}{{32}}", "MD6": f"(?:{_HEX}{{32}}|{_HEX}{{40}}|{_HEX}{{56}}|{_HEX}{{64}}|{_HEX}{{96}}"
        f"|{_HEX}{{128}})", "RIPEMD160": f"{_HEX}{{40}}", "SHA1": f"{_HEX}{{40}}", "SHA224": f"{_HEX}{{56}}",
        "SHA256": f"{_HEX}{{64}}", "SHA384": f"{_HEX}{{96}}", "SHA512": f"{_HEX}{{128}}",
        "SHA3224": f"{_HEX}{{56}}", "SHA3256": f"{_HEX}{{64}}", "SHA3384": f"{_HEX}{{96}}",
        "SHA3512": f"{_HEX}{{128}}", "SSDEEP": "[a-zA-Z0-9/+:.]{1,128}", "WHIRLPOOL": f"{_HEX}{{128}}",
    }.items()
}
_QUALIFIER_NAMES: Final = {"Within": "WITHIN", "Repeats": "REPEATS", "StartStop": "START/STOP"}


@lru_cache(maxsize=4096)
def checked(text: str) -> ObservationExpression:
    """The tree of a valid STIX 2.1 pattern; ``PatternError`` says why a pattern is not one."""
    _brackets_first(text)
    tree = parse(text)
    message = problem(tree)
    if message is not None:
        raise PatternError(message)
    return tree


def problem(tree: ObservationExpression) -> str | None:
    """What is wrong with a tree the grammar accepts, or None."""
    for c in comparisons(tree):
        message = _comparison_problem(c)
        if message is not None:
            return message
    return _repeated_qualifier(tree)


def _brackets_first(text: str) -> None:
    """The oracle refuses a pattern whose first character after opening parentheses and white
    space is not ``[`` (so a leading comment too)."""
    for c in text:
        if c != "(" and not c.isspace():
            if c != "[":
                raise PatternError("a pattern starts with '[' (after any '(')", text.index(c))
            return
    raise PatternError("a pattern has at least one [observation]")


def _comparison_problem(c: Comparison) -> str | None:
    steps = c.path
    for step in steps:
        if type(step) is int and step < 0:
            return f"list index {step} in {c.object_type}:…: an index is 0 or more, or *"
    if c.op == "EXISTS" or "hashes" not in steps:
        return None
    algorithm = steps[-1]
    if type(algorithm) is Star:
        return None
    if type(algorithm) is int:
        return f"{c.object_type}: a hashes path ends with an algorithm name, not the index [{algorithm}]"
    rule = _HASH_VALUES.get(algorithm.upper().replace("-", "").replace("'", ""))  # type: ignore[union-attr]
    # The oracle reads the literal as written, quotes removed: an IN set or an h'…' is never a hash.
    if rule is not None and rule.fullmatch(literal(c.value).replace("'", "")) is None:
        return f"{literal(c.value)[:80]} is not a valid {algorithm} hash"
    return None


def _repeated_qualifier(tree: ObservationExpression) -> str | None:
    """Two qualifiers of one kind directly on one ``[…]`` are refused; on a ``(…)`` they are not."""
    stack: list[ObservationExpression] = [tree]
    while stack:
        node = stack.pop()
        if type(node) is Qualified:
            kinds: set[str] = set()
            base: ObservationExpression = node
            while type(base) is Qualified:
                kinds_before = len(kinds)
                kinds.add(type(base.qualifier).__name__)
                if len(kinds) == kinds_before and _base(base) is not None:
                    return f"the {_QUALIFIER_NAMES[type(base.qualifier).__name__]} qualifier twice on one observation"
                base = base.expression
            stack.append(base)
        elif type(node) is Group:
            stack.append(node.expression)
        elif type(node) is not Observation:
            stack.extend(node.operands)  # type: ignore[union-attr]
    return None


def _base(node: ObservationExpression) -> Observation | None:
    """The ``[…]`` a chain of qualifiers applies to, None when it applies to a ``(…)``."""
    while type(node) is Qualified:
        node = node.expression
    return node if type(node) is Observation else None
