"""The JSON limits of submitted bodies (exchange.stix.jsonlimits): integers beyond 64 bits found
wherever JSON allows a number and not in digit runs inside strings (hashes have them); nesting depth;
a member name repeated in one object; the number of objects in one request."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from exchange.core.errors import BadRequest, PayloadTooLarge
from exchange.stix import jsonlimits


def _refusal(text: bytes, **limits: int) -> str | None:
    """Why ``jsonlimits.check`` refuses ``text``, or None."""
    try:
        jsonlimits.check(text, orjson.loads(text), **limits)
    except BadRequest as refused:
        return refused.description
    return None


@pytest.mark.parametrize("text", [b'{"a":123456789012345678901}', b'{"a": [1,\n\t-99999999999999999999]}',
                                  b'[99999999999999999999]', b'99999999999999999999',
                                  b'{"a": "\\"", "b":\r\n 99999999999999999999}'])
def test_a_long_integer_is_found_wherever_json_allows_a_number(text: bytes) -> None:
    refusal = _refusal(text)
    assert refusal is not None
    assert "64 bits" in refusal


def test_long_digit_runs_inside_strings_are_not_numbers() -> None:
    text = b'{"hash": "9012345678901234567890", "id": "a:12345678901234567890"}'
    assert _refusal(text) is None


def test_digit_runs_inside_strings_do_not_send_the_body_to_the_slow_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    def slow_parse(*args: object, **kwargs: object) -> None:
        raise AssertionError("re-parsed by the standard library")

    monkeypatch.setattr(json, "loads", slow_parse)
    text = b'{"hash": "9012345678901234567890", "escaped": "\\"12345678901234567890\\"", "n": 123456789012345678}'
    assert _refusal(text) is None


# --- nesting depth, repeated names and the number of objects --------------------------------------------


def nested(depth: int, *, innermost: str = "1", kinds: str = "[{") -> str:
    """JSON text nesting ``depth`` arrays/objects around ``innermost``, alternating as ``kinds`` says."""
    opening = ["[" if kinds[level % len(kinds)] == "[" else '{"k":' for level in range(depth)]
    closing = ["]" if o == "[" else "}" for o in reversed(opening)]
    return "".join(opening) + innermost + "".join(closing)


def check(text: str | bytes, **limits: int) -> None:
    jsonlimits.check(text, orjson.loads(text), **limits)


@pytest.mark.parametrize("kinds", ["[", "{", "[{", "{["])
@pytest.mark.parametrize("limit", [2, 5, jsonlimits.MAX_DEPTH, jsonlimits.DEEPEST])
def test_nesting_up_to_max_depth_passes_and_one_more_is_refused(kinds: str, limit: int) -> None:
    check(nested(limit, kinds=kinds), max_depth=limit)
    with pytest.raises(BadRequest, match=f"more than {limit} levels"):
        check(nested(limit + 1, kinds=kinds), max_depth=limit)


@pytest.mark.parametrize("innermost", ["[]", "{}"])
def test_an_empty_container_counts_as_a_level(innermost: str) -> None:
    text = nested(4, innermost=innermost, kinds="[")  # [[[[ [] ]]]]: five levels
    check(text, max_depth=5)
    with pytest.raises(BadRequest):
        check(text, max_depth=4)


def test_brackets_inside_strings_are_not_nesting() -> None:
    check(json.dumps({"pattern": "[" * 500 + "{" * 500, "x": ['\\"[[[[', "\\\\[[[["]}), max_depth=2)


def test_the_default_depth_refuses_depth_65_under_a_bundle() -> None:
    body = '{"type":"bundle","objects":[' + nested(63) + "]}"  # bundle, objects: 2 levels, then 63
    with pytest.raises(BadRequest, match="64 levels"):
        check(body)
    check('{"type":"bundle","objects":[' + nested(62) + "]}")


def test_depth_hidden_in_a_dropped_duplicate_is_still_too_deep() -> None:
    text = '{"a": ' + "[" * 1000 + "]" * 1000 + ', "a": 1}'  # parsed, it is {"a": 1}
    with pytest.raises(BadRequest, match="64 levels"):
        check(text)


@pytest.mark.parametrize(("text", "name"), [
    ('{"a": 1, "a": 2}', "a"),
    ('{"objects": [{"id": "x", "type": "indicator", "id": "y"}]}', "id"),
    ('[{"k": {"deep": [1, {"n": 1, "m": 2, "n": 3}]}}]', "n"),
    ('{"a": 1, "\\u0061": 2}', "a"),  # the same name, spelled differently
    ('{"a\\"b": 1, "a\\u0022b": 2}', 'a"b'),
    ('{"a\\\\": 1, "a\\u005c": 2}', "a\\"),
    ('{"a" : "x" , "a" : "y"}', "a"),
    ('{"x": "", "x": ""}', "x"),
])
def test_a_member_name_repeated_in_one_object_is_refused(text: str, name: str) -> None:
    with pytest.raises(BadRequest, match="more than once") as refused:
        check(text)
    assert refused.value.status == 400
    assert repr(name) in refused.value.description


@pytest.mark.parametrize("text", [
    '{"a": 1, "b": {"a": 2}, "c": [{"a": 3}, {"a": 4}]}',  # the same name in different objects
    '{"a": "a", "b": "a"}',
    '{"a\\"": 1, "a\\\\": 2, "a": 3}',
    '{"a\\\\\\"": 1, "a\\\\\\\\": 2}',
    '{"\\\\": "\\\\\\\\\\"", "\\"": "\\\\"}',
    '["a", "a", {"a": "a"}]',
    '"just a string"',
])
def test_distinct_names_pass(text: str) -> None:
    check(text)
    check(text.encode())


def test_more_objects_than_allowed_is_413_however_they_are_sent() -> None:
    objects = [{"type": "indicator"}] * 4
    for body in (objects, {"objects": objects}, {"type": "bundle", "id": "b", "objects": objects}):
        text = orjson.dumps(body)
        jsonlimits.check(text, orjson.loads(text), max_objects=4)
        with pytest.raises(PayloadTooLarge, match="several requests") as refused:
            jsonlimits.check(text, orjson.loads(text), max_objects=3)
        assert refused.value.status == 413
    jsonlimits.check(b'{"type": "indicator"}', {"type": "indicator"}, max_objects=1)


# Random JSON texts: names from a tiny alphabet (so they repeat), spelled with every kind of escape,
# strings full of quotes, backslashes and brackets, random whitespace. The reference: the standard
# parser reporting every name, and the depth of the tree the text was made from.
_CHARS = st.sampled_from(['a', '"', "\\", "[", "]", "{", "}", ":", ",", "\n", "\u00e9", "\U0001f600"])


def _spell(text: str, escapes: list[bool]) -> str:
    """``text`` as a JSON string, escaping the characters ``escapes`` flags (and those that must be)."""
    out = []
    for i, ch in enumerate(text):
        if i < len(escapes) and escapes[i]:
            out.append(json.dumps(ch)[1:-1] if ord(ch) > 0xFFFF else f"\\u{ord(ch):04x}")
        else:
            out.append(json.dumps(ch, ensure_ascii=False)[1:-1])
    return '"' + "".join(out) + '"'


_strings = st.builds(_spell, st.text(_CHARS, max_size=6), st.lists(st.booleans(), max_size=6))
_names = st.builds(_spell, st.text(st.sampled_from(["a", "b", '"', "\\"]), max_size=2),
                   st.lists(st.booleans(), max_size=2))
_space = st.sampled_from(["", " ", "\n  ", "\t"])


def _tree() -> st.SearchStrategy[tuple[str, int]]:
    """(JSON text, depth)."""
    scalars = st.one_of(_strings, st.sampled_from(["1", "-2.5e3", "true", "null"])).map(lambda s: (s, 0))

    def containers(children: st.SearchStrategy[tuple[str, int]]) -> st.SearchStrategy[tuple[str, int]]:
        arrays = st.tuples(st.lists(children, max_size=4), _space).map(
            lambda t: ("[" + t[1] + ",".join(c for c, _ in t[0]) + "]", 1 + max((d for _, d in t[0]), default=0)))
        members = st.lists(st.tuples(_names, _space, children), max_size=4)
        objects = members.map(lambda ms: ("{" + ",".join(f"{n}{s}:{s}{c}" for n, s, (c, _) in ms) + "}",
                                          1 + max((d for _, _, (_, d) in ms), default=0)))
        return arrays | objects

    return st.recursive(scalars, containers, max_leaves=12)


def _has_repeats(text: str) -> bool:
    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        names = [name for name, _ in items]
        if len(set(names)) != len(names):
            raise KeyError(names)
        return dict(items)

    try:
        json.loads(text, object_pairs_hook=pairs)
    except KeyError:
        return True
    return False


@hypothesis_settings(max_examples=600, deadline=None)
@given(tree=_tree(), max_depth=st.integers(2, 5))
def test_the_checks_agree_with_a_parser_that_reports_every_name(tree: tuple[str, int], max_depth: int) -> None:
    text, depth = tree
    refusal = _refusal(text.encode(), max_depth=max_depth)
    if depth > max_depth:
        assert refusal is not None
        assert "levels" in refusal
    elif _has_repeats(text):
        assert refusal is not None
        assert "more than once" in refusal
    else:
        assert refusal is None
