"""The ingest path against a real database: verdicts, versioning, TLP, observables, atomicity."""

from __future__ import annotations

import threading

import orjson
import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from exchange.core import db
from exchange.orgs.service import local_operator
from exchange.stix.hub_rules import Author
from exchange.stix.prepare import Payload, prepare, prepare_packed, unpack
from exchange.store.ingest import IngestResult, ingest
from exchange.store.models import ObjectRef, Observable, StixObject
from exchange.store.reads import Filters, delete_object, get_collection
from tests.factories import TLP1, TLP2, bundle, indicator


def _ingest(session: Session, payload: Payload) -> IngestResult:
    return ingest(session, payload, collection=get_collection(session))


def _rows(session: Session, stix_id: str) -> list[StixObject]:
    return list(session.scalars(select(StixObject).where(StixObject.stix_id == stix_id).order_by(StixObject.modified)))


def test_valid_stored_invalid_reported_in_order(session: Session) -> None:
    good = indicator()
    bad = indicator(pattern="[domain-name:value = 'unclosed'")
    payload = orjson.dumps(bundle(good, bad, "not an object"))
    result = _ingest(session, payload)
    assert [r.status for r in result.results] == ["added", "rejected", "rejected"]
    assert result.results[1].id == bad["id"]
    assert "pattern" in result.results[1].message
    assert (result.added, result.rejected) == (1, 2)
    stored = _rows(session, good["id"])
    assert len(stored) == 1
    assert orjson.loads(stored[0].raw) == good


def test_stored_json_is_unchanged(session: Session) -> None:
    obj = indicator(x_opencti_score=87, description="ünïcode ✓", labels=["a", "b"], confidence=55)
    _ingest(session, [obj])
    raw = _rows(session, obj["id"])[0].raw
    assert raw == orjson.dumps(obj)


def test_same_version_twice_is_a_reported_no_op(session: Session) -> None:
    obj = indicator()
    assert _ingest(session, [obj]).added == 1
    again = _ingest(session, [obj])
    assert again.results[0].status == "duplicate"
    assert again.duplicates == 1
    assert len(_rows(session, obj["id"])) == 1


def test_newest_modified_is_current_whatever_the_arrival_order(session: Session) -> None:
    v1 = indicator(modified="2024-01-01T00:00:00.000Z")
    v3 = dict(v1, modified="2024-03-01T00:00:00.000Z", name="v3")
    v2 = dict(v1, modified="2024-02-01T00:00:00.000Z", name="v2")
    _ingest(session, [v1])
    _ingest(session, [v3])
    _ingest(session, [v2])
    rows = _rows(session, v1["id"])
    assert [r.is_latest for r in rows] == [False, False, True]
    assert orjson.loads(rows[2].raw)["name"] == "v3"


def test_a_large_batch_finds_every_stored_version(session: Session) -> None:
    """More ids than one look-up statement used to take (500): none may be missed."""
    first = [indicator(modified="2024-01-01T00:00:00.000Z") for _ in range(1200)]
    assert _ingest(session, first).added == 1200
    newer = [dict(o, modified="2024-02-01T00:00:00.000Z") for o in first[::2]]
    result = _ingest(session, first + newer)
    assert (result.duplicates, result.added) == (1200, 600)
    current = session.scalar(select(func.count()).select_from(StixObject).where(StixObject.is_latest))
    assert current == 1200


def test_concurrent_ingests_of_the_same_objects_store_each_version_once(sessions: sessionmaker[Session]) -> None:
    """No unique index backs the version key (a bulk table): the ingest lock does. A second ingest of
    the same objects waits for the first to commit, then finds them stored; without the lock it
    would not see the uncommitted rows and would store every version again."""
    batch = [indicator() for _ in range(50)]
    second: list[IngestResult] = []
    with db.transaction(sessions) as first:
        assert _ingest(first, batch).added == 50

        def again() -> None:
            with db.transaction(sessions) as s:
                second.append(_ingest(s, batch))

        racer = threading.Thread(target=again)
        racer.start()
        racer.join(timeout=2)
        assert racer.is_alive(), "the second ingest did not wait for the first one's lock"
    racer.join()
    assert second[0].duplicates == 50
    with db.transaction(sessions) as s:
        assert s.scalar(select(func.count()).select_from(StixObject)) == 50


