"""Recursive descent over the tokens of ``lexer``, one function per rule of the STIX 2.1 pattern
grammar (decision 0009 has it in EBNF), into the immutable tree of ``tree``.

Bounded on purpose, so hostile input is a quick, clear refusal: the text is at most
``MAX_LENGTH`` characters (which also bounds the number of terms and the size of a literal), and
parentheses nest at most ``MAX_DEPTH`` deep (the recursion stays far from Python's limit).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from exchange.stix.patterns.errors import PatternError
from exchange.stix.patterns.flat import read
from exchange.stix.patterns.lexer import Token, tokens
from exchange.stix.patterns.tree import (
    STAR,
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
    Scalar,
    StartStop,
    Step,
    Timestamp,
    Value,
    Within,
)

MAX_LENGTH: Final = 262_144  # characters; a hub limit, not a rule of the specification
MAX_DEPTH: Final = 64  # nested parentheses, observation and comparison levels together

_ORDERABLE: Final = frozenset(("str", "int", "float", "ts", "hex", "bin"))
_PRIMITIVE: Final = _ORDERABLE | {"bool"}
_ORDER_OPS: Final = frozenset(("<", "<=", ">", ">="))
_STRING_OPS: Final = frozenset(("LIKE", "MATCHES", "ISSUBSET", "ISSUPERSET"))
_NAMES: Final = {"end": "the end of the pattern", "str": "a string", "id": "a name", "idh": "a name",
                 "int": "an integer", "float": "a number", "ts": "a t'…' timestamp", "hex": "an h'…' literal",
                 "bin": "a b'…' literal", "bool": "true or false"}


def parse(text: str) -> ObservationExpression:
    """The tree of a pattern; ``PatternError`` when it is not one (or is over the limits)."""
    if len(text) > MAX_LENGTH:
        raise PatternError(f"the pattern is longer than {MAX_LENGTH} characters")
    tree = read(text)  # the common shapes, without tokens (``flat``)
    if tree is not None:
        return tree
    return _Parser(tokens(text)).pattern()


def string_value(text: str) -> str:
    """A string literal's value: its quotes removed and ``\\'`` and ``\\\\`` unescaped."""
    inner = text[1:-1]
    return inner.replace("\\'", "'").replace("\\\\", "\\") if "\\" in inner else inner


class _Parser:
    __slots__ = ("depth", "i", "toks")

    def __init__(self, toks: list[Token]) -> None:
        self.toks = toks
        self.i = 0
        self.depth = 0

    # -- helpers -------------------------------------------------------------------------------
    def _fail(self, expected: str) -> PatternError:
        kind, text, pos = self.toks[self.i]
        found = _NAMES.get(kind, repr(text)) if kind in _NAMES else repr(text)
        return PatternError(f"expected {expected}, found {found}", pos)

    def _take(self, kind: str, expected: str) -> str:
        tok = self.toks[self.i]
        if tok[0] != kind:
            raise self._fail(expected)
        self.i += 1
        return tok[1]

    def _open(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise PatternError(f"parentheses and brackets nest deeper than {MAX_DEPTH}", self.toks[self.i][2])

    # -- observation expressions ---------------------------------------------------------------
    def pattern(self) -> ObservationExpression:
        tree = self._followed_by()
        if self.toks[self.i][0] != "end":
            raise self._fail("AND, OR, FOLLOWEDBY, a qualifier or the end of the pattern")
        return tree

    def _followed_by(self) -> ObservationExpression:
        return self._chain(self._observation_or, "FOLLOWEDBY", FollowedBy)

    def _observation_or(self) -> ObservationExpression:
        return self._chain(self._observation_and, "OR", ObservationOr)

    def _observation_and(self) -> ObservationExpression:
        return self._chain(self._qualified, "AND", ObservationAnd)

    def _chain(self, operand: Callable[[], ObservationExpression], keyword: str,
               node: type[FollowedBy | ObservationOr | ObservationAnd]) -> ObservationExpression:
        """``operand { keyword operand }``: the operand alone, or all of them in one node."""
        first = operand()
        if self.toks[self.i][0] != keyword:
            return first
        operands = [first]
        while self.toks[self.i][0] == keyword:
            self.i += 1
            operands.append(operand())
        return node(tuple(operands))

    def _qualified(self) -> ObservationExpression:
        kind = self.toks[self.i][0]
        expression: ObservationExpression
        self._open()
        self.i += 1
        if kind == "[":
            expression = Observation(self._comparison_or())
            self._take("]", "AND, OR or ']'")
        elif kind == "(":
            expression = Group(self._followed_by())
            self._take(")", "AND, OR, FOLLOWEDBY, a qualifier or ')'")
        else:
            self.i -= 1
            raise self._fail("'[' or '('")
        self.depth -= 1
        while self.toks[self.i][0] in ("WITHIN", "REPEATS", "START"):
            expression = Qualified(expression, self._qualifier())
        return expression

    def _qualifier(self) -> Qualifier:
        kind = self.toks[self.i][0]
        self.i += 1
        if kind == "WITHIN":
            tok = self.toks[self.i]
            if tok[0] not in ("int", "float") or tok[1][0] == "-":
                raise self._fail("a number of seconds, 0 or more")
            self.i += 1
            self._take("SECONDS", "SECONDS")
            return Within(int(tok[1]) if tok[0] == "int" else float(tok[1]))
        if kind == "REPEATS":
            count = self._take("int", "a number of times, 0 or more")
            if count[0] == "-":
                self.i -= 1
                raise self._fail("a number of times, 0 or more")
            self._take("TIMES", "TIMES")
            return Repeats(int(count))
        start = self._take("ts", "a t'…' timestamp")
        self._take("STOP", "STOP")
        stop = self._take("ts", "a t'…' timestamp")
        return StartStop(Timestamp(start[2:-1]), Timestamp(stop[2:-1]))

    # -- comparison expressions ----------------------------------------------------------------
    def _comparison_or(self) -> ComparisonExpression:
        first = self._comparison_and()
        if self.toks[self.i][0] != "OR":
            return first
        operands = list(first.operands) if type(first) is ComparisonOr else [first]
        while self.toks[self.i][0] == "OR":
            self.i += 1
            term = self._comparison_and()
            operands.extend(term.operands if type(term) is ComparisonOr else (term,))
        return ComparisonOr(tuple(operands))

    def _comparison_and(self) -> ComparisonExpression:
        first = self._test()
        if self.toks[self.i][0] != "AND":
            return first
        operands = list(first.operands) if type(first) is ComparisonAnd else [first]
        while self.toks[self.i][0] == "AND":
            self.i += 1
            term = self._test()
            operands.extend(term.operands if type(term) is ComparisonAnd else (term,))
        return ComparisonAnd(tuple(operands))

    def _test(self) -> ComparisonExpression:
        kind = self.toks[self.i][0]
        if kind == "(":
            self._open()
            self.i += 1
            inner = self._comparison_or()
            self._take(")", "AND, OR or ')'")
            self.depth -= 1
            # (a OR b) inside an OR chain, or (a AND b) inside an AND chain, is the same chain.
            return inner
        if kind == "EXISTS":
            self.i += 1
            object_type, path = self._path()
            return Comparison(object_type, path, "EXISTS", False, None)
        object_type, path = self._path()
        negated = self.toks[self.i][0] == "NOT"
        if negated:
            self.i += 1
        op = self.toks[self.i][0]
        self.i += 1
        value: Value
        if op == "=" or op == "!=":
            value = self._literal(_PRIMITIVE, "a literal")
        elif op in _ORDER_OPS:
            value = self._literal(_ORDERABLE, "a literal other than true or false")
        elif op == "IN":
            value = self._set()
        elif op in _STRING_OPS:
            value = self._literal(frozenset(("str",)), "a string")
        else:
            self.i -= 1
            raise self._fail("a comparison operator")
        return Comparison(object_type, path, op, negated, value)

    def _path(self) -> tuple[str, tuple[Step, ...]]:
        tok = self.toks[self.i]
        if tok[0] != "id" and tok[0] != "idh":
            raise self._fail("an object type")
        object_type = tok[1]
        self.i += 1
        self._take(":", "':'")
        tok = self.toks[self.i]
        if tok[0] == "id":
            steps: list[Step] = [tok[1]]
        elif tok[0] == "str":
            steps = [string_value(tok[1])]
        else:
            raise self._fail("a property name")
        self.i += 1
        toks = self.toks
        while True:
            kind = toks[self.i][0]
            if kind == ".":
                tok = toks[self.i + 1]
                if tok[0] == "id":
                    steps.append(tok[1])
                elif tok[0] == "str":
                    steps.append(string_value(tok[1]))
                else:
                    self.i += 1
                    raise self._fail("a property name")
                self.i += 2
            elif kind == "[":
                tok = toks[self.i + 1]
                if tok[0] == "int":
                    steps.append(int(tok[1]))
                elif tok[0] == "*":
                    steps.append(STAR)
                else:
                    self.i += 1
                    raise self._fail("a list index or '*'")
                self.i += 2
                self._take("]", "']'")
            else:
                return object_type, tuple(steps)

    def _literal(self, allowed: frozenset[str], expected: str) -> Scalar:
        kind, text, _ = self.toks[self.i]
        if kind not in allowed:
            raise self._fail(expected)
        self.i += 1
        return _scalar(kind, text)

    def _set(self) -> tuple[Scalar, ...]:
        self._take("(", "'('")
        values: list[Scalar] = []
        if self.toks[self.i][0] == ")":
            self.i += 1
            return ()
        while True:
            values.append(self._literal(_PRIMITIVE, "a literal"))
            kind = self.toks[self.i][0]
            self.i += 1
            if kind == ")":
                return tuple(values)
            if kind != ",":
                self.i -= 1
                raise self._fail("',' or ')'")


def _scalar(kind: str, text: str) -> Scalar:
    if kind == "str":
        return string_value(text)
    if kind == "int":
        return int(text)
    if kind == "float":
        return float(text)
    if kind == "bool":
        return text == "true"
    if kind == "ts":
        return Timestamp(text[2:-1])
    if kind == "hex":
        return Hex(text[2:-1])
    return Binary(text[2:-1])
