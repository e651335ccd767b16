"""Writing an ingest batch's rows (the half of ``ingest`` that touches tables): keys and
``date_added`` taken up front, current versions superseded, and the bulk inserts in each database's
fastest way. Everything here runs under the ingest lock (``ingest._lock``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import (
    JSON,
    BigInteger,
    ColumnElement,
    String,
    bindparam,
    cast,
    func,
    literal_column,
    select,
    text,
    update,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import Subquery, TableValuedAlias

from exchange.core.timestamps import HOUR, now_micros
from exchange.stix.prepare import OBJECT_COLUMNS
from exchange.store.models import ObjectRecipient, ObjectRef, Observable, StixObject

ROW_COLUMNS = ("pk", "collection_pk", "date_added", "publisher_org_pk", "tlp", "is_latest", *OBJECT_COLUMNS)


def values_table(session: Session, values: list[str] | list[int]) -> TableValuedAlias:
    """``values`` as a one-column table (``.c.value``) sent as one JSON parameter, however many there
    are. 20 ``IN`` lists of 500 parameters cost several times as much (decision 0006), and so did a
    PostgreSQL array, most of it the driver converting the array element by element (decision 0007)."""
    array = orjson.dumps(values).decode()
    if session.get_bind().dialect.name == "postgresql":
        return func.json_array_elements_text(cast(bindparam("values", array, String), JSON)).table_valued(
            "value").render_derived()
    return func.json_each(array).table_valued("value")


PAIRS = "pairs"  # the parameter that carries ``pairs_table``'s pairs


def pairs_table(dialect: str, names: tuple[str, str]) -> Subquery:
    """Pairs of integers as a two-column table named ``names``, sent as one JSON parameter (``PAIRS``, its
    value ``pairs_json``) like ``values_table``: the statement stays the same whatever the pairs, so it is built
    and compiled once, where a ``VALUES`` list of thousands of parameters was compiled and parsed anew each time
    (decision 0011)."""
    first: ColumnElement[Any]
    second: ColumnElement[Any]
    if dialect == "postgresql":
        rows = func.json_array_elements(cast(bindparam(PAIRS, type_=String), JSON)).table_valued(
            "value").render_derived()
        # the indexes written into the SQL: the pairs stay the statement's one parameter (``access.readers``)
        first, second = rows.c.value.op("->>")(literal_column("0")), rows.c.value.op("->>")(literal_column("1"))
    else:
        rows = func.json_each(bindparam(PAIRS, type_=String)).table_valued("value")
        first, second = func.json_extract(rows.c.value, "$[0]"), func.json_extract(rows.c.value, "$[1]")
    return select(cast(first, BigInteger).label(names[0]), cast(second, BigInteger).label(names[1])).subquery()


def pairs_json(pairs: Sequence[tuple[int, int]]) -> dict[str, str]:
    """The parameters of a statement made with ``pairs_table``."""
    return {PAIRS: orjson.dumps(pairs).decode()}


def allocate_pks(session: Session, n: int) -> list[int]:
    """Keys for ``n`` new rows, taken up front so rows and observables go in as two executemany calls
    (SQLite cannot return generated keys of a multi-row insert in order without one statement per row).

    On PostgreSQL the sequence is moved past all ``n`` at once, which is safe because every insert
    into ``stix_object`` comes through here, under the ingest lock (``ingest._lock``); ``nextval`` once per
    row was one of the per-object costs of decision 0006.
    """
    if session.get_bind().dialect.name == "postgresql":
        last = session.scalar(text("SELECT setval(s::regclass, nextval(s::regclass) + :n - 1) "
                                   "FROM pg_get_serial_sequence('stix_object', 'pk') AS s"), {"n": n})
        return list(range(int(last) - n + 1, int(last) + 1))
    top = session.scalar(text(
        "SELECT MAX(v) FROM (SELECT MAX(pk) AS v FROM stix_object "
        "UNION ALL SELECT seq FROM sqlite_sequence WHERE name = 'stix_object')"
    ))
    start = (top or 0) + 1
    return list(range(start, start + n))


def date_added_start(session: Session) -> int:
    """date_added of the first new row: now, but always after the newest stored row.

    Each row gets its own microsecond, so date_added strictly increases with pk: a client that
    resumes with ``added_after=<X-TAXII-Date-Added-Last>`` gets exactly the rows it has not seen,
    even when a page ended in the middle of a batch.
    """
    last = session.scalar(select(StixObject.date_added).order_by(StixObject.pk.desc()).limit(1))
    return max(now_micros(), (last or 0) + 1)


_TALLY = text("INSERT INTO publish_tally (org_pk, hour, objects) VALUES (:org, :hour, :n) "
              "ON CONFLICT (org_pk, hour) DO UPDATE SET objects = publish_tally.objects + excluded.objects")


def tally(session: Session, org_pk: int, added: int, n: int) -> None:
    """Count ``n`` objects published by ``org_pk`` at ``added`` (µs) in its hour (``PublishTally``). The same
    statement on both databases, written out: the dialects' own upsert constructs would load the PostgreSQL
    dialect in every SQLite process."""
    session.execute(_TALLY, {"org": org_pk, "hour": tally_hour(added), "n": n})


def tally_hour(micros: int) -> int:
    """The ``PublishTally`` hour of a moment: the start of its hour (µs)."""
    return micros - micros % HOUR


def clear_latest(session: Session, pks: list[int]) -> None:
    """Stored versions stop being current when a newer one arrives."""
    if pks:
        current = select(cast(values_table(session, pks).c.value, BigInteger))
        session.execute(update(StixObject).where(StixObject.pk.in_(current)).values(is_latest=False))


def insert(session: Session, model: type[StixObject | Observable | ObjectRecipient | ObjectRef],
           columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    """Bulk insert, the hot path of ingest, in each database's fastest way: binary COPY on PostgreSQL,
    the driver's executemany on SQLite. SQLAlchemy's per-row parameter handling cost as much as the
    database's own work on both (decision 0001, "Ingest"); binary COPY takes a third of text COPY's
    time, with no escaping and no hex (decision 0006).
    Table and column names come from our own models, never from input.
    """
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        from psycopg.types.string import BytesBinaryDumper  # the PostgreSQL extra's driver

        names = ", ".join(columns)
        statement = f"COPY {model.__tablename__} ({names}) FROM STDIN (FORMAT BINARY)"
        try:
            with conn.connection.driver_connection.cursor() as cursor:  # type: ignore[union-attr]
                # By type oid psycopg picks the DB-API ``Binary`` wrapper's dumper for bytea, a Python
                # method per value; the plain one is compiled (decision 0006).
                cursor.adapters.register_dumper(bytes, BytesBinaryDumper)
                # Binary COPY needs each column's exact type: the table's own, as the database reports it.
                cursor.execute(f"SELECT {names} FROM {model.__tablename__} LIMIT 0")  # noqa: S608
                types = [column.type_code for column in cursor.description or ()]
                with cursor.copy(statement) as copy:
                    copy.set_types(types)
                    for row in rows:
                        copy.write_row(row)
        except conn.dialect.loaded_dbapi.Error as exc:  # raised like every other database error
            raise DBAPIError.instance(statement, None, exc, conn.dialect.loaded_dbapi.Error) from exc
        return
    sql = f"INSERT INTO {model.__tablename__} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"  # noqa: S608
    conn.exec_driver_sql(sql, rows)
