"""Feeds: configure them, and run one — the runner every connector shares.

A run stores each page the connector yields, with the bookmark that holds after it, in one
transaction: a run that fails half-way (the source went away, its format changed) keeps every page
before the failure, and the next run resumes from that bookmark, so nothing is lost or stored twice
and no page is ever half-applied. Objects go through ``store.ingest`` as the feed's owner (the
relayer, decision 0003) with the feed's provenance: the source's identity as author where the source
names none, the feed's TLP and confidence where the source gives none. Decision 0013.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

import connectors
from connectors.base import TLP2_MARKING, FeedError, Page, Retry, Source
from exchange.core.db import transaction
from exchange.core.errors import BadRequest, Conflict, ExchangeError, NotFound
from exchange.core.timestamps import from_micros, now_micros
from exchange.feeds import owners, push
from exchange.feeds.models import Feed, FeedItem, FeedRun
from exchange.feeds.schedule import MIN_EVERY_SECONDS, parse_cron, parse_every
from exchange.orgs import service as orgs
from exchange.orgs.models import Org
from exchange.stix import tlp
from exchange.store import reads
from exchange.store.ingest import IngestResult, ingest
from exchange.store.models import Collection, StixObject

NAME = re.compile(r"[a-z0-9](?:[a-z0-9_.-]{0,62}[a-z0-9])?")
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,99}")
_PROBLEMS_KEPT = 5
_EXPIRE_BATCH = 1000


@dataclass(frozen=True, slots=True)
class FeedSpec:
    """A feed as it is configured (the REST body and the CLI options say the same)."""

    name: str
    kind: str
    url: str
    collection: Collection
    owner: Org | None = None
    username: str | None = None
    password_env: str | None = None
    tlp: tlp.Tlp | None = None
    confidence: int | None = None
    every_seconds: int = 3600
    options: Mapping[str, Any] | None = None
    cron: str | None = None


def create(session: Session, spec: FeedSpec) -> Feed:
    if not NAME.fullmatch(spec.name):
        raise BadRequest("name: lower-case letters, digits, '.', '_' and '-', at most 64")
    if spec.kind not in connectors.KINDS and spec.kind not in connectors.PUSH_KINDS:
        raise BadRequest(f"kind: one of {', '.join(sorted([*connectors.KINDS, *connectors.PUSH_KINDS]))}")
    if spec.kind in connectors.PUSH_KINDS and spec.owner is None:
        raise BadRequest("owner: a push feed forwards what its owner may read; name the organisation")
    if not spec.url.startswith(("http://", "https://")):
        raise BadRequest("url: an http(s) URL")
    if spec.password_env is not None and not ENV_NAME.fullmatch(spec.password_env):
        raise BadRequest("password_env: the name of an environment variable (letters, digits, '_')")
    if spec.owner is not None and not spec.owner.role.can_publish:
        raise BadRequest("owner: a feed relays others' objects, which only csirt, isac and admin organisations "
                         "may do (decision 0003)")
    level = spec.tlp.value if spec.tlp is not None else connectors.DEFAULT_TLP.get(spec.kind)
    if spec.every_seconds < MIN_EVERY_SECONDS:
        raise BadRequest(f"every: at least {MIN_EVERY_SECONDS} seconds")
    if session.scalar(select(Feed.pk).where(Feed.name == spec.name)) is not None:
        raise Conflict(f"a feed named {spec.name!r} exists")
    feed = Feed(name=spec.name, kind=spec.kind, url=spec.url, username=spec.username, password_env=spec.password_env,
                owner_org_pk=spec.owner.pk if spec.owner is not None else None, collection_pk=spec.collection.pk,
                tlp=level, confidence=spec.confidence,
                options=dict(spec.options or {}), every_seconds=spec.every_seconds, cron=spec.cron, enabled=True,
                bookmark={},
                created_at=now_micros())
    session.add(feed)
    session.flush()
    return feed


def spec(session: Session, *, name: str, kind: str, url: str, owner: str | None = None, collection: str | None = None,
         username: str | None = None, password_env: str | None = None, tlp_level: tlp.Tlp | None = None,
         confidence: int | None = None, every: str = "1h", options: Mapping[str, Any] | None = None,
         cron: str | None = None) -> FeedSpec:
    """A feed's configuration as the API and the CLI give it: the owner by slug, the target
    collection by id (default: the default collection)."""
    return FeedSpec(name=name, kind=kind, url=url, collection=reads.get_collection(session, collection),
                    owner=orgs.get_by_slug(session, owner) if owner is not None else None, username=username,
                    password_env=password_env, tlp=tlp_level, confidence=confidence, every_seconds=parse_every(every),
                    options=options, cron=parse_cron(cron) if cron is not None else None)


def names_of(session: Session, feed: Feed) -> tuple[str | None, str]:
    """The owner's slug and the target collection's id, as the API and CLI show a feed."""
    owner = session.get(Org, feed.owner_org_pk) if feed.owner_org_pk is not None else None
    return (owner.slug if owner else None), session.get_one(Collection, feed.collection_pk).id


def get(session: Session, name: str) -> Feed:
    feed = session.scalar(select(Feed).where(Feed.name == name))
    if feed is None:
        raise NotFound(f"no feed {name!r}")
    return feed


def get_all(session: Session) -> list[Feed]:
    return list(session.scalars(select(Feed).order_by(Feed.name)))


def delete(session: Session, feed: Feed) -> None:
    session.delete(feed)


def make_due(feed: Feed) -> None:
    feed.last_run_at = None


def set_enabled(feed: Feed, enabled: bool) -> None:
    """A disabled feed keeps its configuration and bookmark; the schedule skips it until it is enabled again."""
    feed.enabled = enabled


def runs(session: Session, feed: Feed, *, limit: int = 20) -> list[FeedRun]:
    """The latest runs, newest first."""
    return list(session.scalars(select(FeedRun).where(FeedRun.feed_pk == feed.pk)
                                .order_by(FeedRun.pk.desc()).limit(limit)))


@dataclass(slots=True)
class RunCounts:
    run: int
    fetched: int = 0
    added: int = 0
    duplicates: int = 0
    rejected: int = 0
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"run": self.run, "fetched": self.fetched, "added": self.added, "duplicates": self.duplicates,
                "rejected": self.rejected, "error": self.error}


@dataclass(frozen=True, slots=True)
class _Target:
    """What a run needs of the feed's records, read once at its start."""

    feed_pk: int
    source: Source
    collection_pk: int
    owner_pk: int | None
    tlp: str | None
    confidence: int | None
    bookmark: dict[str, Any]