def test_deleting_an_object_deletes_its_observables(session: Session) -> None:
    """No foreign key cascades to observables any more: the delete itself removes them."""
    gone, kept = indicator("[domain-name:value = 'gone.example']"), indicator("[domain-name:value = 'kept.example']")
    _ingest(session, [gone, kept])
    every_version = Filters(versions=("all",))
    assert delete_object(session, local_operator(), get_collection(session), gone["id"], every_version) == 1
    assert list(session.scalars(select(Observable.value))) == ["kept.example"]


def test_what_a_relationship_or_sighting_points_at_is_indexed_and_deleted_with_it(session: Session) -> None:
    target, other = indicator(), indicator()
    where = "identity--5e4cc3a4-0e8f-4a1a-9d4f-2b6b6e6c2b10"
    rel = {"type": "relationship", "spec_version": "2.1", "id": "relationship--1b7e2a64-3c1e-4f7b-9d7e-0a9a3c6d2e01",
           "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
           "relationship_type": "indicates", "source_ref": other["id"], "target_ref": target["id"]}
    seen = {"type": "sighting", "spec_version": "2.1", "id": "sighting--2b7e2a64-3c1e-4f7b-9d7e-0a9a3c6d2e02",
            "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
            "sighting_of_ref": target["id"], "where_sighted_refs": [where, where]}
    assert _ingest(session, [target, other, rel, seen]).added == 4
    refs = {(r.ref, session.get_one(StixObject, r.object_pk).stix_id) for r in session.scalars(select(ObjectRef))}
    assert refs == {(other["id"], rel["id"]), (target["id"], rel["id"]), (target["id"], seen["id"]),
                    (where, seen["id"])}
    delete_object(session, local_operator(), get_collection(session), rel["id"], Filters(versions=("all",)))
    assert {r.ref for r in session.scalars(select(ObjectRef))} == {target["id"], where}


AUTHOR = Author("identity--8ce3f695-d5a4-4dc8-9e93-a65af453a31a", relays=True,
                members=frozenset({"identity--5e4cc3a4-0e8f-4a1a-9d4f-2b6b6e6c2b10"}))


def test_a_prepared_batch_survives_the_trip_back_from_a_helper_process() -> None:
    objects = [indicator(pattern="[ipv4-addr:value = '10.0.0.1'] OR [domain-name:value = 'a.example']"),
               indicator(x_exchange_recipients=["identity--5e4cc3a4-0e8f-4a1a-9d4f-2b6b6e6c2b10"]),
               {"type": "ipv4-addr", "spec_version": "2.1", "id": "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd",
                "value": "198.51.100.3"},
               {"type": "relationship", "spec_version": "2.1",
                "id": "relationship--1b7e2a64-3c1e-4f7b-9d7e-0a9a3c6d2e01", "created": "2024-01-01T00:00:00.000Z",
                "modified": "2024-01-01T00:00:00.000Z",
                "relationship_type": "related-to", "source_ref": "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd",
                "target_ref": "indicator--0b7e2a64-3c1e-4f7b-9d7e-0a9a3c6d2e00"},
               {"type": "indicator", "id": "not-an-id"}]
    payload = orjson.dumps(bundle(*objects))
    direct = prepare(payload, AUTHOR)
    assert (len(direct.candidates), len(direct.rejected)) == (4, 1)
    assert direct.candidates[-1].refs == ("ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd",
                                          "indicator--0b7e2a64-3c1e-4f7b-9d7e-0a9a3c6d2e00")
    assert unpack(prepare_packed(payload, AUTHOR)) == direct


def test_versions_within_one_batch(session: Session) -> None:
    v1 = indicator(modified="2024-01-01T00:00:00.000Z")
    v2 = dict(v1, modified="2024-01-02T00:00:00.000Z")
    result = _ingest(session, [v2, v1, v2])
    assert [r.status for r in result.results] == ["added", "added", "duplicate"]
    assert [r.is_latest for r in _rows(session, v1["id"])] == [False, True]


