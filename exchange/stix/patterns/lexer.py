"""The STIX 2.1 pattern tokens (the lexer rules of the specification's ANTLR grammar) as one
compiled regular expression.

ANTLR takes the longest match and, between equal lengths, the rule written first; the alternatives
below are ordered so that Python's first-match gives the same tokens: ``t'…'``, ``h'…'`` and
``b'…'`` literals before identifiers (a malformed one falls back to an identifier and a string,
as in ANTLR, and is then a syntax error), floats before integers, and keywords recognised as whole
identifiers (``ANDROID`` and ``AND-x`` are identifiers). A character no token starts with is an
error at once: ANTLR would make it an ``InvalidCharacter`` token, which no parser rule accepts.
"""

from __future__ import annotations

import re
from typing import Final

from exchange.stix.patterns.errors import PatternError

# The grammar's WS rule (Unicode spaces, but not U+200B, U+FEFF or U+180E), and both comment forms.
_SKIP = (r"[ \t\r\n\x0b\x0c\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+"
         r"|/\*[\s\S]*?\*/|//[^\r\n]*")
TIMESTAMP = (r"t'[0-9]{4}-(?:0[1-9]|1[012])-(?:0[1-9]|[12][0-9]|3[01])T(?:[01][0-9]|2[0-3]):[0-5][0-9]"
              r":(?:[0-5][0-9]|60)(?:\.[0-9]+)?Z'")
_B64 = "[A-Za-z0-9+/]"
BINARY = f"b'(?:{_B64}{{4}})*(?:{_B64}{{4}}|{_B64}{{3}}=|{_B64}{{2}}==)'"
# Each token may be preceded by white space and comments: one match per token, none for the spaces.
# Possessive (*+): what was skipped is never re-split when the token after it does not match.
_TOKEN: Final = re.compile(
    f"(?:{_SKIP})*+(?:"
    f"(?P<ts>{TIMESTAMP})"
    r"|(?P<hex>h'(?:[0-9A-Fa-f]{2})*')"
    f"|(?P<bin>{BINARY})"
    r"|(?P<str>'[^'\\]*(?:\\['\\][^'\\]*)*')"
    r"|(?P<float>[+-]?[0-9]*\.[0-9]+)"
    r"|(?P<int>[+-]?(?:0|[1-9][0-9]*))"
    r"|(?P<word>[A-Za-z_][A-Za-z0-9_-]*)"
    r"|(?P<op><=|>=|<>|!=|==|[<>=])"
    r"|(?P<punct>[:.,()\[\]*])"
    r"|(?P<end>\Z))"
)
_SKIP_ONLY: Final = re.compile(f"(?:{_SKIP})*+")
KEYWORDS: Final = frozenset(("AND", "OR", "NOT", "FOLLOWEDBY", "LIKE", "MATCHES", "ISSUPERSET", "ISSUBSET",
                             "EXISTS", "LAST", "IN", "START", "STOP", "SECONDS", "WITHIN", "REPEATS", "TIMES"))
_OPS: Final = {"==": "=", "<>": "!="}

Token = tuple[str, str, int]  # kind, text, offset


def tokens(text: str) -> list[Token]:
    """The tokens of ``text``, white space and comments left out, ending with ``("end", "", len)``.

    Kinds: a keyword itself (``AND``, ``IN`` …), ``bool``, ``id`` (identifier without a hyphen),
    ``idh`` (with one), ``str``, ``int``, ``float``, ``ts``, ``hex``, ``bin``, an operator (``=``,
    ``!=``, ``<`` …, with ``==`` and ``<>`` read as ``=`` and ``!=``) or a punctuation character."""
    found: list[Token] = []
    append = found.append
    pos = 0
    match = _TOKEN.match
    while True:
        m = match(text, pos)
        if m is None:
            pos = len(_SKIP_ONLY.match(text, pos).group()) + pos  # type: ignore[union-attr]
            raise PatternError(f"unexpected character {text[pos]!r}", pos)
        kind = m.lastgroup
        value = m.group(kind)  # type: ignore[arg-type]
        pos = m.end()
        if kind == "word":
            if value in KEYWORDS:
                kind = value
            elif value == "true" or value == "false":
                kind = "bool"
            else:
                kind = "idh" if "-" in value else "id"
        elif kind == "op":
            kind = _OPS.get(value, value)
        elif kind == "punct":
            kind = value
        elif kind == "end":
            append(("end", "", pos))
            return found
        append((kind, value, pos - len(value)))  # type: ignore[arg-type]
