"""The shapes most indicators have, read without the tokens and the descent of ``parser``.

Feeds write a single comparison (``[domain-name:value = 'x']``), MISP an ``AND`` of comparisons in
one observation (``[file:name = 'a.exe' AND file:hashes.'SHA-256' = '…']``), OpenCTI and CSIRT
feeds an ``OR`` list of observations (``[ipv4-addr:value = '…'] OR [domain-name:value = '…']``),
and some a qualifier (``… WITHIN 600 SECONDS``, ``REPEATS 3 TIMES``, ``START t'…' STOP t'…'``) or
``FOLLOWEDBY``. Written with single spaces, without parentheses or comments, such a pattern is
read here with one regular expression per comparison: for an ``OR`` list of ten values about a
fifth of the work of the lexer and parser, which made those lists the slowest shape of ``exchange
import`` (decision 0009).

``read`` returns the tree the parser would build, or None for anything else (another layout,
``IN``, ``NOT``, ordering operators, parentheses, comments, a keyword used as a name …), which the
parser then reads or refuses. It never refuses: every text it accepts is in the grammar (what the
grammar accepts but the specification's other rules refuse, ``validate`` refuses in both cases).
Tests compare it with the parser on the generated corpus of the differential test and on the
benchmark shapes.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final

from exchange.stix.patterns.lexer import BINARY, KEYWORDS, TIMESTAMP
from exchange.stix.patterns.tree import (
    Binary,
    Comparison,
    ComparisonAnd,
    ComparisonExpression,
    ComparisonOr,
    FollowedBy,
    Hex,
    Observation,
    ObservationAnd,
    ObservationExpression,
    ObservationOr,
    Qualified,
    Qualifier,
    Repeats,
    Scalar,
    StartStop,
    Step,
    Timestamp,
    Within,
)

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_PATH = rf"([A-Za-z_][A-Za-z0-9_-]*):({_NAME}(?:\.(?:{_NAME}|'[^'\\]*'))*)"
_OPS = r"(=|!=|LIKE|MATCHES|ISSUBSET|ISSUPERSET)"
# ``[type:path op 'literal']``: one match, the most common observation of all.
_SIMPLE: Final = re.compile(rf"\[{_PATH} {_OPS} '([^'\\]*)'\]")
# One comparison of a longer pattern: a string literal may hold \' and \\ (the lexer's string
# token); ``=`` and ``!=`` also take a non-negative integer and the h'…', b'…' and t'…' literals.
_COMPARISON: Final = re.compile(
    rf"{_PATH} {_OPS} (?:'([^'\\]*(?:\\['\\][^'\\]*)*)'|(0|[1-9][0-9]*)(?=[] ])"
    rf"|h'((?:[0-9A-Fa-f]{{2}})*)'|(?={BINARY})b'([^']*)'|(?={TIMESTAMP})t'([^']*)')")
# What may follow ``]``: a qualifier (its number read as the lexer reads it, without a sign).
_QUALIFIER: Final = re.compile(
    rf" (?:WITHIN (?:(0|[1-9][0-9]*)|([0-9]*\.[0-9]+)) SECONDS|REPEATS (0|[1-9][0-9]*) TIMES"
    rf"|START (?={TIMESTAMP})t'([^']*)' STOP (?={TIMESTAMP})t'([^']*)')(?=[ ]|\Z)")
_STEP: Final = re.compile(rf"({_NAME})|'([^'\\]*)'")
_NOT_NAMES: Final = KEYWORDS | {"true", "false"}
_QUALIFIER_STARTS: Final = (" WITHIN ", " REPEATS ", " START ")
_CHAINS: Final[dict[str, type[ObservationAnd | ObservationOr | FollowedBy]]] = {
    "AND": ObservationAnd, "OR": ObservationOr, "FOLLOWEDBY": FollowedBy}
_TIGHTER: Final = {"FOLLOWEDBY": "OR", "OR": "AND"}


def read(text: str) -> ObservationExpression | None:
    """The tree of ``text`` when it has one of the shapes above, else None."""
    # The observations with their qualifiers, and the operator before each one after the first.
    operands: list[ObservationExpression] = []
    joins: list[str] = []
    pos, end = 0, len(text)
    simple = _SIMPLE.match
    while True:
        m = simple(text, pos)
        expression: ObservationExpression
        if m is not None:
            object_type, path, op, value = m.groups()
            steps = _steps(object_type, path)
            if steps is None:
                return None
            expression, pos = Observation(Comparison(object_type, steps, op, False, value)), m.end()
        else:
            observation = _observation(text, pos + 1) if text.startswith("[", pos) else None
            if observation is None:
                return None
            expression, pos = observation
        while text.startswith(_QUALIFIER_STARTS, pos):
            qualifier = _qualifier(text, pos)
            if qualifier is None:
                return None
            expression = Qualified(expression, qualifier[0])
            pos = qualifier[1]
        operands.append(expression)
        if pos == end:
            break
        if text.startswith(" OR [", pos):
            joins.append("OR")
            pos += 4
        elif text.startswith(" AND [", pos):
            joins.append("AND")
            pos += 5
        elif text.startswith(" FOLLOWEDBY [", pos):
            joins.append("FOLLOWEDBY")
            pos += 12
        else:
            return None
    if not joins:
        return operands[0]
    if joins.count(joins[0]) == len(joins):  # one operator throughout: one node
        return _CHAINS[joins[0]](tuple(operands))
    followed = _split(operands, joins, "FOLLOWEDBY")
    return followed[0] if len(followed) == 1 else FollowedBy(tuple(followed))


def _observation(text: str, pos: int) -> tuple[ObservationExpression, int] | None:
    """``comparison { AND|OR comparison } ]`` from ``pos`` (just after ``[``): the observation and
    the position after its ``]``."""
    terms: list[ComparisonExpression] = []  # AND chains, joined by OR
    found: list[ComparisonExpression] = []  # the current AND chain
    match = _COMPARISON.match
    while True:
        m = match(text, pos)
        if m is None:
            return None
        object_type, path, op, string, number, hex_digits, base64, timestamp = m.groups()
        value: Scalar
        if string is not None:
            value = string.replace("\\'", "'").replace("\\\\", "\\") if "\\" in string else string
        elif op != "=" and op != "!=":
            return None
        elif number is not None:
            value = int(number)
        elif hex_digits is not None:
            value = Hex(hex_digits)
        else:
            value = Binary(base64) if base64 is not None else Timestamp(timestamp)
        steps = _steps(object_type, path)
        if steps is None:
            return None
        found.append(Comparison(object_type, steps, op, False, value))
        pos = m.end()
        if text.startswith(" AND ", pos):
            pos += 5
            continue
        terms.append(found[0] if len(found) == 1 else ComparisonAnd(tuple(found)))
        if text.startswith(" OR ", pos):
            found = []
            pos += 4
            continue
        if text[pos:pos + 1] != "]":
            return None
        return Observation(terms[0] if len(terms) == 1 else ComparisonOr(tuple(terms))), pos + 1


def _qualifier(text: str, pos: int) -> tuple[Qualifier, int] | None:
    m = _QUALIFIER.match(text, pos)
    if m is None:
        return None
    integer, decimal, times, start, stop = m.groups()
    qualifier: Qualifier
    if integer is not None:
        qualifier = Within(int(integer))
    elif decimal is not None:
        qualifier = Within(float(decimal))
    elif times is not None:
        qualifier = Repeats(int(times))
    else:
        qualifier = StartStop(Timestamp(start), Timestamp(stop))
    return qualifier, m.end()


def _split(operands: list[ObservationExpression], joins: list[str], keyword: str) -> list[ObservationExpression]:
    """The operands of a ``keyword`` chain in ``a op b op c …``, each the tree of the tighter
    operators between (the parser's nodes: ``FOLLOWEDBY`` binds loosest, then ``OR``, then ``AND``)."""
    tighter = _TIGHTER.get(keyword)
    parts: list[ObservationExpression] = []
    start = 0
    for i, join in enumerate([*joins, keyword]):
        if join != keyword:
            continue
        part_operands, part_joins = operands[start:i + 1], joins[start:i]
        if tighter is None or not part_joins:
            parts.append(part_operands[0])
        else:
            inner = _split(part_operands, part_joins, tighter)
            parts.append(inner[0] if len(inner) == 1 else _CHAINS[tighter](tuple(inner)))
        start = i + 1
    return parts


@lru_cache(maxsize=1024)
def _steps(object_type: str, path: str) -> tuple[Step, ...] | None:
    """The steps of ``path``, or None when a name is a keyword (the lexer makes it one, not a name).
    Cached: a feed uses a handful of paths."""
    steps = _STEP.findall(path)
    if object_type in _NOT_NAMES or any(name in _NOT_NAMES for name, _ in steps):
        return None
    return tuple(name or key for name, key in steps)