def run(sessions: sessionmaker[Session], name: str, *, retry: Retry | None = None,
        on_page: Callable[[RunCounts], None] | None = None) -> RunCounts:
    """Run the feed once, now; the run is recorded whatever happens. A failure of the source
    (``FeedError``) or of its data (``ExchangeError``) ends the run with its message in the run's
    ``error``; anything else is recorded too, and raised."""
    with transaction(sessions) as session:
        feed = get(session, name)
        started = now_micros()
        record = FeedRun(feed_pk=feed.pk, started_at=started, fetched=0, added=0, duplicates=0, rejected=0,
                         problems="")
        session.add(record)
        feed.last_run_at = started
        session.flush()
        counts = RunCounts(record.pk)
        target = _target(feed, retry)
    problems: list[str] = []
    try:
        if target.source.secret is None and feed.password_env is not None:
            raise FeedError(f"the environment variable {feed.password_env} (the feed's password) is not set")
        if feed.kind in connectors.PUSH_KINDS:
            _push(sessions, feed.kind, target, counts, problems, on_page)
            return counts
        connector = connectors.KINDS[feed.kind]()
        first, snapshot = True, connector.snapshot(target.source)
        for page in connector.pages(target.source, target.bookmark):
            with transaction(sessions) as session:
                result = _store_page(session, target, page, counts.run, with_identity=first,
                                     snapshot=snapshot)
                _count(counts, page, result, problems)
                session.execute(update(Feed).where(Feed.pk == target.feed_pk).values(bookmark=page.bookmark))
                _save(session, counts, problems)
            first = False
            if on_page is not None:
                on_page(counts)
        if snapshot and not first:  # a complete listing was read (not a 304)
            _expire_vanished(sessions, target, counts, problems)
    except (FeedError, ExchangeError) as exc:
        counts.error = exc.description if isinstance(exc, ExchangeError) else str(exc)
    except Exception as exc:
        counts.error = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        with transaction(sessions) as session:
            _save(session, counts, problems, ended=True)
    return counts


def _push(sessions: sessionmaker[Session], kind: str, target: _Target, counts: RunCounts, problems: list[str],
          on_page: Callable[[RunCounts], None] | None) -> None:
    """A push feed's run: each batch the remote confirmed moves the bookmark (``exchange.feeds.push``)."""
    if target.owner_pk is None:
        raise FeedError("the push feed's owner was removed: it forwards what its owner may read")
    for batch in push.batches(sessions, kind, target.source, target.owner_pk, target.collection_pk, target.bookmark):
        counts.fetched += batch.fetched
        counts.added += batch.added
        counts.rejected += batch.rejected
        problems.extend(batch.problems[:max(0, _PROBLEMS_KEPT - len(problems))])
        with transaction(sessions) as session:
            session.execute(update(Feed).where(Feed.pk == target.feed_pk).values(bookmark=batch.bookmark))
            _save(session, counts, problems)
        if on_page is not None:
            on_page(counts)


def _target(feed: Feed, retry: Retry | None) -> _Target:
    secret = os.environ.get(feed.password_env) if feed.password_env else None
    source = Source(name=feed.name, url=feed.url, username=feed.username, secret=secret, options=dict(feed.options),
                    retry=retry or Retry(), since=from_micros(feed.created_at)[:-4] + "Z",
                    timeout_seconds=float(str(feed.options.get("timeout_seconds", 30))))
    return _Target(feed.pk, source, feed.collection_pk, feed.owner_org_pk, feed.tlp, feed.confidence,
                   dict(feed.bookmark))


