"""The parsed pattern: frozen, slotted, hashable nodes, so a tree can be cached and compared.

Parentheses around observation expressions are kept (``Group``): the oracle treats a qualifier
repeated on ``[...]`` and on ``(...)`` differently, so the tree must tell them apart. Parentheses
inside a comparison expression carry no meaning and are not kept; ``AND`` and ``OR`` chains are
flattened into one node with every operand.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union


@dataclass(frozen=True, slots=True)
class Star:
    """The ``[*]`` list index: any element."""


STAR = Star()


@dataclass(frozen=True, slots=True)
class Hex:
    digits: str  # as written between h'...', an even number of hexadecimal digits


@dataclass(frozen=True, slots=True)
class Binary:
    base64: str  # as written between b'...'


@dataclass(frozen=True, slots=True)
class Timestamp:
    text: str  # as written between t'...'


Scalar = Union[str, int, float, bool, Hex, Binary, Timestamp]  # noqa: UP007 - a runtime alias
Value = Union[Scalar, tuple[Scalar, ...], None]  # noqa: UP007 - a tuple for IN, None for EXISTS
Step = Union[str, int, Star]  # noqa: UP007 - a key, a list index, or [*]


@dataclass(frozen=True, slots=True)
class Comparison:
    object_type: str
    path: tuple[Step, ...]  # the first step is always a key
    op: str  # = != < <= > >= IN LIKE MATCHES ISSUBSET ISSUPERSET EXISTS (== and <> read as = and !=)
    negated: bool
    value: Value


@dataclass(frozen=True, slots=True)
class ComparisonAnd:
    operands: tuple[ComparisonExpression, ...]


@dataclass(frozen=True, slots=True)
class ComparisonOr:
    operands: tuple[ComparisonExpression, ...]


ComparisonExpression = Union[Comparison, ComparisonAnd, ComparisonOr]  # noqa: UP007


@dataclass(frozen=True, slots=True)
class Within:
    seconds: int | float


@dataclass(frozen=True, slots=True)
class Repeats:
    times: int


@dataclass(frozen=True, slots=True)
class StartStop:
    start: Timestamp
    stop: Timestamp


Qualifier = Union[Within, Repeats, StartStop]  # noqa: UP007


@dataclass(frozen=True, slots=True)
class Observation:
    """``[ comparison expression ]``: one observed object matches."""

    expression: ComparisonExpression


@dataclass(frozen=True, slots=True)
class Group:
    """``( observation expression )``."""

    expression: ObservationExpression


@dataclass(frozen=True, slots=True)
class Qualified:
    expression: ObservationExpression
    qualifier: Qualifier


@dataclass(frozen=True, slots=True)
class ObservationAnd:
    operands: tuple[ObservationExpression, ...]


@dataclass(frozen=True, slots=True)
class ObservationOr:
    operands: tuple[ObservationExpression, ...]


@dataclass(frozen=True, slots=True)
class FollowedBy:
    operands: tuple[ObservationExpression, ...]


ObservationExpression = Union[Observation, Group, Qualified, ObservationAnd, ObservationOr,  # noqa: UP007
                              FollowedBy]


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
