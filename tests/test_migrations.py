"""The migrations build exactly the schema the models describe, and can be undone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, Engine, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from exchange.core import db
from exchange.models import Base
from exchange.store.models import Collection
from exchange.store.reads import DEFAULT_COLLECTION_ID
from tests.conftest import PG_URL


def test_models_and_migrations_agree(engine: Engine) -> None:
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_first_migration_creates_the_default_collection(session: Session) -> None:
    collection = session.scalar(select(Collection).where(Collection.id == DEFAULT_COLLECTION_ID))
    assert collection is not None
    assert collection.default_tlp == "green"


def test_downgrade_and_upgrade_again(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    db.upgrade(url)
    command.downgrade(db.alembic_config(url), "base")
    db.upgrade(url)
    engine = db.make_engine(url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA page_size").scalar() == 16384
        assert conn.execute(select(Collection.id)).scalars().all() == [DEFAULT_COLLECTION_ID]
    engine.dispose()


def _org(conn: Connection, pk: int) -> None:
    conn.execute(text("INSERT INTO org (pk, id, name, slug, role, identity_id, created_at) "
                      "VALUES (:pk, :pk, 'o', :pk, 'csirt', :identity, 1)"), {"pk": pk, "identity": f"identity--{pk}"})


def _object(conn: Connection, pk: int, stix_id: str, *, org: int | None, kind: str = "indicator", modified: int = 1,
            collection_offset: int = 0, raw: bytes = b"{}") -> None:
    """A stix_object row in the default collection (or, with an offset, in a collection that does not exist)
    and one observable of it, written as raw SQL: the schema is the revision's, not the models'."""
    conn.execute(text(
        "INSERT INTO stix_object (pk, collection_pk, stix_id, type, spec_version, modified, tlp, revoked, is_latest, "
        "date_added, publisher_org_pk, raw) SELECT :pk, pk + :offset, :sid, :kind, '2.1', :modified, 'green', false, "
        "true, :pk, :org, :raw FROM collection"),
        {"pk": pk, "offset": collection_offset, "sid": stix_id, "kind": kind, "modified": modified, "org": org,
         "raw": raw})
    _observable(conn, pk)


def _rows_at_head(url: str, query: str) -> list[tuple[Any, ...]]:
    """The rows ``query`` finds once the database at ``url`` is migrated to head, sorted."""
    db.upgrade(url)
    engine = db.make_engine(url)
    with engine.begin() as conn:
        rows = sorted(tuple(r) for r in conn.execute(text(query)))
    engine.dispose()
    return rows


def _observable(conn: Connection, object_pk: int) -> None:
    conn.execute(text("INSERT INTO observable (object_pk, kind, value) VALUES (:pk, 'domain', 'a.example')"),
                 {"pk": object_pk})


@pytest.fixture
def scratch_url() -> Iterator[str]:
    """An empty database of the suite's kind, for tests that migrate it themselves; dropped afterwards."""
    with db.scratch_database(PG_URL, "migrate") as url:
        yield url


def test_every_migration_keeps_the_data(scratch_url: str) -> None:
    """Rows written at the first revision survive every later one. SQLite alters tables by copying
    them; with foreign keys on, dropping the old copy of `collection` once emptied stix_object."""
    url = scratch_url
    db.upgrade(url, "0001")
    engine = db.make_engine(url)
    with engine.begin() as conn:
        _org(conn, 7)
        conn.execute(text("INSERT INTO api_key (org_pk, prefix, hash, created_at) VALUES (7, 'p', 'h', 1)"))
        for pk in (1, 2, 3):
            _object(conn, pk, f"indicator--{pk}", org=7)
        conn.execute(text("DELETE FROM stix_object WHERE pk = 3"))  # the top pk, never to be handed out again
    engine.dispose()
    db.upgrade(url)
    engine = db.make_engine(url)
    with engine.begin() as conn:
        counts = [conn.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in  # noqa: S608 - fixed names
                  ("org", "api_key", "stix_object", "observable")]
        assert counts == [1, 1, 2, 2]
        assert conn.execute(text("SELECT scopes FROM api_key")).scalar() == "read write admin"
        if url.startswith("sqlite"):
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            conn.exec_driver_sql("INSERT INTO stix_object (collection_pk, stix_id, type, spec_version, modified, "
                                 "tlp, revoked, is_latest, date_added, raw) SELECT pk, 'indicator--4', 'indicator', "
                                 "'2.1', 1, 'green', 0, 1, 4, x'7b7d' FROM collection")
            assert conn.exec_driver_sql("SELECT max(pk) FROM stix_object").scalar() == 4  # AUTOINCREMENT survived
    engine.dispose()


def test_downgrade_keeps_one_copy_of_an_sco_two_organisations_reported(scratch_url: str) -> None:
    url = scratch_url
    db.upgrade(url)
    engine = db.make_engine(url)
    with engine.begin() as conn:
        for pk, org in ((1, 11), (2, 12)):
            _org(conn, org)
            _object(conn, pk, "ipv4-addr--1", org=org, kind="ipv4-addr", modified=0)
    engine.dispose()
    command.downgrade(db.alembic_config(url), "0003")
    engine = db.make_engine(url)
    with engine.begin() as conn:
        assert conn.execute(text("SELECT pk FROM stix_object")).scalars().all() == [1]
        assert conn.execute(text("SELECT object_pk FROM observable")).scalars().all() == [1]
    engine.dispose()


