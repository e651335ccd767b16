"""What one message about one alert may say to one subscriber, read through the one read rule.

Everything is read as the recipient organisation may read it (``sharing.access.readers``): the object,
the publisher's identity (its contact), the ``mitigates`` relationships and their ``course-of-action``
objects (the steps), so a message never says more than that organisation may read. A TLP:RED object
in an e-mail, or a withheld alert (its asset is not verified yet), never has its content read at all:
the message says only that there is something to read, and where (``wording`` strips the rest again).

The wording itself is ``exchange.alerts.wording``, the same text the web inbox shows.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from exchange.alerts import candidates, links
from exchange.alerts.delivery.models import Channel, Subscription
from exchange.alerts.message import Message, Sender
from exchange.alerts.models import Alert, AlertEventType, AlertKind, Severity, SourceGrade
from exchange.assets.models import Asset
from exchange.orgs.models import Org
from exchange.stix.tlp import Tlp
from exchange.store.models import ObjectRef, StixObject

EXPLOITED_LABELS = frozenset({"known-exploited", "kev", "exploited"})  # as alerts.finders reads them
_SECONDS = 1_000_000
_ITEM = re.compile(r"^\s*(?:\d{1,2}[.)]|[-*•])\s+(.+?)\s*$")  # "1. Do this", "- Do that"
_NEWEST_FIRST = (StixObject.modified.desc(), StixObject.pk.desc())
_MAX_STEP = 400  # characters of one step; the full course of action is a click away


@dataclass(frozen=True, slots=True)
class _Seen:
    """Which version of an alerted object one organisation may read now, who published it, how to reach them."""

    obj: StixObject | None
    publisher: Org | None
    contact: str | None


class Composer:
    """Messages for one dispatch batch, in its transaction: what one organisation may read of one object
    version is read once, however many messages are about it (an e-mail and a webhook per alert, an
    alert per asset the object names); its content only when a message may show it.

    ``subjects_only``: for a list of subjects (the web inbox), which shows no steps, no contact and no answer
    links: the queries that find the steps and the publisher's contact, and the links' signing, are left out."""

    def __init__(self, session: Session, base_url: str, *, subjects_only: bool = False,
                 assets: Mapping[int, Asset] | None = None) -> None:
        """``assets``: those the caller has already read (a page of alerts read with its assets)."""
        self.session, self.root, self.subjects_only = session, base_url.rstrip("/"), subjects_only
        self._seen: dict[tuple[int, str, int], _Seen] = {}
        self._content: dict[tuple[int, int], tuple[dict[str, Any], tuple[str, ...]]] = {}
        # held here: the session's identity map keeps only weak references
        self._assets: dict[int, Asset] = dict(assets or {})

    def prefetch(self, items: Iterable[tuple[Alert, Org]]) -> None:
        """Read what ``message`` needs for many (alert, recipient) pairs in a handful of queries, however many
        organisations and objects they span: the assets, every version of the objects, which of those
        versions each recipient may read (``access.readers``, all pairs in one statement), the publishers,
        and unless ``subjects_only`` their identities' contacts and the steps. One organisation at a time, a dispatch
        batch of 200 messages to 100 organisations was 300 queries; a web inbox page of 25 alerts about 25
        objects was three or four per alert."""
        items = list(items)
        if missing := {a.asset_pk for a, _ in items if a.asset_pk is not None} - self._assets.keys():
            self._assets.update((a.pk, a) for a in self.session.scalars(select(Asset).where(Asset.pk.in_(missing))))
        wanted_keys = {(org.pk, a.object_id, a.object_modified) for a, org in items} - self._seen.keys()
        if not wanted_keys:
            return
        wanted_ids = {(org_pk, stix_id) for org_pk, stix_id, _ in wanted_keys}
        # Each version with its publisher, in one statement: the publishers of versions the reader may not read
        # come along too, and are never shown.
        rows = self.session.execute(
            select(StixObject, Org).outerjoin(Org, Org.pk == StixObject.publisher_org_pk)
            .where(StixObject.stix_id.in_({stix_id for _, stix_id in wanted_ids})).order_by(*_NEWEST_FIRST)).all()
        publishers = {org.pk: org for _, org in rows if org is not None}
        versions = _readable(self.session, wanted_ids, (obj for obj, _ in rows))
        chosen = {key: _choose(versions.get((key[0], key[1]), []), key[2]) for key in wanted_keys}
        objects = {obj.pk: obj for obj in chosen.values() if obj is not None}
        authors = {pk: set() if self.subjects_only else _authors(obj, publishers.get(obj.publisher_org_pk or 0))
                   for pk, obj in objects.items()}
        wanted_authors = {(org_pk, i) for (org_pk, _, _), obj in chosen.items() if obj is not None
                          for i in authors[obj.pk]}
        identities = _readable_versions(self.session, wanted_authors, select(StixObject).where(
            StixObject.type == "identity", StixObject.stix_id.in_({i for _, i in wanted_authors})))
        parsed: dict[int, dict[str, Any]] = {}  # each version once, however many organisations read it
        for key, obj in chosen.items():
            publisher = publishers.get(obj.publisher_org_pk or 0) if obj is not None else None
            contact = None if obj is None else _first_contact(
                _body(parsed, version) for version in sorted(
                    (v for i in authors[obj.pk] for v in identities.get((key[0], i), [])),
                    key=lambda v: v.modified, reverse=True))
            self._seen[key] = _Seen(obj, publisher, contact)
        # Steps: not for what no message shows, a withheld alert, a TLP:RED object (``_read`` if a webhook may).
        if not self.subjects_only:
            shown = {(org.pk, a.object_id, a.object_modified) for a, org in items if not a.withheld}
            for (org_pk, obj_pk), actions in steps(self.session, {
                    (key[0], obj.pk): obj for key, obj in chosen.items()
                    if obj is not None and key in shown and obj.tlp != Tlp.red.value}).items():
                self._content[(org_pk, obj_pk)] = (_body(parsed, objects[obj_pk]), actions)

    def asset(self, alert: Alert) -> Asset | None:
        """The asset the alert concerns (None: an alert about a sector, or an asset since removed)."""
        if alert.asset_pk is None:
            return None
        if (found := self._assets.get(alert.asset_pk)) is None:
            found = self.session.get(Asset, alert.asset_pk)
        return found

    def _version(self, alert: Alert, org: Org) -> _Seen:
        key = (org.pk, alert.object_id, alert.object_modified)
        if key not in self._seen:
            self.prefetch([(alert, org)])
        return self._seen[key]

    def _read(self, org: Org, obj: StixObject) -> tuple[dict[str, Any], tuple[str, ...]]:
        """The object's words and the publisher's steps for it: only for a message that may show them."""
        key = (org.pk, obj.pk)
        if (found := self._content.get(key)) is None:
            if self.subjects_only:
                return json.loads(obj.raw), ()
            found = self._content[key] = (json.loads(obj.raw), steps(self.session, {key: obj})[key])
        return found

    def message(self, alert: Alert, org: Org, sub: Subscription,
                event: AlertEventType = AlertEventType.created) -> Message:
        """The message about ``alert`` for ``org``'s subscription ``sub``, as ``org`` may read it now (without
        steps, contact and links when ``subjects_only``)."""
        seen = self._version(alert, org)
        tlp = seen.obj.tlp if seen.obj is not None else Tlp.red.value  # unreadable now: say nothing, as for RED
        hidden = alert.withheld or (tlp == Tlp.red.value and sub.channel == Channel.email)
        raw, actions = (self._read(org, seen.obj) if seen.obj is not None and not hidden
                        else ({}, ()))
        asset = self.asset(alert)
        cleared = event is AlertEventType.cleared
        return Message(
            kind=AlertKind(alert.kind), severity=Severity(alert.severity), grade=SourceGrade(alert.grade), tlp=tlp,
            organisation=org.name, asset=asset.value if asset is not None else alert.match_key,
            matched="" if alert.withheld else alert.matched,
            published_at=datetime.fromtimestamp(alert.object_modified / _SECONDS, tz=UTC),
            sender=Sender(name=seen.publisher.name if seen.publisher is not None else "the hub", contact=seen.contact),
            read_url=f"{self.root}/inbox/{alert.pk}", cleared=cleared, withheld=alert.withheld,
            answer_urls={} if alert.withheld or cleared or self.subjects_only
            else links.answer_urls(self.session, alert, self.root),
            title=_text(raw.get("name")), description=_text(raw.get("description")),
            steps=actions,
            software=_software(asset) if alert.kind == AlertKind.software and not alert.withheld else None,
            exploited=bool(raw) and _exploited(raw), sector=alert.matched if alert.kind == AlertKind.sector else None,
            timezone=sub.timezone)


def message(session: Session, alert: Alert, org: Org, sub: Subscription, *, base_url: str,
            event: AlertEventType = AlertEventType.created) -> Message:
    """One message on its own (a batch uses one ``Composer`` for all of its messages)."""
    return Composer(session, base_url).message(alert, org, sub, event)


def _choose(newest_first: Sequence[StixObject], modified: int) -> StixObject | None:
    """``_object``'s choice among the readable versions of one object, given newest first."""
    return next((v for v in newest_first if v.modified == modified), newest_first[0] if newest_first else None)


