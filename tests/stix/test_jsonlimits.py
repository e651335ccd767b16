"""The JSON limits' screen for integers beyond 64 bits: found wherever JSON allows a number, and
not fooled by digit runs inside strings (hashes have them)."""

from __future__ import annotations

import json

import orjson
import pytest

from exchange.core.errors import BadRequest
from exchange.stix import jsonlimits


def _refusal(text: bytes) -> str | None:
    try:
        jsonlimits.check(text, orjson.loads(text))
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