def _store_page(session: Session, target: _Target, page: Page, run_pk: int, *, with_identity: bool,
                snapshot: bool) -> IngestResult:
    collection = session.get_one(Collection, target.collection_pk)
    owner = session.get(Org, target.owner_pk) if target.owner_pk is not None else None
    objects = [_with_provenance(o, target) for o in page.objects]
    if snapshot:
        _track(session, target.feed_pk, run_pk, objects)
    owners.name_owners(session, objects)
    if with_identity:
        objects.insert(0, target.source.identity)
    return ingest(session, objects, collection=collection, org=owner)


def _with_provenance(obj: dict[str, Any], target: _Target) -> dict[str, Any]:
    """The source's identity as author, the feed's TLP and confidence, where the source gives none.
    Marking definitions are left as they are (they are what others mark with)."""
    if obj.get("type") == "marking-definition":
        return obj
    if "created" in obj:
        obj.setdefault("created_by_ref", target.source.identity["id"])
        if target.confidence is not None:
            obj.setdefault("confidence", target.confidence)
    if target.tlp is not None and tlp.marked_level(obj) is None:
        obj["object_marking_refs"] = [*obj.get("object_marking_refs", []), TLP2_MARKING[tlp.Tlp(target.tlp)]]
    return obj


def _count(counts: RunCounts, page: Page, result: IngestResult, problems: list[str]) -> None:
    counts.fetched += page.fetched
    counts.added += result.added
    counts.duplicates += result.duplicates
    counts.rejected += result.rejected + len(page.problems)
    room = _PROBLEMS_KEPT - len(problems)
    if room > 0:
        found = [*page.problems, *(f"{r.id}: {r.message}" for r in result.results if r.status == "rejected")]
        problems.extend(found[:room])


def _save(session: Session, counts: RunCounts, problems: list[str], *, ended: bool = False) -> None:
    values: dict[str, Any] = {"fetched": counts.fetched, "added": counts.added, "duplicates": counts.duplicates,
                              "rejected": counts.rejected, "problems": "\n".join(problems)}
    if ended:
        values |= {"ended_at": now_micros(), "error": counts.error}
    session.execute(update(FeedRun).where(FeedRun.pk == counts.run).values(**values))


def _track(session: Session, feed_pk: int, run_pk: int, objects: list[dict[str, Any]]) -> None:
    """A snapshot feed's objects seen by this run. One that had expired (it left the feed, and is
    back) gets a new version, so its end of validity is lifted."""
    ids = [o["id"] for o in objects if isinstance(o.get("id"), str)]
    if not ids:
        return
    returning = set(session.scalars(select(FeedItem.stix_id).where(
        FeedItem.feed_pk == feed_pk, FeedItem.expired, FeedItem.stix_id.in_(ids))))
    if returning:
        now = from_micros(now_micros())
        for obj in objects:
            if obj.get("id") in returning:
                obj["modified"] = now
                obj.pop("valid_until", None)
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(FeedItem).values([{"feed_pk": feed_pk, "stix_id": i, "seen_run_pk": run_pk, "expired": False}
                                         for i in dict.fromkeys(ids)])
    session.execute(statement.on_conflict_do_update(index_elements=["feed_pk", "stix_id"],
                                                    set_={"seen_run_pk": run_pk, "expired": False}))


def _expire_vanished(sessions: sessionmaker[Session], target: _Target, counts: RunCounts,
                     problems: list[str]) -> None:
    """After a complete run of a snapshot feed: objects it no longer lists get a new version whose
    ``valid_until`` is now (they stay readable, as history, but stop counting as current)."""
    while True:
        with transaction(sessions) as session:
            ids = list(session.scalars(select(FeedItem.stix_id).where(
                FeedItem.feed_pk == target.feed_pk, FeedItem.seen_run_pk != counts.run, ~FeedItem.expired)
                .limit(_EXPIRE_BATCH)))
            if not ids:
                return
            raws = session.scalars(select(StixObject.raw).where(
                StixObject.stix_id.in_(ids), StixObject.is_latest, StixObject.collection_pk == target.collection_pk))
            ended = [_ended(orjson.loads(raw)) for raw in raws]
            collection = session.get_one(Collection, target.collection_pk)
            owner = session.get(Org, target.owner_pk) if target.owner_pk is not None else None
            result = ingest(session, ended, collection=collection, org=owner)
            _count(counts, Page([], {}, 0), result, problems)
            session.execute(update(FeedItem).where(FeedItem.feed_pk == target.feed_pk, FeedItem.stix_id.in_(ids))
                            .values(expired=True))
            _save(session, counts, problems)


def _ended(obj: dict[str, Any]) -> dict[str, Any]:
    now = from_micros(now_micros())
    return obj | {"modified": now, "valid_until": now}

