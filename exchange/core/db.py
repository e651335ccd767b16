"""Engine, sessions and migrations.

SQLite is the embedded default (WAL, so readers never block the single writer); PostgreSQL is
the production database. Services take a ``Session`` and never commit: whoever opened the
session (a request dependency, a CLI command, a job) owns the transaction.
"""

from __future__ import annotations

import select
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import CursorResult, Engine, MetaData, create_engine, event, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import QueuePool

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic is imported by the functions below that use it, not here: it costs about a third of a
# second of start-up, and a command such as ``exchange import`` only needs it after an error.

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    # 16 KiB pages and a 64 MiB checkpoint threshold: fewer, larger page writes and fewer checkpoints
    # on ingest (decision 0001, "SQLite tuning"). page_size only takes
    # effect when the file is created, so it must precede the switch to WAL.
    cur.execute("PRAGMA page_size=16384")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA wal_autocheckpoint=4000")
    cur.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoints; WAL keeps commits atomic
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA cache_size=-65536")
    cur.close()


POOL_TIMEOUT_SECONDS = 30.0  # how long a request waits for a pooled connection before the 503
# (connections kept, more opened when busy) per process: SQLAlchemy's defaults for SQLite, written out because
# ``request_turns`` counts them
SQLITE_POOL = (5, 10)
POSTGRES_POOL = (10, 20)
HEADROOM = 2  # connections left to the background threads of a server process (the ingester)


def make_engine(url: str, *, pool_timeout: float = POOL_TIMEOUT_SECONDS) -> Engine:
    if url.startswith("sqlite"):
        # LIFO: the most recently used connection is taken again, so one or two page caches stay
        # warm instead of each pooled connection filling its own 64 MiB (decision 0001, "SQLite tuning").
        in_memory = make_url(url).database in (None, "", ":memory:")  # one shared connection, no pool order
        engine = create_engine(url, connect_args={"check_same_thread": False},
                               **({} if in_memory else {"pool_use_lifo": True, "pool_timeout": pool_timeout,
                                                   "pool_size": SQLITE_POOL[0], "max_overflow": SQLITE_POOL[1]}))
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # psycopg never prepares a statement by itself (it would after five runs, and PostgreSQL may then
    # switch to a generic plan: for `stix_id IN (<500 ids>)` that plan was a sequential scan, decision 0001,
    # "PostgreSQL"); only a statement marked ``PREPARED`` is, and it is planned once per connection.
    polls = hasattr(select, "poll")
    engine = create_engine(url, pool_pre_ping=not polls, pool_size=POSTGRES_POOL[0], max_overflow=POSTGRES_POOL[1],
                           pool_timeout=pool_timeout, connect_args={"prepare_threshold": NEVER_BY_ITSELF})
    event.listen(engine, "do_execute", _execute_prepared)
    if polls:
        event.listen(engine, "checkout", _still_open)
    return engine


# Execution option of a statement to prepare on PostgreSQL (``statement.execution_options(**PREPARED)``):
# for the hot statements whose best plan does not depend on their parameters (a token, the read rule's pairs
# as one JSON value). Never for an ``IN`` list or a value whose selectivity varies (decision 0001).
PREPARED = {"exchange_prepared": True}
NEVER_BY_ITSELF = 2**62  # psycopg's count of runs before it prepares on its own; None would also refuse ours


def _execute_prepared(cursor: Any, statement: str, parameters: Any, context: Any) -> bool:
    """Run a ``PREPARED`` statement as a server-side prepared statement (psycopg names it and keeps it per
    connection); True tells SQLAlchemy it has run. Anything else runs as SQLAlchemy would run it."""
    if not context.execution_options.get("exchange_prepared"):
        return False
    cursor.execute(statement, parameters, prepare=True)
    return True


