"""The shapes most indicators have, read without the tokens and the descent of ``parser``.

Feeds write a single comparison (``[domain-name:value = 'x']``), MISP an ``AND`` of comparisons in
one observation (``[file:name = 'a.exe' AND file:hashes.'SHA-256' = '…']``), OpenCTI and CSIRT
feeds an ``OR`` list of observations (``[ipv4-addr:value = '…'] OR [domain-name:value = '…']``).
Written with single spaces and plain literals, such a pattern is read here with one regular
expression per comparison: for an ``OR`` list of ten values about a fifth of the work of the
lexer and parser, which made those lists the slowest shape of ``exchange import`` (decision 0009).

``read`` returns the tree the parser would build, or None for anything else (another layout,
other operators, qualifiers, parentheses, comments, a keyword used as a name …), which the parser
then reads or refuses. It never refuses: every text it accepts is in the grammar. Tests compare it
with the parser on the generated corpus of the differential test and on the benchmark shapes.
"""

from __future__ import annotations

import re
from typing import Final

from exchange.stix.patterns.lexer import KEYWORDS
from exchange.stix.patterns.tree import (
    Comparison,
    ComparisonAnd,
    ComparisonExpression,
    Observation,
    ObservationExpression,
    ObservationOr,
    Scalar,
)

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
# ``[type:path op 'literal']``: one match, the most common pattern of all.
_SINGLE: Final = re.compile(
    rf"\[([A-Za-z_][A-Za-z0-9_-]*):({_NAME}(?:\.(?:{_NAME}|'[^'\\]*'))*)"
    r" (=|!=|LIKE|MATCHES|ISSUBSET|ISSUPERSET) '([^'\\]*)'\]\Z")
# One comparison of a longer pattern: a string literal may hold \' and \\ (the lexer's string
# token), ``=`` and ``!=`` also take a non-negative integer.
_COMPARISON: Final = re.compile(
    rf"([A-Za-z_][A-Za-z0-9_-]*):({_NAME}(?:\.(?:{_NAME}|'[^'\\]*'))*)"
    r" (=|!=|LIKE|MATCHES|ISSUBSET|ISSUPERSET) (?:'([^'\\]*(?:\\['\\][^'\\]*)*)'|(0|[1-9][0-9]*)(?=[] ]))")
_STEP: Final = re.compile(rf"({_NAME})|'([^'\\]*)'")
_NOT_NAMES: Final = KEYWORDS | {"true", "false"}


def read(text: str) -> ObservationExpression | None:
    """The tree of ``text`` when it has one of the shapes above, else None."""
    single = _SINGLE.match(text)
    if single is not None:
        object_type, path, op, text_value = single.groups()
        comparison = _comparison(object_type, path, op, text_value)
        return None if comparison is None else Observation(comparison)
    if not text.startswith("[") or not text.endswith("]"):  # e.g. a qualifier at the end: not flat
        return None
    observations: list[ObservationExpression] = []
    pos, end = 1, len(text)
    match = _COMPARISON.match
    while True:
        found: list[ComparisonExpression] = []
        while True:
            m = match(text, pos)
            if m is None:
                return None
            object_type, path, op, string, number = m.groups()
            if number is not None:
                if op != "=" and op != "!=":
                    return None
                value: Scalar = int(number)
            else:
                value = string.replace("\\'", "'").replace("\\\\", "\\") if "\\" in string else string
            comparison = _comparison(object_type, path, op, value)
            if comparison is None:
                return None
            found.append(comparison)
            pos = m.end()
            if not text.startswith(" AND ", pos):
                break
            pos += 5
        if pos >= end or text[pos] != "]":
            return None
        observations.append(Observation(found[0] if len(found) == 1 else ComparisonAnd(tuple(found))))
        pos += 1
        if pos == end:
            return observations[0] if len(observations) == 1 else ObservationOr(tuple(observations))
        if not text.startswith(" OR [", pos):
            return None
        pos += 5


def _comparison(object_type: str, path: str, op: str, value: Scalar) -> Comparison | None:
    """The comparison, or None when a name is a keyword (the lexer makes it one, not a name)."""
    steps = _STEP.findall(path)
    if object_type in _NOT_NAMES or any(name in _NOT_NAMES for name, _ in steps):
        return None
    return Comparison(object_type, tuple(name or key for name, key in steps), op, False, value)