def steps(session: Session, wanted: Mapping[tuple[int, int], StixObject]) -> dict[tuple[int, int], tuple[str, ...]]:
    """For each (reader organisation pk, object pk) -> object: the steps of the publisher's
    ``course-of-action`` objects that ``mitigates`` the object and the reader may read, oldest first. Each
    numbered or bulleted line of a description is a step, else the whole description (or the name)."""
    out: dict[tuple[int, int], tuple[str, ...]] = dict.fromkeys(wanted, ())
    targets = {obj.stix_id for obj in wanted.values()}
    if not targets:
        return out
    parsed: dict[int, dict[str, Any]] = {}  # each relationship and action once, however many organisations
    rels = _readable_versions(session, {(org_pk, obj.stix_id) for (org_pk, _), obj in wanted.items()}, select(
        # Found by what they point at only (the publisher is compared below): a filter on the publisher too led
        # SQLite, which plans without statistics, to read every object of the publisher instead (6 ms at 100k).
        StixObject).where(StixObject.type == "relationship", StixObject.revoked.is_(False),
                          StixObject.pk.in_(select(ObjectRef.object_pk).where(ObjectRef.ref.in_(targets)))),
        by=lambda rel: str(_body(parsed, rel).get("target_ref", "")))
    sources: dict[tuple[int, int], list[str]] = {}
    for (org_pk, obj_pk), obj in wanted.items():
        for rel in rels.get((org_pk, obj.stix_id), []):
            body = _body(parsed, rel)
            if (rel.publisher_org_pk == obj.publisher_org_pk and body.get("relationship_type") == "mitigates"
                    and str(body.get("source_ref", "")).startswith("course-of-action--")):
                sources.setdefault((org_pk, obj_pk), []).append(body["source_ref"])
    if not sources:
        return out
    actions = _readable_versions(session, {(key[0], ref) for key, refs in sources.items() for ref in refs}, select(
        StixObject).where(StixObject.stix_id.in_({ref for refs in sources.values() for ref in refs}),
                          StixObject.revoked.is_(False)))
    for key, refs in sources.items():
        publisher = wanted[key].publisher_org_pk
        found: dict[str, list[str]] = {}
        for action in sorted((v for ref in set(refs) for v in actions.get((key[0], ref), [])
                              if v.publisher_org_pk == publisher), key=lambda v: v.pk):
            found[action.stix_id] = _action_steps(_body(parsed, action))  # the newest readable version wins
        out[key] = tuple(step[:_MAX_STEP] for action_steps in found.values() for step in action_steps)
    return out


