"""The parsed pattern: immutable, hashable nodes, so a tree can be cached and compared.

Parentheses around observation expressions are kept (``Group``): the oracle treats a qualifier
repeated on ``[...]`` and on ``(...)`` differently, so the tree must tell them apart. Parentheses
inside a comparison expression carry no meaning and are not kept; ``AND`` and ``OR`` chains are
flattened into one node with every operand.

Nodes are named tuples: ingest builds a dozen for an ``OR`` list, and a named tuple is made for
about a sixth of the work of a frozen dataclass (whose ``__init__`` goes through
``object.__setattr__`` for every field), one of the larger costs of ``exchange import``
(decision 0009). Equality also compares the node type (``_same``), so ``ComparisonAnd(x)`` is
not ``ComparisonOr(x)`` and ``Hex('ab')`` is neither ``Binary('ab')`` nor ``('ab',)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple, Union


@dataclass(frozen=True, slots=True)
class Star:
    """The ``[*]`` list index: any element."""


STAR = Star()


class Hex(NamedTuple):
    digits: str  # as written between h'...', an even number of hexadecimal digits


class Binary(NamedTuple):
    base64: str  # as written between b'...'


class Timestamp(NamedTuple):
    text: str  # as written between t'...'


Scalar = Union[str, int, float, bool, Hex, Binary, Timestamp]  # noqa: UP007 - a runtime alias
Value = Union[Scalar, tuple[Scalar, ...], None]  # noqa: UP007 - a tuple for IN, None for EXISTS
Step = Union[str, int, Star]  # noqa: UP007 - a key, a list index, or [*]


class Comparison(NamedTuple):
    object_type: str
    path: tuple[Step, ...]  # the first step is always a key
    op: str  # = != < <= > >= IN LIKE MATCHES ISSUBSET ISSUPERSET EXISTS (== and <> read as = and !=)
    negated: bool
    value: Value


class ComparisonAnd(NamedTuple):
    operands: tuple[ComparisonExpression, ...]


class ComparisonOr(NamedTuple):
    operands: tuple[ComparisonExpression, ...]


ComparisonExpression = Union[Comparison, ComparisonAnd, ComparisonOr]  # noqa: UP007


class Within(NamedTuple):
    seconds: int | float


class Repeats(NamedTuple):
    times: int


class StartStop(NamedTuple):
    start: Timestamp
    stop: Timestamp


Qualifier = Union[Within, Repeats, StartStop]  # noqa: UP007


class Observation(NamedTuple):
    """``[ comparison expression ]``: one observed object matches."""

    expression: ComparisonExpression


class Group(NamedTuple):
    """``( observation expression )``."""

    expression: ObservationExpression


class Qualified(NamedTuple):
    expression: ObservationExpression
    qualifier: Qualifier


class ObservationAnd(NamedTuple):
    operands: tuple[ObservationExpression, ...]


class ObservationOr(NamedTuple):
    operands: tuple[ObservationExpression, ...]


class FollowedBy(NamedTuple):
    operands: tuple[ObservationExpression, ...]


ObservationExpression = Union[Observation, Group, Qualified, ObservationAnd, ObservationOr,  # noqa: UP007
                              FollowedBy]


def _same(self: Any, other: object) -> bool:
    return type(self) is type(other) and tuple.__eq__(self, other)  # type: ignore[operator]


def _different(self: Any, other: object) -> bool:
    return not _same(self, other)


for _node in (Hex, Binary, Timestamp, Comparison, ComparisonAnd, ComparisonOr, Within, Repeats, StartStop,
              Observation, Group, Qualified, ObservationAnd, ObservationOr, FollowedBy):
    _node.__eq__ = _same  # type: ignore[method-assign]
    _node.__ne__ = _different  # type: ignore[method-assign]
    _node.__hash__ = tuple.__hash__  # type: ignore[method-assign]


def comparisons(node: ObservationExpression | ComparisonExpression) -> list[Comparison]:
    """Every comparison leaf, in pattern order (iterative: depth is bounded by the parser, but a
    flat walk is cheaper than recursion on the hot path)."""
    found: list[Comparison] = []
    stack: list[ObservationExpression | ComparisonExpression] = [node]
    while stack:
        item = stack.pop()
        if type(item) is Comparison:
            found.append(item)
        elif type(item) in (Observation, Group, Qualified):
            stack.append(item.expression)  # type: ignore[union-attr]
        else:
            stack.extend(reversed(item.operands))  # type: ignore[union-attr]
    return found


def observations(node: ObservationExpression) -> list[Observation]:
    """Every ``[…]`` of a pattern, in pattern order."""
    found: list[Observation] = []
    stack: list[ObservationExpression] = [node]
    while stack:
        item = stack.pop()
        if type(item) is Observation:
            found.append(item)
        elif type(item) is Group or type(item) is Qualified:
            stack.append(item.expression)
        else:
            stack.extend(reversed(item.operands))  # type: ignore[union-attr]
    return found