def _still_open(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
    """Refuse a pooled PostgreSQL connection that the server has closed, without a round trip.

    A connection idle in the pool has nothing to read unless the server ended it (a restart, an idle
    timeout, ``pg_terminate_backend``: it sends an error and closes) or spoke out of turn (a reloaded
    setting). Either way the pool drops it and opens another (``DisconnectionError``). SQLAlchemy's
    ``pool_pre_ping`` asks the same with a ``SELECT 1`` on every checkout, one round trip per request
    and per job step; this asks the socket (``poll``, no limit on descriptor numbers). A link cut
    without a word (a network failure) leaves nothing to read: the query's own error then invalidates
    the pool, where the ping would have waited on the same dead link.
    """
    if dbapi_conn.closed:
        raise DisconnectionError("the connection is closed")
    poller = select.poll()
    poller.register(dbapi_conn.fileno(), select.POLLIN)
    if poller.poll(0):
        raise DisconnectionError("the server closed the connection or wrote to it while it was idle")


def request_turns(engine: Engine, wanted: int) -> int | None:
    """How many requests of a server process may use the database at once: ``wanted`` (``requests_at_once``), at
    most the pool's connections less those its background threads need; None for a pool that is not a queue (one
    shared in-memory connection)."""
    if not isinstance(engine.pool, QueuePool):
        return None
    size, overflow = SQLITE_POOL if engine.dialect.name == "sqlite" else POSTGRES_POOL
    return max(1, min(wanted, size + overflow - HEADROOM))


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def rowcount(result: Any) -> int:
    """Rows an UPDATE or DELETE touched (``Session.execute`` is typed as returning any ``Result``)."""
    return int(result.rowcount) if isinstance(result, CursorResult) else 0


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    with factory() as session, session.begin():
        yield session


@contextmanager
def sqlite_sequence_kept(bind: Any, table: str) -> Iterator[None]:
    """For a migration that rebuilds ``table`` on SQLite: the copy restarts AUTOINCREMENT at
    MAX(pk), so a deleted top pk would be handed out again and a cursor already past it would skip
    the new row. Put the counter back afterwards. Nothing to do on other databases."""
    if bind.dialect.name != "sqlite":
        yield
        return
    seq = bind.exec_driver_sql("SELECT seq FROM sqlite_sequence WHERE name = ?", (table,)).scalar()
    yield
    if seq is not None:
        bind.exec_driver_sql("UPDATE sqlite_sequence SET seq = ? WHERE name = ? AND seq < ?", (seq, table, seq))


def migrations_dir() -> Path:
    """Migrations ship inside the wheel as ``exchange/_migrations``; a source checkout has them at the root."""
    package = Path(__file__).resolve().parent.parent  # exchange/, this module being exchange/core/db.py
    packaged = package / "_migrations"
    return packaged if packaged.is_dir() else package.parent / "migrations"


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(url), revision)


@cache
def head_revision() -> str:
    """The newest migration this code ships (read once: the files do not change while it runs)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head() or ""


def behind_head(engine: Engine) -> tuple[str | None, str] | None:
    """(current, head) revisions when the database lacks migrations this code needs, else None."""
    from alembic.runtime.migration import MigrationContext

    head = head_revision()
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    return (current, head) if current != head else None


def with_schema(url: str, schema: str) -> str:
    """A PostgreSQL URL whose connections use ``schema`` (isolated test and benchmark runs)."""
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema}"


@contextmanager
def scratch_database(url: str | None, prefix: str = "scratch") -> Iterator[str]:
    """A fresh, empty database, dropped afterwards: a temporary SQLite file when ``url`` is None or
    SQLite, else a throw-away schema on that PostgreSQL server (benchmarks, migration tests)."""
    if url is None or url.startswith("sqlite"):
        with tempfile.TemporaryDirectory(prefix=f"exchange-{prefix}-") as tmp:
            yield f"sqlite:///{Path(tmp) / f'{prefix}.db'}"
        return
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    create_schema(url, schema)
    try:
        yield with_schema(url, schema)
    finally:
        drop_schema(url, schema)


def create_schema(url: str, schema: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    engine.dispose()


def drop_schema(url: str, schema: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    engine.dispose()