def _readable_versions(session: Session, wanted: set[tuple[int, str]], query: Select[StixObject], *,
                       by: Callable[[StixObject], str] = lambda obj: obj.stix_id,
                       ) -> dict[tuple[int, str], list[StixObject]]:
    """(organisation pk, key) -> the versions ``query`` finds under that key (``by``: the STIX id) that the
    organisation may read, newest first. The versions are read once for all organisations and the read rule
    is asked for all (organisation, version) pairs in one statement (``access.readers``)."""
    if not wanted:
        return {}
    return _readable(session, wanted, session.scalars(query.order_by(*_NEWEST_FIRST)), by=by)


def _readable(session: Session, wanted: set[tuple[int, str]], versions: Iterable[StixObject], *,
              by: Callable[[StixObject], str] = lambda obj: obj.stix_id) -> dict[tuple[int, str], list[StixObject]]:
    """``_readable_versions`` of versions already read, newest first."""
    ids = {key for _, key in wanted}
    found: dict[str, list[StixObject]] = {}
    for obj in versions:
        if (key := by(obj)) in ids:
            found.setdefault(key, []).append(obj)
    allowed = candidates.readable(session, ((org_pk, obj.pk) for org_pk, key in wanted for obj in found.get(key, [])))
    return {(org_pk, key): [obj for obj in found.get(key, []) if (org_pk, obj.pk) in allowed]
            for org_pk, key in wanted}


def _body(parsed: dict[int, dict[str, Any]], obj: StixObject) -> dict[str, Any]:
    """``obj``'s JSON, parsed once into ``parsed``: a batch reads the same version for many organisations."""
    if obj.pk not in parsed:
        parsed[obj.pk] = json.loads(obj.raw)
    return parsed[obj.pk]


def _action_steps(action: Mapping[str, Any]) -> list[str]:
    description, name = _text(action.get("description")), _text(action.get("name"))
    if description is None:
        return [name] if name else []
    items = [m.group(1) for line in description.splitlines() if (m := _ITEM.match(line))]
    return items if len(items) >= 2 else [" ".join(description.split())]


def _authors(obj: StixObject, publisher: Org | None) -> set[str]:
    return {i for i in (obj.created_by_ref, publisher.identity_id if publisher is not None else None) if i}


def _first_contact(identities: Iterable[Mapping[str, Any]]) -> str | None:
    for identity in identities:
        if contact := _text(identity.get("contact_information")):
            return contact[:300]
    return None


def _software(asset: Asset | None) -> str | None:
    if asset is None or not asset.sw_product:
        return None
    return " ".join(part for part in (asset.sw_vendor, asset.sw_product, asset.sw_version) if part)


def _exploited(raw: Mapping[str, Any]) -> bool:
    labels = raw.get("labels")
    named = {label.lower() for label in labels if isinstance(label, str)} if isinstance(labels, list) else set()
    return raw.get("x_exchange_exploited") is True or bool(EXPLOITED_LABELS & named)


def _text(value: object) -> str | None:
    return value[:2000] if isinstance(value, str) and value.strip() else None