def test_downgrade_to_foreign_keys_drops_the_rows_they_would_refuse(scratch_url: str) -> None:
    """Without keys (0008), rows can point nowhere; going back to the keys must not fail on them."""
    url = scratch_url
    db.upgrade(url)
    engine = db.make_engine(url)
    with engine.begin() as conn:
        _org(conn, 11)
        _object(conn, 1, "indicator--1", org=11)
        _object(conn, 2, "indicator--1", org=11)  # a second copy of the same version
        _object(conn, 3, "indicator--3", org=11, collection_offset=99)  # in no collection
        _object(conn, 4, "indicator--4", org=77)  # published by an organisation that is gone
        _observable(conn, 5)  # of no object
    engine.dispose()
    command.downgrade(db.alembic_config(url), "0007")
    engine = db.make_engine(url)
    with engine.begin() as conn:
        rows = conn.execute(text("SELECT pk, publisher_org_pk FROM stix_object ORDER BY pk")).all()
        assert [tuple(r) for r in rows] == [(1, 11), (4, None)]
        assert conn.execute(text("SELECT object_pk FROM observable ORDER BY object_pk")).scalars().all() == [1, 4]
    engine.dispose()




def test_object_refs_are_filled_from_the_relationships_and_sightings_already_stored(scratch_url: str) -> None:
    url = scratch_url
    db.upgrade(url, "0019")
    engine = db.make_engine(url)
    target = "indicator--1d2c5f4e-0000-4000-8000-000000000001"
    sighted = "identity--2d2c5f4e-0000-4000-8000-000000000002"
    bodies: dict[int, dict[str, Any]] = {
        2: {"type": "relationship", "source_ref": "course-of-action--3", "target_ref": target},
        3: {"type": "sighting", "sighting_of_ref": target, "where_sighted_refs": [sighted, sighted]},
        4: {"type": "indicator", "pattern": f"[x:y = '{target}']"}}
    with engine.begin() as conn:
        _org(conn, 7)
        for pk, body in bodies.items():
            _object(conn, pk, f"{body['type']}--{pk}", org=7, kind=str(body["type"]), raw=orjson.dumps(body))
    engine.dispose()
    assert _rows_at_head(url, "SELECT ref, object_pk FROM object_ref") == sorted(
        [("course-of-action--3", 2), (target, 2), (target, 3), (sighted, 3)])


def test_alerts_take_the_publisher_of_the_version_that_alerted(scratch_url: str) -> None:
    """Version 2 of the object is another publisher's copy (an SCO two organisations reported): the alert about
    version 1 names version 1's publisher; an alert whose version is gone names the newest version's."""
    url = scratch_url
    db.upgrade(url, "0020")
    engine = db.make_engine(url)
    with engine.begin() as conn:
        for org in (7, 8, 9):
            _org(conn, org)
        _object(conn, 1, "ipv4-addr--1", org=7, kind="ipv4-addr", modified=1)
        _object(conn, 2, "ipv4-addr--1", org=8, kind="ipv4-addr", modified=2)
        for pk, modified in ((1, 1), (2, 5)):
            conn.execute(text(
                "INSERT INTO alert (pk, org_pk, match_key, object_id, object_modified, kind, severity, grade, state, "
                "matched, created_at, updated_at, withheld) VALUES (:pk, 9, :key, 'ipv4-addr--1', :modified, "
                "'listed', 'high', 'probable', 'new', '192.0.2.1', 1, 1, false)"),
                {"pk": pk, "key": f"k{pk}", "modified": modified})
    engine.dispose()
    assert _rows_at_head(url, "SELECT pk, publisher_org_pk FROM alert") == [(1, 7), (2, 8)]


def test_the_publish_tally_counts_what_each_organisation_already_published_per_hour(scratch_url: str) -> None:
    url = scratch_url
    db.upgrade(url, "0024")
    engine = db.make_engine(url)
    hour = 3_600_000_000
    with engine.begin() as conn:
        for org_pk in (7, 8):
            _org(conn, org_pk)
        published: list[tuple[int, int | None, int]] = [(1, 7, 5), (2, 7, hour - 1), (3, 7, hour), (4, 8, 9),
                                                         (5, None, 10)]
        for pk, publisher, added in published:
            _object(conn, pk, f"indicator--{pk}", org=publisher)
            conn.execute(text("UPDATE stix_object SET date_added = :added WHERE pk = :pk"), {"added": added, "pk": pk})
    engine.dispose()
    assert _rows_at_head(url, "SELECT org_pk, hour, objects FROM publish_tally") == [(7, 0, 2), (7, hour, 1),
                                                                                    (8, 0, 1)]


def test_the_audit_log_append_only_migration_goes_down_and_up(scratch_url: str) -> None:
    """0009 refuses REPLACE (SQLite) and TRUNCATE (PostgreSQL) of the audit log; going down removes
    only that (0003's UPDATE/DELETE triggers stay), and up again restores it."""
    url = scratch_url
    db.upgrade(url)
    engine = db.make_engine(url)
    postgres = engine.dialect.name == "postgresql"
    overwrite = text("TRUNCATE audit_entry" if postgres else "REPLACE INTO audit_entry (pk, at, actor, action, "
                     "target, detail) VALUES (1, 2, 'forger', 'x', 'y', '')")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO audit_entry (pk, at, actor, action, target, detail) "
                          "VALUES (1, 1, 'cli', 'org.create', 'a', '')"))
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(overwrite)
    engine.dispose()
    command.downgrade(db.alembic_config(url), "0008")
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_entry"))
    with engine.begin() as conn:
        conn.execute(overwrite)  # what 0009 is for
        rows = [tuple(r) for r in conn.execute(text("SELECT pk, actor FROM audit_entry ORDER BY pk"))]
    assert rows == ([] if postgres else [(1, "forger")])
    engine.dispose()
    db.upgrade(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO audit_entry (pk, at, actor, action, target, detail) "
                          "VALUES (2, 3, 'cli', 'org.create', 'b', '')"))
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(overwrite)
    engine.dispose()
