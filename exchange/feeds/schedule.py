"""When a feed runs: every N seconds after its last run, or on a cron schedule (APScheduler's
``CronTrigger``, five fields, in UTC). A feed with a cron is due once the first time its expression
names after its last run's start has come: a worker that was down for a week runs it once, not
seven times. A feed that never ran (or was made due by ``POST .../run``) is due at once, with or
without a cron. Decision 0013, "Schedule".
"""

from __future__ import annotations

import datetime as dt
import functools
import re

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import select
from sqlalchemy.orm import Session

from exchange.core.errors import BadRequest
from exchange.feeds.models import Feed

_INTERVAL = re.compile(r"(\d+)\s*([smhd]?)")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
MIN_EVERY_SECONDS = 60


def parse_every(text: str) -> int:
    """``90``, ``30m``, ``1h``, ``1d`` → seconds, at least a minute (a feed polled faster than that
    gains nothing and may get the hub banned by its source)."""
    match = _INTERVAL.fullmatch(text.strip().lower())
    if match is None:
        raise BadRequest(f"every: {text[:40]!r} is not an interval like 90s, 30m, 1h or 1d")
    seconds = int(match[1]) * _UNIT_SECONDS[match[2]]
    if seconds < MIN_EVERY_SECONDS:
        raise BadRequest(f"every: at least {MIN_EVERY_SECONDS} seconds")
    return seconds


def format_every(seconds: int) -> str:
    """Seconds as ``parse_every`` reads them, in the largest whole unit: 3600 → ``1h``, 90 → ``90s``."""
    for unit in ("d", "h", "m"):
        if seconds % _UNIT_SECONDS[unit] == 0:
            return f"{seconds // _UNIT_SECONDS[unit]}{unit}"
    return f"{seconds}s"


def parse_cron(text: str) -> str:
    """A crontab expression (minute hour day month weekday, e.g. ``0 6 * * *``), checked; returned
    with its fields separated by one space."""
    fields = text.split()
    try:
        _trigger(" ".join(fields))
    except ValueError as exc:
        raise BadRequest(f"cron: {text[:60]!r} is not a crontab expression (minute hour day month weekday): "
                         f"{exc}") from None
    return " ".join(fields)


@functools.lru_cache(maxsize=256)
def _trigger(cron: str) -> CronTrigger:
    return CronTrigger.from_crontab(cron, timezone=dt.UTC)


def next_run(cron: str, last: int) -> int:
    """The first time (µs) ``cron`` names strictly after ``last`` (µs): when the feed is due again."""
    after = dt.datetime.fromtimestamp(last // 1_000_000 + 1, dt.UTC)  # cron has whole seconds
    fire = _trigger(cron).get_next_fire_time(None, after)
    return int(fire.timestamp()) * 1_000_000 if fire is not None else 2**62


def is_due(last: int | None, every_seconds: int, cron: str | None, now: int) -> bool:
    if last is None:
        return True
    if cron:
        return next_run(cron, last) <= now
    return last + every_seconds * 1_000_000 <= now


def due(session: Session, now: int) -> list[str]:
    """Names of the enabled feeds due at ``now`` (µs), in the order they were added."""
    feeds = session.execute(select(Feed.name, Feed.last_run_at, Feed.every_seconds, Feed.cron).where(Feed.enabled)
                            .order_by(Feed.pk))
    return [name for name, last, every, cron in feeds if is_due(last, every, cron, now)]
