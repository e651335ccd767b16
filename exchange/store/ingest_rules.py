"""Who may store which version where: the look-up of what is stored of a batch's ids, and the
refusals ``ingest`` applies to each candidate (named recipients, the producer rule, a versioned
object's home collection, duplicates and revocation). Reads only; ``ingest_rows`` writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from exchange.orgs.models import Org
from exchange.stix.prepare import Candidate, ObjectResult
from exchange.store.ingest_rows import values_table
from exchange.store.models import Collection, StixObject

Version = tuple[int, bool, int | None, int]  # (modified, revoked, publisher org pk, collection pk)
Versions = dict[str, list[Version]]
# Types whose objects never get new versions (STIX 2.1 sections 6 and 7.2).
UNVERSIONED = frozenset({
    "artifact", "autonomous-system", "directory", "domain-name", "email-addr", "email-message", "file",
    "ipv4-addr", "ipv6-addr", "mac-addr", "mutex", "network-traffic", "process", "software", "url",
    "user-account", "windows-registry-key", "x509-certificate", "marking-definition",
})


@dataclass(slots=True)
class Stored:
    """What is stored of a batch's ids, in every collection (see ``existing``)."""

    versions: Versions = field(default_factory=dict)
    current: dict[str, list[int]] = field(default_factory=dict)  # pks of current versions
    producers: dict[str, set[int | None]] = field(default_factory=dict)  # who published each id
    homes: dict[str, tuple[int, int]] = field(default_factory=dict)  # (pk, collection pk) of its first row


def existing(session: Session, ids: list[str]) -> Stored:
    """Every stored version of the given ids, in any collection: the producer rule looks at all of
    them, a versioned object's versions are all of them (it lives in one collection, its *home*, the
    one of its first stored row), and SCOs keep their per-collection copies apart in ``ingest``.

    Filters on ``stix_id`` only, which leaves the planner a single index to use (see also ``ingest._lock``):
    one index probe per id, a join rather than ``IN``. PostgreSQL rechecks each row a hash index
    returns against the condition, which against a 10,000-id ``IN`` list was far slower than the
    join (decision 0007).
    """
    stored = Stored()
    columns = (StixObject.stix_id, StixObject.collection_pk, StixObject.modified, StixObject.revoked,
               StixObject.is_latest, StixObject.pk, StixObject.publisher_org_pk)
    wanted = values_table(session, ids)
    rows = session.execute(select(*columns).join(wanted, StixObject.stix_id == wanted.c.value))
    for stix_id, row_collection, modified, revoked, is_latest, pk, publisher in rows:
        stored.producers.setdefault(stix_id, set()).add(publisher)
        stored.versions.setdefault(stix_id, []).append((modified, revoked, publisher, row_collection))
        if is_latest:
            stored.current.setdefault(stix_id, []).append(pk)
        home = stored.homes.get(stix_id)
        if home is None or pk < home[0]:
            stored.homes[stix_id] = (pk, row_collection)
    return stored


def recipient_orgs(session: Session, candidates: list[Candidate]) -> dict[str, int]:
    """Organisation pk of every identity the batch names as a recipient."""
    named = {r for c in candidates for r in c.recipients}
    if not named:
        return {}
    rows = session.execute(select(Org.identity_id, Org.pk).where(Org.identity_id.in_(sorted(named))))
    return dict(rows.all())


def named_refusal(c: Candidate, recipients: dict[str, int]) -> ObjectResult | None:
    unknown = [r for r in c.recipients if r not in recipients]
    if not unknown:
        return None
    return ObjectResult(c.stix_id, c.version, "rejected",
                        f"x_exchange_recipients: no organisation here has identity {unknown[0]}")


def producer_refusal(c: Candidate, producers: set[int | None], publisher: int | None,
                      others_identities: set[str]) -> ObjectResult | None:
    """A member organisation may not version (or revoke) an object another one published, in any
    collection (STIX lets only an object's creator version it), nor publish another's identity."""
    if c.stix_id in others_identities:
        return ObjectResult(c.stix_id, c.version, "rejected",
                            "identity: this is another organisation's identity; only it publishes it")
    if c.type not in UNVERSIONED and any(p != publisher for p in producers):
        return ObjectResult(c.stix_id, c.version, "rejected",
                            "producer: another organisation published this object; only it may version or revoke it")
    return None


def others_identities(session: Session, candidates: list[Candidate], publisher: int | None) -> set[str]:
    """Ids of identity objects in the batch that are other organisations' identities."""
    named = sorted({c.stix_id for c in candidates if c.type == "identity"})
    if not named:
        return set()
    return set(session.scalars(select(Org.identity_id).where(Org.identity_id.in_(named), Org.pk != publisher)))


def home_refusal(session: Session, c: Candidate, home: tuple[int, int] | None, collection: Collection,
                  homes: dict[int, str]) -> ObjectResult | None:
    """A versioned object lives in the collection it was first published to, for every publisher,
    admins included: versions elsewhere would leave an older, laxer copy current in its first
    collection, show two current versions of one id, and let a revoked object live on. Checked
    before duplicates, so a copy of a stored version posted elsewhere is refused, not "duplicate".

    The message names the home collection's id, which only the producer (members meet the producer
    rule first) or an admin gets to read; it costs a query, but only on this rare path.
    """
    if c.type in UNVERSIONED or home is None or home[1] == collection.pk:
        return None
    if home[1] not in homes:
        homes[home[1]] = session.scalar(select(Collection.id).where(Collection.pk == home[1])) or "?"
    return ObjectResult(c.stix_id, c.version, "rejected",
                        f"collection: this object lives in collection {homes[home[1]]}; post its versions there")


def version_refusal(c: Candidate, versions: list[Version]) -> ObjectResult | None:
    """Why this version is not stored (duplicates count as successes), or None to store it."""
    if c.type in UNVERSIONED:  # ``versions`` are this publisher's own copies in this collection
        return ObjectResult(c.stix_id, c.version, "duplicate", "duplicate: unversioned object already stored")
    if any(v[0] == c.modified for v in versions):
        return ObjectResult(c.stix_id, c.version, "duplicate", "duplicate: this version is already stored")
    if any(v[1] for v in versions):
        return ObjectResult(c.stix_id, c.version, "rejected", "revoked: the object was revoked; revocation is final")
    return None