def test_revocation_is_final(session: Session) -> None:
    v1 = indicator()
    revoked = dict(v1, modified="2024-02-01T00:00:00.000Z", revoked=True)
    later = dict(v1, modified="2024-03-01T00:00:00.000Z")
    _ingest(session, [v1, revoked])
    result = _ingest(session, [later])
    assert result.results[0].status == "rejected"
    assert "revoked" in result.results[0].message
    assert len(_rows(session, v1["id"])) == 2


def test_scos_and_markings_are_not_versioned(session: Session) -> None:
    sco = {"type": "domain-name", "spec_version": "2.1", "id": "domain-name--3c10e93f-798e-5a26-a0c1-08156efab7f5",
           "value": "example.com"}
    assert _ingest(session, [sco]).added == 1
    changed = dict(sco, value="other.example")
    assert _ingest(session, [changed]).results[0].status == "duplicate"
    assert len(_rows(session, sco["id"])) == 1


@pytest.mark.parametrize(
    ("markings", "expected"),
    [
        (None, "green"),  # the default collection's default
        ([TLP1["white"]], "clear"),
        ([TLP2["clear"]], "clear"),
        ([TLP1["amber"]], "amber"),
        ([TLP2["amber+strict"]], "amber+strict"),
        ([TLP2["green"], TLP1["red"]], "red"),  # the strictest wins
        (["marking-definition--00000000-0000-4000-8000-000000000000"], "green"),  # not a TLP marking
    ],
)
def test_tlp_is_normalised(session: Session, markings: list[str] | None, expected: str) -> None:
    obj = indicator(markings=markings)
    _ingest(session, [obj])
    assert _rows(session, obj["id"])[0].tlp == expected


def test_granular_tlp_marking_counts(session: Session) -> None:
    obj = indicator(granular_markings=[{"marking_ref": TLP2["red"], "selectors": ["description"]}],
                    description="secret")
    _ingest(session, [obj])
    assert _rows(session, obj["id"])[0].tlp == "red"


def test_observables_are_extracted(session: Session) -> None:
    obj = indicator("[ipv4-addr:value = '198.51.100.7' OR url:value = 'HTTP://Login.Example.COM/a?b=1']")
    _ingest(session, [obj])
    pk = _rows(session, obj["id"])[0].pk
    got = {(o.kind, o.value) for o in session.scalars(select(Observable).where(Observable.object_pk == pk))}
    assert got == {("ipv4", "198.51.100.7"), ("url", "http://login.example.com/a?b=1"),
                   ("domain", "login.example.com")}


def test_a_database_error_leaves_nothing_of_the_batch(sessions: sessionmaker[Session], engine: Engine) -> None:
    """A real failure inside the database (a trigger refusing one observable) aborts the whole batch."""
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(text(
                "CREATE TRIGGER refuse BEFORE INSERT ON observable WHEN NEW.value = 'boom.example' "
                "BEGIN SELECT RAISE(ABORT, 'refused'); END"
            ))
        else:
            conn.execute(text(
                "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN IF NEW.value = 'boom.example' THEN "
                "RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql"
            ))
            conn.execute(text(
                "CREATE TRIGGER refuse BEFORE INSERT ON observable FOR EACH ROW EXECUTE FUNCTION refuse()"
            ))
    try:
        batch = [indicator(), indicator("[domain-name:value = 'boom.example']"), indicator()]
        with pytest.raises(DBAPIError), db.transaction(sessions) as s:
            _ingest(s, batch)
        with db.transaction(sessions) as s:
            assert s.scalar(select(func.count()).select_from(StixObject)) == 0
            assert s.scalar(select(func.count()).select_from(Observable)) == 0
    finally:
        with engine.begin() as conn:
            conn.execute(text("DROP TRIGGER refuse" + ("" if engine.dialect.name == "sqlite" else " ON observable")))
            if engine.dialect.name != "sqlite":
                conn.execute(text("DROP FUNCTION refuse()"))


def test_malformed_json_is_a_bad_request(session: Session) -> None:
    from exchange.core.errors import BadRequest

    with pytest.raises(BadRequest):
        _ingest(session, b'{"type": "bundle", "objects": [')
    with pytest.raises(BadRequest):
        _ingest(session, b'{"type": "bundle", "objects": 5}')
