"""Does a set of observed objects satisfy a pattern? The matching alerts need ("is this domain,
address or hash covered by this indicator?"), on the parsed tree.

Observed objects are SCO-shaped dicts (``{"type": "domain-name", "value": "x.example"}``);
a reference (``dst_ref``) is followed only when the referenced object is embedded as a dict.
Time is not part of the question: qualifiers (``WITHIN``, ``REPEATS``, ``START … STOP``) are not
checked and ``FOLLOWEDBY`` is read as ``AND``, so the answer is "these values could be what the
indicator describes". Semantics (STIX 2.1 section 9): a comparison on a missing property is false,
with or without ``NOT``; ``[*]`` is true when any element is; ``LIKE`` is SQL's (``%`` any run,
``_`` one character, case-sensitive, whole value); ``MATCHES`` is a regular-expression search with
the ``regex`` module, which reads PCRE syntax (atomic groups, possessive quantifiers, ``\\p{…}``)
but not PCRE's verbs or callouts, and stops after ``MATCH_SECONDS`` (a value it could not decide in
time does not match); ``ISSUBSET``/``ISSUPERSET`` compare address ranges.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any, Final

import regex

from exchange.stix.patterns.tree import (
    Binary,
    Comparison,
    ComparisonAnd,
    ComparisonExpression,
    ComparisonOr,
    FollowedBy,
    Group,
    Hex,
    Observation,
    ObservationAnd,
    ObservationExpression,
    Qualified,
    Star,
    Timestamp,
    Value,
)

MATCH_SECONDS: Final = 0.05  # per MATCHES or LIKE test: a catastrophic expression costs no more
MAX_REGEX_LENGTH: Final = 4096
_MISSING: Final = object()
Observed = Mapping[str, Any]


def matches(tree: ObservationExpression, observed: Iterable[Observed]) -> bool:
    """True when the observed objects satisfy the pattern, time aside (see the module)."""
    objects = [o for o in observed if isinstance(o, Mapping)]
    return _observation(tree, objects)


def _observation(node: ObservationExpression, objects: list[Observed]) -> bool:
    if isinstance(node, Observation):
        return any(_comparison(node.expression, o) for o in objects)
    if isinstance(node, Group | Qualified):
        return _observation(node.expression, objects)
    if isinstance(node, ObservationAnd | FollowedBy):
        return all(_observation(o, objects) for o in node.operands)
    return any(_observation(o, objects) for o in node.operands)


def _comparison(node: ComparisonExpression, obj: Observed) -> bool:
    if type(node) is ComparisonAnd:
        return all(_comparison(o, obj) for o in node.operands)
    if type(node) is ComparisonOr:
        return any(_comparison(o, obj) for o in node.operands)
    c: Comparison = node  # type: ignore[assignment]
    if obj.get("type") != c.object_type:
        return False
    values = _resolve(obj, c.path)
    if c.op == "EXISTS":
        return bool(values)
    return any(_test(c.op, value, c.value) != c.negated for value in values)


def _resolve(obj: Observed, path: tuple[Any, ...]) -> list[Any]:
    current: list[Any] = [obj]
    for step in path:
        following: list[Any] = []
        for item in current:
            if type(step) is str:
                value = item.get(step, _MISSING) if isinstance(item, Mapping) else _MISSING
                if value is not _MISSING:
                    following.append(value)
            elif isinstance(item, list):
                if type(step) is Star:
                    following.extend(item)
                elif 0 <= step < len(item):
                    following.append(item[step])
        current = following
    return current


def _test(op: str, observed: Any, literal: Value) -> bool:
    if op == "=" or op == "!=":
        return _equal(observed, literal) == (op == "=")
    if op == "IN":
        return any(_equal(observed, v) for v in literal)  # type: ignore[union-attr]
    if op == "LIKE":
        return type(observed) is str and _search(_like(literal), observed)
    if op == "MATCHES":
        return type(observed) is str and _search(_regex(literal), observed)
    if op == "ISSUBSET" or op == "ISSUPERSET":
        return _subset(observed, literal, op == "ISSUBSET")
    return _ordered(op, observed, literal)


def _plain(literal: Value) -> Any:
    """The literal as an observed JSON value would hold it."""
    if type(literal) is Hex:
        return literal.digits.lower()
    if type(literal) is Binary:
        return literal.base64
    if type(literal) is Timestamp:
        return literal.text
    return literal


def _equal(observed: Any, literal: Value) -> bool:
    expected = _plain(literal)
    if type(literal) is Hex and type(observed) is str:
        return bool(observed.lower() == expected)
    if type(observed) is bool or type(expected) is bool:
        return observed is expected
    return type(observed) in (str, int, float) and bool(observed == expected)


def _ordered(op: str, observed: Any, literal: Value) -> bool:
    expected = _plain(literal)
    numbers = (int, float)
    if not (type(observed) is str and type(expected) is str
            or type(observed) in numbers and type(expected) in numbers):
        return False
    if op == "<":
        return bool(observed < expected)
    if op == "<=":
        return bool(observed <= expected)
    if op == ">":
        return bool(observed > expected)
    return bool(observed >= expected)


def _subset(observed: Any, literal: Value, subset: bool) -> bool:
    if type(observed) is not str or type(literal) is not str:
        return False
    try:
        mine, theirs = ipaddress.ip_network(observed, strict=False), ipaddress.ip_network(literal, strict=False)
    except ValueError:
        return False
    if mine.version != theirs.version:
        return False
    return mine.subnet_of(theirs) if subset else mine.supernet_of(theirs)  # type: ignore[arg-type]


@lru_cache(maxsize=1024)
def _like(pattern: str) -> regex.Pattern[str] | None:
    parts = (".*" if ch == "%" else "." if ch == "_" else regex.escape(ch) for ch in pattern)
    return regex.compile("(?s)\\A" + "".join(parts) + "\\Z")


@lru_cache(maxsize=1024)
def _regex(pattern: str) -> regex.Pattern[str] | None:
    """None for an expression too long or that does not compile: it matches nothing."""
    if len(pattern) > MAX_REGEX_LENGTH:
        return None
    try:
        return regex.compile(pattern)
    except (regex.error, ValueError, OverflowError):
        return None


def _search(compiled: regex.Pattern[str] | None, value: str) -> bool:
    if compiled is None:
        return False
    try:
        return compiled.search(value, timeout=MATCH_SECONDS) is not None
    except TimeoutError:
        return False
