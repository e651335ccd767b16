"""Pydantic models of the feeds API (``/api/v1/feeds``)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints

from exchange.core.text import NO_NUL
from exchange.core.timestamps import from_micros
from exchange.feeds.models import Feed, FeedRun
from exchange.stix.tlp import Tlp

Text = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=NO_NUL)]
Url = Annotated[str, StringConstraints(min_length=8, max_length=2048, pattern=r"^https?://[^\x00\s]+$")]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]{1,64}$")]
MAX_OPTIONS = 32  # settings of a feed's connector


class FeedIn(BaseModel):
    name: Annotated[str, StringConstraints(pattern=r"^[a-z0-9](?:[a-z0-9_.-]{0,62}[a-z0-9])?$")]
    kind: Annotated[str, StringConstraints(max_length=16, pattern=r"^[a-z][a-z-]*$")] = Field(
        description="taxii, csv, kev, misp, csaf or shadowserver; taxii-push sends instead")
    url: Url
    username: Text | None = None
    password_env: Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,99}$")] | None = Field(
        default=None, description="Environment variable of the hub's host holding the password (with username) "
        "or Bearer token; the secret itself is never stored")
    owner: Slug | None = Field(default=None, description="The relaying organisation (csirt, isac or admin); "
                               "default: the hub itself")
    collection: Annotated[str, StringConstraints(max_length=36, pattern=r"^[0-9a-f-]{36}$")] | None = Field(
        default=None, description="Target collection id; default: the default collection")
    tlp: Tlp | None = Field(default=None, description="Applied to objects the source leaves unmarked")
    confidence: int | None = Field(default=None, ge=0, le=100, description="Applied to SDOs without one")
    every: Annotated[str, StringConstraints(max_length=16, pattern=NO_NUL)] = Field(
        default="1h", description="Interval between scheduled runs: 90s, 30m, 1h, 1d")
    cron: Annotated[str, StringConstraints(min_length=9, max_length=100, pattern=NO_NUL)] | None = Field(
        default=None, description="A crontab schedule in UTC (minute hour day month weekday, e.g. '0 6 * * *'); "
        "replaces every")
    options: dict[str, Any] = Field(default_factory=dict, description="The connector's own settings "
                                    "(docs/decisions/0013-connectors.md)", max_length=MAX_OPTIONS)


class FeedOut(BaseModel):
    name: str
    kind: str
    url: str
    username: str | None
    password_env: str | None
    owner: str | None
    collection: str
    tlp: Tlp | None
    confidence: int | None
    every_seconds: int
    cron: str | None
    enabled: bool
    options: dict[str, Any]
    bookmark: dict[str, Any]
    created: str
    last_run: str | None


class FeedRunOut(BaseModel):
    id: int
    started: str
    ended: str | None
    fetched: int
    added: int
    duplicates: int
    rejected: int
    error: str | None
    problems: list[str] = Field(description="The first rejections, with why")


class FeedRunsOut(BaseModel):
    runs: list[FeedRunOut]


def feed_out(feed: Feed, owner: str | None, collection: str) -> FeedOut:
    return FeedOut(name=feed.name, kind=feed.kind, url=feed.url, username=feed.username,
                   password_env=feed.password_env, owner=owner, collection=collection,
                   tlp=Tlp(feed.tlp) if feed.tlp else None, confidence=feed.confidence,
                   every_seconds=feed.every_seconds, cron=feed.cron, enabled=feed.enabled, options=feed.options,
                   bookmark=feed.bookmark, created=from_micros(feed.created_at),
                   last_run=from_micros(feed.last_run_at) if feed.last_run_at else None)


def run_out(run: FeedRun) -> FeedRunOut:
    return FeedRunOut(id=run.pk, started=from_micros(run.started_at),
                      ended=from_micros(run.ended_at) if run.ended_at else None, fetched=run.fetched,
                      added=run.added, duplicates=run.duplicates, rejected=run.rejected, error=run.error,
                      problems=[p for p in run.problems.split("\n") if p])
