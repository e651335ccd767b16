"""The database-free half of ingest: parse, validate, and turn each valid object into the row and
observables it will be stored as.

Kept apart from the transaction so bulk loaders can prepare the next batch while the previous one
is being written (SQLite works outside the GIL), and so it can be tested without a database.
"""

from __future__ import annotations

import gc
import marshal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

import orjson

from exchange.core.errors import BadRequest, UnprocessableEntity
from exchange.core.timestamps import to_micros
from exchange.stix import fastpath, jsonlimits, observables, tlp, validate
from exchange.stix.hub_rules import (
    RECIPIENTS_PROPERTY,
    Author,
    authorship,
    container_problem,
    id_case_problem,
    recipients_form,
    tlp_definition_problem,
)

Status = Literal["added", "duplicate", "rejected"]
Payload = bytes | str | dict[str, Any] | list[Any]  # a bundle or envelope, as JSON text or parsed


class ObjectResult(NamedTuple):
    """The verdict on one submitted object (a tuple: one is made per object, on the hot path)."""

    id: str | None
    version: str | None
    status: Status
    message: str = ""


# Columns a candidate knows before the transaction, in the order of ``Candidate.values``.
OBJECT_COLUMNS = ("stix_id", "type", "spec_version", "modified", "created_by_ref", "revoked", "valid_from",
                  "valid_until", "raw")
OBSERVABLE_COLUMNS = ("kind", "value", "ip_lo", "ip_hi")
# The properties by which a relationship or a sighting points at other objects (``ObjectRef`` rows).
POINTERS = {"relationship": ("source_ref", "target_ref"),
            "sighting": ("sighting_of_ref", "where_sighted_refs", "observed_data_refs")}


class Candidate(NamedTuple):
    """A valid object waiting for its versioning verdict.

    Plain tuples, because bulk loads ship candidates between processes and tuples pickle cheaply.
    """

    position: int  # in the submitted batch
    stix_id: str
    type: str
    version: str | None
    modified: int
    revoked: bool
    marked_tlp: str | None
    values: tuple[Any, ...]  # OBJECT_COLUMNS
    observables: tuple[tuple[str, str, str | None, str | None], ...]  # OBSERVABLE_COLUMNS
    recipients: tuple[str, ...] = ()  # identity ids named in x_exchange_recipients
    refs: tuple[str, ...] = ()  # the ids a relationship or sighting points at (POINTERS), each once


_REPORTED_CHARS = 300


@dataclass(slots=True)
class Prepared:
    size: int
    rejected: dict[int, ObjectResult] = field(default_factory=dict)
    candidates: list[Candidate] = field(default_factory=list)


def _parsed(payload: Payload, checked: bool) -> Any:
    """JSON text parsed with orjson and held to the JSON limits unless they were ``checked`` already
    (a queued TAXII envelope); anything else as it is."""
    if not isinstance(payload, bytes | str):
        return payload
    try:
        parsed = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"the body is not valid JSON: {exc}") from None
    if not checked:
        jsonlimits.check(payload, parsed)
    return parsed


def envelope_objects(body: bytes) -> list[Any]:
    """The objects of a TAXII 2.1 POST body (section 5.5): an envelope, or a bundle as some clients
    send. Valid JSON of another shape is content the server cannot process: 422, as the spec says,
    where malformed JSON is a 400."""
    payload = _parsed(body, False)
    objects = payload.get("objects") if isinstance(payload, dict) else None
    if isinstance(objects, list):
        return objects
    raise UnprocessableEntity("the body must be a TAXII envelope: a JSON object with an 'objects' array of STIX "
                              "objects")


def objects_of(payload: Payload, *, checked: bool = False) -> list[Any]:
    """The objects of a bundle, a list, or a single object (see ``_parsed`` for JSON text)."""
    payload = _parsed(payload, checked)
    if isinstance(payload, list):
        return payload
    if isinstance(payload, dict):
        if payload.get("type") == "bundle" or "objects" in payload:
            objects = payload.get("objects", [])
            if not isinstance(objects, list):
                raise BadRequest("'objects' must be a JSON array")
            return objects
        return [payload]
    raise BadRequest("expected a STIX bundle, an envelope, a list of objects or one object")


