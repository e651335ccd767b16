"""One run per tick across every worker: a row per periodic job, claimed by a conditional UPDATE.

``docker compose up --scale worker=3`` starts three schedulers with the same jobs. Before a job runs,
its worker claims the job's current tick — time cut into windows of the job's period, counted from
the epoch, so every worker agrees on the windows whatever its start time:

    UPDATE job_lease SET holder = me, due_at = <end of this window>, locked_until = now + lease
    WHERE name = :job AND due_at <= now AND locked_until <= now

The statement is atomic on SQLite and PostgreSQL alike; the worker whose UPDATE changed a row (rowcount
1) runs the job, every other one sees ``due_at`` already past ``now`` and skips this window. No
advisory lock and no session-long connection: a worker that dies mid-run frees the job when its
``locked_until`` passes, and a run longer than the period keeps the others off until it releases.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, String, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from exchange.core.db import Base, rowcount
from exchange.core.timestamps import now_micros

SECOND = 1_000_000


class JobLease(Base):
    """Which worker holds a periodic job, and from when its next run may start (both in µs since the epoch)."""

    __tablename__ = "job_lease"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(200))  # host:pid of the worker that ran it last
    due_at: Mapped[int] = mapped_column(BigInteger)  # start of the next window: no run before this
    locked_until: Mapped[int] = mapped_column(BigInteger)  # the holder's run is over by then, or abandoned


def register(session: Session, names: list[str]) -> None:
    """Make sure every job has its row; workers starting together may both try, the first insert wins."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    rows = [{"name": name, "holder": None, "due_at": 0, "locked_until": 0} for name in names]
    session.execute(insert(JobLease).values(rows).on_conflict_do_nothing(index_elements=["name"]))


def claim(session: Session, name: str, holder: str, *, period_seconds: float, lease_seconds: float) -> int | None:
    """Claim this window of job ``name``; returns the window's start (µs) when this holder won it, else None.

    Commit right after, before running the job, so the other workers see the claim."""
    now = now_micros()
    period = max(1, round(period_seconds * SECOND))
    window = now - now % period
    won = session.execute(
        update(JobLease)
        .where(JobLease.name == name, JobLease.due_at <= now, JobLease.locked_until <= now)
        .values(holder=holder, due_at=window + period, locked_until=now + round(lease_seconds * SECOND))
    )
    return window if rowcount(won) == 1 else None


def release(session: Session, name: str, holder: str) -> None:
    """The run is over: the next window may be claimed as soon as it starts."""
    session.execute(update(JobLease).where(JobLease.name == name, JobLease.holder == holder).values(locked_until=0))
