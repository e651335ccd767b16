"""The comparisons of a pattern that name a value worth indexing: ``=``, ``IN`` and ``ISSUBSET``
with string literals, not negated, across ``AND``, ``OR`` and ``FOLLOWEDBY``.

A reference path such as ``network-traffic:dst_ref.value`` or ``email-message:to_refs[*].value``
names a value of another object: the term is given as that object's (``ipv4-addr:value`` …), so it
is indexed like the same value written directly. The type comes from a ``…_ref.type = '…'``
comparison in the same observation (MISP writes one), else from what the reference may point to.
``h'…'``, ``b'…'`` and ``t'…'`` literals are not values anyone looks up, and are skipped.
"""

from __future__ import annotations

from typing import Final

from exchange.stix.patterns.tree import Comparison, ObservationExpression, comparisons, observations

_INDEXED_OPS: Final = frozenset(("=", "IN", "ISSUBSET"))
_EMAIL_REFS: Final = frozenset(("from_ref", "sender_ref", "to_refs", "cc_refs", "bcc_refs"))
_ADDRESS_REFS: Final = frozenset(("src_ref", "dst_ref", "resolves_to_refs"))  # an address or a domain name

Term = tuple[str, tuple[str, ...], str]  # object type, path without list indexes, string value


def terms(tree: ObservationExpression) -> list[Term]:
    """Every indexable (object type, path, value) of a pattern, in pattern order."""
    found: list[Term] = []
    for observation in observations(tree):
        expression = observation.expression
        if type(expression) is Comparison:  # most observations: one comparison, which declares nothing
            leaves: list[Comparison] = [expression]
            declared: dict[str, str] = {}
        else:
            leaves = comparisons(expression)
            declared = {c.path[0]: c.value for c in leaves
                        if len(c.path) == 2 and c.path[1] == "type" and c.op == "=" and not c.negated
                        and type(c.value) is str and type(c.path[0]) is str and c.path[0].endswith(("_ref", "_refs"))}
        for c in leaves:
            if c.negated or c.op not in _INDEXED_OPS:
                continue
            value = c.value
            if type(value) is str:
                found.append(_term(c, value, declared))
            elif type(value) is tuple:
                found.extend(_term(c, v, declared) for v in value if type(v) is str)
    return found


def _term(c: Comparison, value: str, declared: dict[str, str]) -> Term:
    if len(c.path) == 1:  # the first step is always a key
        return c.object_type, c.path, value  # type: ignore[return-value]
    path = tuple(step for step in c.path if type(step) is str)
    ref = path[0]
    if len(path) == 2 and path[1] == "value" and ref.endswith(("_ref", "_refs")):
        target = declared.get(ref)
        if target is not None:
            return target, ("value",), value
        if ref in _EMAIL_REFS:
            return "email-addr", ("value",), value
        if ref in _ADDRESS_REFS:
            return _address_type(value), ("value",), value
    return c.object_type, path, value


def _address_type(value: str) -> str:
    """What an undeclared src_ref/dst_ref/resolves_to_refs value is, by its form (a wrong guess
    yields no row: an IP type with a value that is no address is not indexed)."""
    if ":" in value:
        return "ipv6-addr"
    return "ipv4-addr" if value[-1:].isdigit() else "domain-name"
