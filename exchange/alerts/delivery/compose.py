"""What one message about one alert may say to one subscriber, read through the one read rule.

Everything is read with ``sharing.access.readable`` as the recipient organisation: the object, the
publisher's identity (its contact), the ``mitigates`` relationships and their ``course-of-action``
objects (the steps), so a message never says more than that organisation may read. A TLP:RED object
in an e-mail, or a withheld alert (its asset is not verified yet), never has its content read at all:
the message says only that there is something to read, and where (``wording`` strips the rest again).

The wording itself is ``exchange.alerts.wording``, the same text the web inbox shows.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import LargeBinary, func, literal, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from exchange.alerts import links
from exchange.alerts.delivery.models import Channel, Subscription
from exchange.alerts.message import Message, Sender
from exchange.alerts.models import Alert, AlertEventType, AlertKind, Severity, SourceGrade
from exchange.assets.models import Asset
from exchange.orgs.models import Org
from exchange.sharing import access
from exchange.stix.tlp import Tlp
from exchange.store.models import StixObject

ANSWER_DAYS = links.LIFETIME_DAYS  # answer links work until the alert's last change plus this
EXPLOITED_LABELS = frozenset({"known-exploited", "kev", "exploited"})  # as alerts.finders reads them
_SECONDS = 1_000_000
_ITEM = re.compile(r"^\s*(?:\d{1,2}[.)]|[-*•])\s+(.+?)\s*$")  # "1. Do this", "- Do that"
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
    alert per asset the object names); its content only when a message may show it."""

    def __init__(self, session: Session, base_url: str) -> None:
        self.session, self.root = session, base_url.rstrip("/")
        self._seen: dict[tuple[int, str, int], _Seen] = {}
        self._content: dict[tuple[int, int], tuple[dict[str, Any], tuple[str, ...]]] = {}
        self._assets: dict[int, Asset] = {}  # held here: the session's identity map keeps only weak references

    def prefetch(self, alerts: Sequence[Alert], org: Org) -> None:
        """Read what ``message`` needs to know about many alerts of ``org`` in four queries instead of three
        or four per alert: their assets, the readable versions of their objects, the publishers, the
        publishers' contacts. A page of the web inbox words 25 alerts about 25 objects; one at a time, that
        was most of its time."""
        self._assets.update((a.pk, a) for a in self.session.scalars(select(Asset).where(
            Asset.pk.in_({a.asset_pk for a in alerts if a.asset_pk is not None} - self._assets.keys()))))
        wanted = [a for a in alerts if (org.pk, a.object_id, a.object_modified) not in self._seen]
        if not wanted:
            return
        versions: dict[str, list[StixObject]] = {}
        for obj in self.session.scalars(access.readable(org).where(
                StixObject.stix_id.in_({a.object_id for a in wanted})).order_by(StixObject.modified.desc())):
            versions.setdefault(obj.stix_id, []).append(obj)
        chosen = {a.pk: _choose(versions.get(a.object_id, []), a.object_modified) for a in wanted}
        objects = [obj for obj in chosen.values() if obj is not None]
        publishers = {o.pk: o for o in self.session.scalars(select(Org).where(
            Org.pk.in_({obj.publisher_org_pk for obj in objects if obj.publisher_org_pk})))}
        authors = {obj.pk: _authors(obj, publishers.get(obj.publisher_org_pk or 0)) for obj in objects}
        identities = _identities(self.session, org, set().union(*authors.values())) if authors else []
        for alert in wanted:
            found = chosen[alert.pk]
            publisher = publishers.get(found.publisher_org_pk or 0) if found is not None else None
            contact = None if found is None else _first_contact(i for i in identities if i["id"] in authors[found.pk])
            self._seen[(org.pk, alert.object_id, alert.object_modified)] = _Seen(found, publisher, contact)

    def asset(self, alert: Alert) -> Asset | None:
        """The asset the alert concerns (None: an alert about a sector, or an asset since removed)."""
        if alert.asset_pk is None:
            return None
        if (found := self._assets.get(alert.asset_pk)) is None:
            found = self.session.get(Asset, alert.asset_pk)
        return found

    def _version(self, alert: Alert, org: Org) -> _Seen:
        key = (org.pk, alert.object_id, alert.object_modified)
        if (seen := self._seen.get(key)) is None:
            obj = _object(self.session, org, alert)
            publisher = (self.session.get(Org, obj.publisher_org_pk)
                         if obj is not None and obj.publisher_org_pk else None)
            contact = None if obj is None else _contact(self.session, org, obj, publisher)
            seen = self._seen[key] = _Seen(obj, publisher, contact)
        return seen

    def _read(self, org: Org, obj: StixObject, *, with_steps: bool) -> tuple[dict[str, Any], tuple[str, ...]]:
        """The object's words and the publisher's steps for it: only for a message that may show them."""
        key = (org.pk, obj.pk)
        if (found := self._content.get(key)) is None:
            if not with_steps:
                return json.loads(obj.raw), ()
            found = self._content[key] = (json.loads(obj.raw), steps(self.session, org, obj))
        return found

    def message(self, alert: Alert, org: Org, sub: Subscription,
                event: AlertEventType = AlertEventType.created, *, with_steps: bool = True) -> Message:
        """The message about ``alert`` for ``org``'s subscription ``sub``, as ``org`` may read it now.
        ``with_steps=False`` leaves the steps out, and the two queries that find them: for a list of
        subjects (the web inbox), which never shows them."""
        seen = self._version(alert, org)
        tlp = seen.obj.tlp if seen.obj is not None else Tlp.red.value  # unreadable now: say nothing, as for RED
        hidden = alert.withheld or (tlp == Tlp.red.value and sub.channel == Channel.email)
        raw, actions = (self._read(org, seen.obj, with_steps=with_steps) if seen.obj is not None and not hidden
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
            answer_urls={} if alert.withheld or cleared else answer_urls(self.session, alert, self.root),
            title=_text(raw.get("name")), description=_text(raw.get("description")),
            steps=actions,
            software=_software(asset) if alert.kind == AlertKind.software and not alert.withheld else None,
            exploited=bool(raw) and _exploited(raw), sector=alert.matched if alert.kind == AlertKind.sector else None,
            timezone=sub.timezone)


