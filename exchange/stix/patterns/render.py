"""A tree back to pattern text, in one canonical spelling (single spaces, ``=`` and ``!=``, keys
quoted only when they must be). ``parse(render(tree)) == tree`` is a property test."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Final

from exchange.stix.patterns.lexer import KEYWORDS
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
    ObservationOr,
    Qualified,
    Qualifier,
    Repeats,
    Star,
    Step,
    Timestamp,
    Value,
    Within,
)

_BARE_KEY: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_JOINERS: Final[dict[type, str]] = {ObservationAnd: " AND ", ObservationOr: " OR ", FollowedBy: " FOLLOWEDBY "}


def render(node: ObservationExpression | ComparisonExpression) -> str:
    kind = type(node)
    if kind is Comparison:
        return _comparison(node)  # type: ignore[arg-type]
    if kind is ComparisonAnd:
        return " AND ".join(f"({render(o)})" if type(o) is ComparisonOr else render(o)
                            for o in node.operands)  # type: ignore[union-attr]
    if kind is ComparisonOr:
        return " OR ".join(render(o) for o in node.operands)  # type: ignore[union-attr]
    if kind is Observation:
        return f"[{render(node.expression)}]"  # type: ignore[union-attr]
    if kind is Group:
        return f"({render(node.expression)})"  # type: ignore[union-attr]
    if kind is Qualified:
        return f"{render(node.expression)} {qualifier(node.qualifier)}"  # type: ignore[union-attr]
    return _JOINERS[kind].join(render(o) for o in node.operands)  # type: ignore[union-attr]


def qualifier(q: Qualifier) -> str:
    if type(q) is Within:
        return f"WITHIN {number(q.seconds)} SECONDS"
    if type(q) is Repeats:
        return f"REPEATS {q.times} TIMES"
    return f"START {literal(q.start)} STOP {literal(q.stop)}"  # type: ignore[union-attr]


def path(object_type: str, steps: tuple[Step, ...]) -> str:
    parts = [f"{object_type}:{_key(steps[0])}"]  # type: ignore[arg-type]
    for step in steps[1:]:
        if type(step) is str:
            parts.append(f".{_key(step)}")
        else:
            parts.append("[*]" if type(step) is Star else f"[{step}]")
    return "".join(parts)


def literal(value: Value) -> str:
    """A literal as the pattern grammar spells it (a tuple is an ``IN`` set)."""
    kind = type(value)
    if kind is str:
        return string(value)  # type: ignore[arg-type]
    if kind is bool:
        return "true" if value else "false"
    if kind is int or kind is float:
        return number(value)  # type: ignore[arg-type]
    if kind is Timestamp:
        return f"t'{value.text}'"  # type: ignore[union-attr]
    if kind is Hex:
        return f"h'{value.digits}'"  # type: ignore[union-attr]
    if kind is Binary:
        return f"b'{value.base64}'"  # type: ignore[union-attr]
    return "(" + ", ".join(literal(v) for v in value) + ")"  # type: ignore[union-attr]


def string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def number(value: int | float) -> str:
    """Integers as they are; floats in positional notation (the grammar has no exponent)."""
    if type(value) is int:
        return str(value)
    text = format(Decimal(repr(value)), "f")
    return text if "." in text else text + ".0"


def _comparison(c: Comparison) -> str:
    if c.op == "EXISTS":
        return f"EXISTS {path(c.object_type, c.path)}"
    negated = "NOT " if c.negated else ""
    return f"{path(c.object_type, c.path)} {negated}{c.op} {literal(c.value)}"


def _key(key: str) -> str:
    bare = _BARE_KEY.match(key) and key not in KEYWORDS and key not in ("true", "false")
    return key if bare else string(key)
