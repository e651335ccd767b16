"""TAXII query parameters (TAXII 2.1, section 3.4) parsed strictly: anything malformed is a 400."""

from __future__ import annotations

import re
from typing import Any

from fastapi import Request

from exchange.core.errors import BadRequest
from exchange.core.queryparams import INT_MAX
from exchange.core.text import NUL_ESCAPE
from exchange.core.timestamps import to_micros
from exchange.store.reads import Filters, Version

_KNOWN_MATCH = frozenset({"id", "type", "version", "spec_version"})
_SPEC_VERSION = re.compile(r"\d+\.\d+\Z")
_MATCH = re.compile(r"match\[([a-z_]+)\]\Z")
_MAX_VALUES = 100


def _timestamp(value: str, name: str) -> int:
    micros = to_micros(value)
    if micros is None:
        raise BadRequest(f"{name} must be a timestamp like 2024-01-31T12:00:00.000Z, not {value[:40]!r}")
    return micros


def _list(request: Request, name: str) -> tuple[str, ...]:
    values = tuple(v.strip() for raw in request.query_params.getlist(f"match[{name}]") for v in raw.split(","))
    if any(not v for v in values) or len(values) > _MAX_VALUES:
        raise BadRequest(f"match[{name}] must be a comma-separated list of at most {_MAX_VALUES} values")
    return values


def _version(value: str) -> Version:
    if value in ("last", "first", "all"):
        return value  # type: ignore[return-value]  # the literal checked just above
    return _timestamp(value, "match[version]")


def filters(request: Request, *, default_version: Version = "last", allow: frozenset[str] = _KNOWN_MATCH) -> Filters:
    for key in request.query_params:
        m = _MATCH.match(key)
        if key.startswith("match[") and (m is None or m.group(1) not in allow):
            raise BadRequest(f"unsupported filter {key!r}; this endpoint takes "
                             + ", ".join(f"match[{a}]" for a in sorted(allow)))
    spec_versions = _list(request, "spec_version")
    if any(not _SPEC_VERSION.match(v) for v in spec_versions):
        raise BadRequest("match[spec_version] values look like 2.1")
    added_after = request.query_params.get("added_after")
    return Filters(
        ids=_list(request, "id"),
        types=_list(request, "type"),
        versions=tuple(_version(v) for v in _list(request, "version")) or (default_version,),
        spec_versions=spec_versions,
        added_after=_timestamp(added_after, "added_after") if added_after is not None else None,
    )


_LIMIT = re.compile(r"[0-9]{1,19}")  # ASCII: str.isdigit() also accepts "²", which int() refuses


def limit(request: Request, default: int, maximum: int) -> int:
    """The page size: an integer from 1 to INT_MAX (the REST range), capped by the server."""
    raw = request.query_params.get("limit")
    if raw is None:
        return min(default, maximum)
    if _LIMIT.fullmatch(raw) is None or not 1 <= int(raw) <= INT_MAX:
        raise BadRequest(f"limit must be an integer from 1 to {INT_MAX}, not {raw[:20]!r}")
    return min(int(raw), maximum)


def next_token(request: Request) -> str | None:
    token = request.query_params.get("next")
    if token is not None and (not token or len(token) > 512):
        raise BadRequest("'next' is not a cursor this server issued")
    return token


# --- OpenAPI: the parameters above are parsed from the raw query string (TAXII's names have brackets
# and comma lists), so FastAPI cannot see them; they are documented here, next to their parser.

def _param(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


_CSV = {"type": "string", "pattern": rf"^[^,{NUL_ESCAPE}]+(,[^,{NUL_ESCAPE}]+)*$"}
_DOCS = {
    "match[id]": _param("match[id]", "Only these object ids (comma-separated)", _CSV),
    "match[type]": _param("match[type]", "Only these STIX types (comma-separated)", _CSV),
    "match[version]": _param("match[version]", "`last`, `first`, `all` or `modified` timestamps, comma-separated "
                             "(default `last`; `all` for DELETE)", _CSV),
    "match[spec_version]": _param("match[spec_version]", "Only these STIX spec versions, e.g. `2.1`", _CSV),
    "added_after": _param("added_after", "Only what was added after this timestamp, e.g. "
                          "2024-01-31T12:00:00.000Z (continue from `X-TAXII-Date-Added-Last`)", {"type": "string"}),
    "limit": _param("limit", "Page size; larger values are capped by the server",
                    {"type": "integer", "minimum": 1, "maximum": INT_MAX}),
    "next": _param("next", "`next` of the previous page, with the same other parameters",
                   {"type": "string", "maxLength": 512}),
}
LISTING = ("match[id]", "match[type]", "match[version]", "match[spec_version]", "added_after", "limit", "next")


def documented(*names: str) -> list[dict[str, Any]]:
    """OpenAPI parameter objects for these TAXII query parameters."""
    return [_DOCS[name] for name in names]
