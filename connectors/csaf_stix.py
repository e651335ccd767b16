"""CSAF 2.0 advisories → STIX 2.1: validation against the OASIS JSON schema, then a pure mapping.

The schema (and the FIRST CVSS schemas it references) come from the ``csaf-lib`` package, so a run
never fetches a schema from the network. What an advisory becomes:

- its publisher → an ``identity`` (UUIDv5 of the publisher's ``namespace``), the author of the rest;
- each vulnerability → a ``vulnerability`` named by its CVE (else by its first ``ids`` entry), with the
  CVE and the advisory as external references, its CVSS scores in ``x_exchange_cvss``, the products
  of ``product_status`` ``known_affected``/``first_affected``/``last_affected`` in
  ``x_exchange_affected`` and of ``fixed``/``first_fixed`` in ``x_exchange_fixed`` (decision 0011's
  shape: ``cpe`` or ``purl`` from the product tree's identification helpers, else ``vendor`` and
  ``product``; a version as ``vers:generic/<version>``, a ``product_version_range`` written in
  ``vers:`` kept as it is);
- each remediation of category ``vendor_fix``, ``workaround`` or ``mitigation`` → a
  ``course-of-action`` and a ``mitigates`` relationship to the vulnerability.

Ids are UUIDv5 of the feed, the advisory's tracking id and the CVE (one advisory's CVE is one
object; a revision of the advisory is a new version of it, dated ``current_release_date``). The
document's TLP (``distribution.tlp.label``) marks every object but the publisher's identity.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema
from csaf_lib.verification import schemas
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4, DRAFT7

from connectors.base import NAMESPACE, Source, mark_unmarked
from exchange.assets.normalise import cpe_word
from exchange.stix import tlp

AFFECTED = ("known_affected", "first_affected", "last_affected")
FIXED = ("fixed", "first_fixed")
ACTIONS = frozenset({"vendor_fix", "workaround", "mitigation"})
_CVSS_REFS = {"https://www.first.org/cvss/cvss-v2.0.json": (schemas.CVSS_V2_0_SCHEMA_PATH, DRAFT4),
              "https://www.first.org/cvss/cvss-v3.0.json": (schemas.CVSS_V3_0_SCHEMA_PATH, DRAFT4),
              "https://www.first.org/cvss/cvss-v3.1.json": (schemas.CVSS_V3_1_SCHEMA_PATH, DRAFT7)}


@functools.cache
def _validator() -> jsonschema.Draft202012Validator:
    resources = [(ref, Resource.from_contents(json.loads(path.read_text()), default_specification=spec))
                 for ref, (path, spec) in _CVSS_REFS.items()]
    registry: Registry[Any] = Registry().with_resources(resources).crawl()
    schema = json.loads(schemas.CSAF_2_0_SCHEMA_PATH.read_text())
    return jsonschema.Draft202012Validator(schema, registry=registry)


def invalid(document: Any) -> str | None:
    """Why ``document`` is not a CSAF 2.0 document (the most relevant schema error), or None."""
    error = jsonschema.exceptions.best_match(_validator().iter_errors(document))
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path) or "the document"
    return f"{where}: {error.message[:200]}"


@dataclass(frozen=True, slots=True)
class Product:
    """What the product tree says of one product id."""

    vendor: str | None
    name: str | None
    version: str | None = None  # a product_version branch
    versions: str | None = None  # a product_version_range branch (a vers: range)
    cpe: str | None = None
    purl: str | None = None

    def entry(self) -> dict[str, str] | None:
        """The product as ``x_exchange_affected``/``x_exchange_fixed`` name it (decision 0011)."""
        found: dict[str, str] = {}
        if self.cpe:
            found["cpe"] = self.cpe
        elif self.purl:
            found["purl"] = self.purl
        elif self.name:
            found |= {"vendor": cpe_word(self.vendor), "product": cpe_word(self.name)} if self.vendor else {
                "product": cpe_word(self.name)}
        else:
            return None
        if self.versions:
            found["versions"] = self.versions
        elif self.version and not (self.cpe or self.purl):
            found["versions"] = f"vers:generic/{self.version}"
        return found


def products(tree: Mapping[str, Any]) -> dict[str, Product]:
    """Every product id of a product tree: its branches (vendor → product name → version), its
    ``full_product_names`` and its relationships (a product as installed on or part of another)."""
    found: dict[str, Product] = {}

    def walk(branches: list[dict[str, Any]], trail: Product) -> None:
        for branch in branches:
            category, name = branch["category"], branch["name"]
            here = {"vendor": Product(name, trail.name, trail.version, trail.versions),
                    "product_name": Product(trail.vendor, name, trail.version, trail.versions),
                    "product_family": Product(trail.vendor, trail.name or name, trail.version, trail.versions),
                    "product_version": Product(trail.vendor, trail.name, name, None),
                    "product_version_range": Product(trail.vendor, trail.name, None,
                                                     name if name.startswith("vers:") else None),
                    }.get(category, trail)
            if "product" in branch:
                found[branch["product"]["product_id"]] = _identified(here, branch["product"])
            walk(branch.get("branches") or [], here)

    walk(tree.get("branches") or [], Product(None, None))
    for full in tree.get("full_product_names") or ():
        found[full["product_id"]] = _identified(Product(None, full["name"]), full)
    for link in tree.get("relationships") or ():
        full, referenced = link["full_product_name"], found.get(link["product_reference"])
        found[full["product_id"]] = _identified(referenced or Product(None, full["name"]), full)
    return found


def _identified(product: Product, full: Mapping[str, Any]) -> Product:
    helper = full.get("product_identification_helper") or {}
    cpe, purl = helper.get("cpe"), helper.get("purl")
    return Product(product.vendor, product.name or full.get("name"), product.version, product.versions,
                   cpe or product.cpe, purl or product.purl)


def stix_time(text: str) -> str:
    """A CSAF date-time (any offset) as a STIX timestamp in UTC."""
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def document_level(document: Mapping[str, Any]) -> tlp.Tlp | None:
    label = ((document.get("distribution") or {}).get("tlp") or {}).get("label")
    return tlp.parse(label) if isinstance(label, str) else None


def convert(source: Source, advisory: Mapping[str, Any], url: str, *,
            fallback: tlp.Tlp | None = None) -> list[dict[str, Any]]:
    """A valid CSAF 2.0 advisory (``invalid`` said None) → STIX objects, marked with the document's
    TLP, else ``fallback`` (the listing's), else left to the feed's."""
    document = advisory["document"]
    tracking, publisher = document["tracking"], document["publisher"]
    author = {"type": "identity", "spec_version": "2.1",
              "id": f"identity--{uuid.uuid5(NAMESPACE, publisher['namespace'])}",
              "created": "2020-01-01T00:00:00.000Z", "modified": "2020-01-01T00:00:00.000Z",
              "name": publisher["name"], "identity_class": "organization"}
    common = {"spec_version": "2.1", "created": stix_time(tracking["initial_release_date"]),
              "modified": stix_time(tracking["current_release_date"]), "created_by_ref": author["id"]}
    advisory_ref = {"source_name": publisher["name"], "external_id": tracking["id"], "url": url}
    known = products(advisory.get("product_tree") or {})
    objects: list[dict[str, Any]] = []
    for vulnerability in advisory.get("vulnerabilities") or ():
        objects.extend(_vulnerability(source, vulnerability, tracking["id"], document["title"], common, advisory_ref,
                                      known))
    # The publisher is public (its provider metadata names it) and one object for all its advisories:
    # marked with the first one's TLP it would hide the author of every later, laxer advisory.
    return [author, *mark_unmarked(objects, document_level(document) or fallback)]


def _vulnerability(source: Source, found: Mapping[str, Any], tracking_id: str, title: str, common: dict[str, Any],
                   advisory_ref: dict[str, str], known: dict[str, Product]) -> Iterator[dict[str, Any]]:
    cve = found.get("cve")
    other = (found.get("ids") or [{}])[0]
    name = cve or (f"{other['system_name']} {other['text']}" if other else None)
    if name is None:
        return  # nothing names it: nothing another source could ever say about the same flaw
    status = found.get("product_status") or {}
    key = f"{tracking_id} {name}"
    vulnerability: dict[str, Any] = {
        "type": "vulnerability", "id": source.derived_id("vulnerability", key), **common, "name": name,
        "description": _description(found) or found.get("title") or title,
        "external_references": [*([{"source_name": "cve", "external_id": cve}] if cve else []), advisory_ref],
        "x_exchange_affected": _entries(status, AFFECTED, known),
    }
    if fixed := _entries(status, FIXED, known):
        vulnerability["x_exchange_fixed"] = fixed
    if scores := _cvss(found.get("scores") or ()):
        vulnerability["x_exchange_cvss"] = scores
    yield vulnerability
    for n, remedy in enumerate(found.get("remediations") or ()):
        if remedy["category"] not in ACTIONS:
            continue
        action: dict[str, Any] = {
            "type": "course-of-action", "id": source.derived_id("course-of-action", f"{key} {n}"), **common,
            "name": f"{name}: {remedy['category'].replace('_', ' ')}", "description": remedy["details"],
            "x_exchange_remediation": remedy["category"],
            "x_exchange_products": [e for p in remedy.get("product_ids") or () if (e := _entry(known, p))],
        }
        if remedy.get("url"):
            action["external_references"] = [{"source_name": advisory_ref["source_name"], "url": remedy["url"]}]
        yield action
        yield {"type": "relationship", "id": source.derived_id("relationship", f"{key} {n} mitigates"), **common,
               "relationship_type": "mitigates", "source_ref": action["id"], "target_ref": vulnerability["id"]}


def _description(found: Mapping[str, Any]) -> str | None:
    texts = [n["text"] for n in found.get("notes") or () if n.get("category") in ("description", "summary")]
    return "\n\n".join(texts) or None


def _entry(known: dict[str, Product], product_id: str) -> dict[str, str] | None:
    product = known.get(product_id)
    return product.entry() if product is not None else None


def _entries(status: Mapping[str, Any], fields: tuple[str, ...], known: dict[str, Product]) -> list[dict[str, str]]:
    entries = [e for f in fields for p in status.get(f) or () if (e := _entry(known, p))]
    unique = {json.dumps(e, sort_keys=True): e for e in entries}
    return list(unique.values())


def _cvss(scores: Any) -> list[dict[str, Any]]:
    """Each distinct CVSS vector: version, vector, base score and severity."""
    found: dict[str, dict[str, Any]] = {}
    for score in scores:
        for key in ("cvss_v3", "cvss_v2"):
            cvss = score.get(key)
            if cvss and cvss["vectorString"] not in found:
                found[cvss["vectorString"]] = {"version": cvss["version"], "vector": cvss["vectorString"],
                                               "base_score": cvss["baseScore"],
                                               **({"base_severity": cvss["baseSeverity"].lower()}
                                                  if cvss.get("baseSeverity") else {})}
    return list(found.values())