def message(session: Session, alert: Alert, org: Org, sub: Subscription, *, base_url: str,
            event: AlertEventType = AlertEventType.created) -> Message:
    """One message on its own (a batch uses one ``Composer`` for all of its messages)."""
    return Composer(session, base_url).message(alert, org, sub, event)


def _object(session: Session, org: Org, alert: Alert) -> StixObject | None:
    """The version that alerted if ``org`` may still read it, else the newest one it may read."""
    return session.scalars(access.readable(org).where(StixObject.stix_id == alert.object_id)
                           .order_by((StixObject.modified == alert.object_modified).desc(),
                                     StixObject.modified.desc()).limit(1)).first()


def _choose(newest_first: Sequence[StixObject], modified: int) -> StixObject | None:
    """``_object``'s choice among the readable versions of one object, given newest first."""
    return next((v for v in newest_first if v.modified == modified), newest_first[0] if newest_first else None)


def answer_urls(session: Session, alert: Alert, root: str) -> dict[str, str]:
    """AlertState value -> one-click link, valid until the alert's last change plus ``ANSWER_DAYS``: a mail
    read after a holiday still works, and a link from a long-closed alert does not."""
    expires = max(alert.updated_at, alert.object_modified) // _SECONDS + ANSWER_DAYS * 86_400
    return {state.value: f"{root}/a/{links.token(session, alert.pk, state, expires=expires)}"
            for state in links.LINK_ANSWERS}


def raw_contains(session: Session, needle: str) -> ColumnElement[bool]:
    """``stix_object.raw`` contains ``needle``: a cheap first sieve, each hit is then parsed and checked."""
    value = literal(needle.encode(), LargeBinary)
    if session.get_bind().dialect.name == "postgresql":
        return func.position(value.op("IN")(StixObject.raw)) > 0
    return func.instr(StixObject.raw, value) > 0


def steps(session: Session, org: Org, obj: StixObject) -> tuple[str, ...]:
    """The steps of the publisher's ``course-of-action`` objects that ``mitigates`` ``obj``, oldest first:
    each numbered or bulleted line of a description is a step, else the whole description (or the name)."""
    rels = session.scalars(access.readable(org).with_only_columns(StixObject.raw).where(
        StixObject.type == "relationship", StixObject.revoked.is_(False),
        StixObject.publisher_org_pk == obj.publisher_org_pk, raw_contains(session, obj.stix_id)))
    sources = [rel["source_ref"] for rel in map(json.loads, rels)
               if rel.get("relationship_type") == "mitigates" and rel.get("target_ref") == obj.stix_id
               and str(rel.get("source_ref", "")).startswith("course-of-action--")]
    if not sources:
        return ()
    actions = session.scalars(access.readable(org).with_only_columns(StixObject.raw).where(
        StixObject.stix_id.in_(sources), StixObject.revoked.is_(False),
        StixObject.publisher_org_pk == obj.publisher_org_pk).order_by(StixObject.pk))
    found: dict[str, list[str]] = {}
    for action in map(json.loads, actions):
        found[action["id"]] = _action_steps(action)  # the newest readable version wins
    return tuple(step[:_MAX_STEP] for action_steps in found.values() for step in action_steps)


def _action_steps(action: Mapping[str, Any]) -> list[str]:
    description, name = _text(action.get("description")), _text(action.get("name"))
    if description is None:
        return [name] if name else []
    items = [m.group(1) for line in description.splitlines() if (m := _ITEM.match(line))]
    return items if len(items) >= 2 else [" ".join(description.split())]


def _contact(session: Session, org: Org, obj: StixObject, publisher: Org | None) -> str | None:
    """``contact_information`` of the identity that authored ``obj`` (or of the publisher's own identity)."""
    return _first_contact(_identities(session, org, _authors(obj, publisher)))


def _authors(obj: StixObject, publisher: Org | None) -> set[str]:
    return {i for i in (obj.created_by_ref, publisher.identity_id if publisher is not None else None) if i}


def _identities(session: Session, org: Org, ids: set[str]) -> list[dict[str, Any]]:
    """The readable versions of these identities, newest first."""
    if not ids:
        return []
    return [json.loads(raw) for raw in session.scalars(access.readable(org).with_only_columns(StixObject.raw).where(
        StixObject.stix_id.in_(ids), StixObject.type == "identity").order_by(StixObject.modified.desc()))]


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