@contextmanager
def no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while building a batch.

    A batch allocates tens of thousands of acyclic dicts, lists and strings; each allocation burst
    triggers collections that find nothing (decision 0001, "Bulk loads"). Reference counting
    still frees everything; the collector resumes, as it was, afterwards.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def prepare(payload: Payload, author: Author | None = None, *,
            checked: bool = False) -> Prepared:
    """Parse and validate a batch, and hold each object to the hub's write rules (``hub_rules``).
    With ``author`` (see ``hub_rules.Author``), every object that names an author must name one the
    publishing organisation may: itself, or for a relayer a non-member. ``checked``: the payload already
    passed the JSON limits (``objects_of``)."""
    with no_gc():
        return _prepare(payload, author, checked)


def prepare_packed(payload: Payload, author: Author | None = None, *, checked: bool = False) -> bytes:
    """``prepare`` in a helper process, its result packed for the trip back (``unpack``).

    marshal, not pickle: the result is thousands of small tuples, and unpickling named tuples (a
    constructor call each) cost the receiving process more than storing them (decision 0006).
    """
    prepared = prepare(payload, author, checked=checked)
    rejected = [(i, tuple(r)) for i, r in prepared.rejected.items()]
    return marshal.dumps((prepared.size, rejected, [tuple(c) for c in prepared.candidates]))


def unpack(packed: bytes) -> Prepared:
    with no_gc():
        size, rejected, candidates = marshal.loads(packed)  # noqa: S302 - our own helper's bytes
        return Prepared(size, {i: ObjectResult(*r) for i, r in rejected}, [Candidate._make(c) for c in candidates])


def _prepare(payload: Payload, author: Author | None, checked: bool) -> Prepared:
    objects = objects_of(payload, checked=checked)
    prepared = Prepared(len(objects))
    for i, obj in enumerate(objects):
        rejection = _verdict(obj, author)
        if rejection is not None:
            prepared.rejected[i] = ObjectResult(reported_text(obj, "id"),
                                                reported_text(obj, "modified") or reported_text(obj, "created"),
                                                "rejected", str(rejection))
            continue
        version = obj.get("modified") or obj.get("created")
        modified = to_micros(version) if version else 0
        if modified is None:  # unreachable while the strict timestamp rules hold; kept as a hard stop
            prepared.rejected[i] = ObjectResult(obj["id"], None, "rejected", "timestamp: unreadable version")
            continue
        prepared.candidates.append(_candidate(i, obj, version, modified))
    return prepared


def _verdict(obj: Any, author: Author | None) -> validate.Rejection | None:
    """Validity first, then the hub's rules (``hub_rules``). An object the fast path accepts is a
    plain indicator whose ids it matched in lower case, so only the author and recipients are left
    to check; everything else takes every rule, a bundle refused before its contents are judged."""
    if type(obj) is not dict or not fastpath.accepts(obj):
        rejection = (container_problem(obj) or validate.check(obj) or id_case_problem(obj)
                     or tlp_definition_problem(obj))
        if rejection is not None:
            return rejection
    return authorship(obj, author) or recipients_form(obj)


def reported_text(obj: Any, key: str) -> str | None:
    """A string property of something that may not even be an object, for reporting a rejection:
    cut short, so a 10 MB bogus id is not echoed back nor kept in the status resource."""
    value = obj.get(key) if isinstance(obj, dict) else None
    return value[:_REPORTED_CHARS] if isinstance(value, str) else None


def _candidate(position: int, obj: dict[str, Any], version: str | None, modified: int) -> Candidate:
    valid_from, valid_until = obj.get("valid_from"), obj.get("valid_until")
    revoked = obj.get("revoked") is True
    values = (
        obj["id"],
        obj["type"],
        obj.get("spec_version", "2.1"),
        modified,
        obj.get("created_by_ref"),
        revoked,
        to_micros(valid_from) if isinstance(valid_from, str) else None,
        to_micros(valid_until) if isinstance(valid_until, str) else None,
        orjson.dumps(obj),
    )
    marked = tlp.marked_level(obj)
    return Candidate(position, obj["id"], obj["type"], version, modified, revoked, marked.value if marked else None,
                     values, tuple(tuple(e) for e in observables.extract(obj)),  # type: ignore[misc]
                     tuple(obj.get(RECIPIENTS_PROPERTY, ())), _refs(obj) if obj["type"] in POINTERS else ())


def _refs(obj: dict[str, Any]) -> tuple[str, ...]:
    """Valid objects only: each pointer is an id or a list of ids (the validator's word)."""
    found: dict[str, None] = {}
    for key in POINTERS[obj["type"]]:
        value = obj.get(key)
        for ref in value if isinstance(value, list) else (value,) if value is not None else ():
            found[ref] = None
    return tuple(found)
