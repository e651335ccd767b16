"""Validation verdicts: at least as strict as ``stix2.parse(obj, allow_custom=True)``.

The fast path only ever *accepts* (common shapes it can prove valid); everything else goes to the
specification rules stix2 does not enforce (``strict``) and then to stix2 itself. So a rejection
always comes from stix2 or from a documented rule, never from the fast path's own guesswork.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from exchange.stix import fastpath, strict


class Rejection(NamedTuple):
    source: str  # "stix2" (the library said no), "spec" (a STIX 2.1 rule stix2 lets through), "hub" (ours)
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


def check(obj: Any) -> Rejection | None:
    """None when ``obj`` is a valid STIX 2.1 object, else why not."""
    if type(obj) is not dict:
        return Rejection("spec", "not-an-object", f"a STIX object is a JSON object, not {type(obj).__name__}")
    if fastpath.accepts(obj):
        return None
    violation = strict.violation(obj)
    if violation is not None:
        return violation
    import stix2  # here: a quarter of a second to import, and the fast path needs none of it

    try:
        stix2.parse(obj, allow_custom=True)
    except Exception as exc:  # any failure inside stix2 is its verdict on this object
        return Rejection("stix2", type(exc).__name__, str(exc)[:500])
    return None
