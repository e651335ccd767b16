"""Limits on a submitted JSON body that parsing alone does not enforce: nesting depth, object
count, member names repeated within one object, and integers orjson cannot hold exactly.

Integers beyond 64 bits are refused because orjson turns them into floats: the stored JSON would
no longer be the value that was sent. Only a body with a number token of 19 digits or more (2**63
has 19) is read again, by the standard library, to decide. Runs of 19 digits are common inside
strings (about two SHA-256 hashes in a thousand have one), so a run found by the first, byte-wise
screen is looked for again outside the strings before anything is re-read (a regular expression
over the whole body cost several times orjson's parse: decision 0006).

Duplicate member names are refused because parsers disagree about them (orjson and Python keep
the last, others the first or all): a body that means one thing to a filter in front of the hub
and another to the hub is a way to smuggle content past the filter.

``check`` runs on the ingest hot path after orjson has parsed the text, so instead of tokenising
the text in Python it compares the text with the parsed value at C speed: it re-serialises the
value with orjson (indented, two spaces a level) and

- counts the strings on both sides (unescaped quotes, halved). Every member name is a string, and
  a repeated member is dropped by the parse together with its name, so the value has fewer
  strings than the text exactly when a name was repeated;
- looks for a line indented ``2 * max_depth`` spaces: only a value ``max_depth`` levels down is
  printed that far in, so without one the value is shallow enough (the text can be deeper only in
  a member the parse dropped, and then the string counts differ).

Either screen can only raise suspicion; the exact check that follows (a bracket count, or the
standard library's parser reporting names as it reads them) decides, and runs only then.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

from exchange.core.errors import BadRequest, PayloadTooLarge

MAX_DEPTH = 64
MAX_OBJECTS = 100_000
DEEPEST = 254  # orjson serialises no deeper value, so no larger max_depth can be checked

_LONG_DIGITS = re.compile(rb"[0-9]{19}")
_DIGITS_AS_ZEROS = bytes.maketrans(b"0123456789", b"0000000000")
_NOT_BRACKETS = bytes(sorted(set(range(256)) - set(b"[]{}")))
_AS_PARENTHESES = bytes.maketrans(b"[{]}", b"(())")


def check(text: bytes | str, value: Any, *, max_depth: int = MAX_DEPTH, max_objects: int = MAX_OBJECTS) -> None:
    """Refuse ``value``, just parsed from ``text``, if it nests deeper than ``max_depth`` (400), has
    more than ``max_objects`` objects (413: too much in one request, not malformed), repeats a
    member name within one JSON object (400), or holds an integer beyond 64 bits (400)."""
    objects = value.get("objects") if isinstance(value, dict) else value
    if isinstance(objects, list) and len(objects) > max_objects:
        raise PayloadTooLarge(f"{len(objects)} objects in one request; at most {max_objects} are accepted, "
                              "send them in several requests")
    try:
        canonical = orjson.dumps(value, option=orjson.OPT_INDENT_2)
    except orjson.JSONEncodeError:  # deeper than DEEPEST, so deeper than max_depth
        raise _too_deep(max_depth) from None
    if b"\n" + b"  " * max_depth in canonical and _depth(canonical, max_depth) > max_depth:
        raise _too_deep(max_depth)
    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    if _strings(raw) != _strings(canonical):
        if _depth(raw, max_depth) > max_depth:  # deep in a member the parse dropped
            raise _too_deep(max_depth)
        if (name := _repeated_name(raw)) is not None:
            raise BadRequest(f"a JSON object in the body has the member {name!r} more than once; parsers "
                             "disagree about which value counts, so the body is refused")
    if raw.translate(_DIGITS_AS_ZEROS).find(b"0" * 19) >= 0 and _LONG_DIGITS.search(_outside_strings(raw)):
        json.loads(raw, parse_int=_exact_int)


def _exact_int(text: str) -> int:
    value = int(text)  # short enough: orjson already refused numbers too long for a double
    if not -(2**63) <= value < 2**64:
        raise BadRequest(f"the integer {text[:40]}… is beyond 64 bits; it cannot be stored exactly")
    return value


def _too_deep(max_depth: int) -> BadRequest:
    return BadRequest(f"the body nests arrays and objects more than {max_depth} levels deep")


def _outside_strings(text: bytes) -> bytes:
    """Valid JSON text without its strings (escapes first, so that an escaped quote ends nothing)."""
    if b"\\" in text:
        text = text.replace(b"\\\\", b"").replace(b'\\"', b"")
    return b"".join(text.split(b'"')[::2])


def _depth(text: bytes, limit: int) -> int:
    """Nesting depth of valid JSON text, counted up to ``limit + 1``: each round strips the innermost pairs."""
    brackets = _outside_strings(text).translate(_AS_PARENTHESES, _NOT_BRACKETS)
    depth = 0
    while brackets and depth <= limit:
        brackets = brackets.replace(b"()", b"")
        depth += 1
    return depth


def _strings(text: bytes) -> int:
    """Strings in valid JSON text: its quotes less the escaped ones, halved.

    A quote after one backslash is escaped. After a run of them it is escaped if the run is odd:
    runs pair up from the left (``\\\\`` is one escaped backslash), so then the pairs go first.
    """
    quotes = text.count(b'"')
    if b"\\" in text and (after_backslash := text.count(b'\\"')):
        if b'\\\\"' in text:
            text = text.replace(b"\\\\", b"")
            quotes, after_backslash = text.count(b'"'), text.count(b'\\"')
        quotes -= after_backslash
    return quotes // 2


class _Repeated(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _refuse_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: set[str] = set()
    for name, _ in pairs:
        if name in seen:
            raise _Repeated(name)
        seen.add(name)
    return dict(pairs)


def _repeated_name(raw: bytes) -> str | None:
    """The first member name found twice in one object, read by a parser that reports every name."""
    try:
        json.loads(raw, object_pairs_hook=_refuse_repeats)
    except _Repeated as repeated:
        return repeated.name
    return None
