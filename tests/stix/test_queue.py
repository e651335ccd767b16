"""The ingest queue: queued TAXII envelopes are stored exactly once, merged per publisher, with
their final status and audit entry, and survive a dead ingester (its lease runs out)."""

from __future__ import annotations

import multiprocessing
from collections import deque
from concurrent.futures import Future
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from exchange.app import create_app
from exchange.core import db
from exchange.core.errors import NotFound, Unauthenticated
from exchange.core.settings import Settings
from exchange.core.timestamps import now_micros
from exchange.orgs.models import AuditEntry, Org, Role
from exchange.sharing import catalog
from exchange.store.models import Collection, IngestJob, StixObject, TaxiiStatus
from exchange.store.reads import DEFAULT_COLLECTION_ID, get_collection
from exchange.taxii import ingest_queue, status
from tests.factories import indicator
from tests.orgs_factory import MakeOrg, auth


def _enqueue(sessions: sessionmaker[Session], org: Org, objects: list[Any] | bytes,
             address: str | None = "192.0.2.7", ingester: ingest_queue.Ingester | None = None) -> str:
    payload = objects if isinstance(objects, bytes) else orjson.dumps({"objects": objects})
    with db.transaction(sessions) as s:
        root = catalog.get_api_root(s, "default")
        body = ingest_queue.enqueue(s, root_pk=root.pk, collection=get_collection(s, None), org=org, actor=org.slug,
                             remote_addr=address, payload=payload,
                             objects=[] if isinstance(objects, bytes) else objects, requested_at=now_micros(),
                             ingester=ingester)
    return str(orjson.loads(body)["id"])


def _status(sessions: sessionmaker[Session], reader: Org | None, status_id: str) -> dict[str, Any]:
    with db.transaction(sessions) as s:
        root = catalog.get_api_root(s, "default")
        resource: dict[str, Any] = orjson.loads(status.get(s, reader, root, status_id))
        return resource


def _count(sessions: sessionmaker[Session], model: type[Any], *where: Any) -> int:
    with db.transaction(sessions) as s:
        return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def _ingester(sessions: sessionmaker[Session], **kwargs: Any) -> ingest_queue.Ingester:
    return ingest_queue.Ingester(sessions, prepare_processes=0, **kwargs)


def test_a_queued_envelope_is_pending_then_stored_once_with_its_status_and_audit(sessions: sessionmaker[Session],
                                                                                 make_org: MakeOrg) -> None:
    org, _ = make_org(Role.csirt)
    other, _ = make_org(Role.csirt)
    objects = [indicator(), indicator(), {"type": "indicator", "id": "indicator--bad"}]
    sid = _enqueue(sessions, org, objects)

    pending = _status(sessions, org, sid)
    assert (pending["status"], pending["total_count"], pending["pending_count"]) == ("pending", 3, 3)
    assert [p["id"] for p in pending["pendings"]] == [o["id"] for o in objects]
    with pytest.raises(NotFound):  # another organisation's status does not exist for it
        _status(sessions, other, sid)
    with pytest.raises(Unauthenticated):
        _status(sessions, None, sid)

    ingester = _ingester(sessions)
    assert ingester.run_once() == 1
    assert ingester.run_once() == 0  # exactly once: the job is gone

    done = _status(sessions, org, sid)
    assert (done["status"], done["success_count"], done["failure_count"], done["pending_count"]) == (
        "complete", 2, 1, 0)
    assert done["id"] == sid
    assert done["request_timestamp"] == pending["request_timestamp"]
    assert _count(sessions, StixObject, StixObject.publisher_org_pk == org.pk) == 2
    assert _count(sessions, IngestJob) == 0
    with db.transaction(sessions) as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "taxii.add_objects",
                                                   AuditEntry.actor == org.slug)).one()
        assert (entry.remote_addr, entry.detail) == ("192.0.2.7", "2 added, 0 duplicates, 1 rejected")


def test_one_publishers_envelopes_merge_into_one_transaction_in_order(sessions: sessionmaker[Session],
                                                                      make_org: MakeOrg) -> None:
    org, _ = make_org(Role.csirt)
    other, _ = make_org(Role.csirt)
    v1 = indicator(modified="2024-01-01T00:00:00.000Z")
    v2 = dict(v1, modified="2024-02-01T00:00:00.000Z")
    first = _enqueue(sessions, org, [v1, indicator()])
    _enqueue(sessions, other, [indicator()])
    second = _enqueue(sessions, org, [v2, v1])  # v1 again: a duplicate of the first envelope's

    ingester = _ingester(sessions)
    assert ingester.run_once() == 2  # both of org's envelopes, past the other organisation's
    assert ingester.run_once() == 1

    assert _status(sessions, org, first)["success_count"] == 2
    again = _status(sessions, org, second)
    assert [s.get("message", "") for s in again["successes"]] == ["", "duplicate: this version is already stored"]
    with db.transaction(sessions) as s:
        latest = s.scalars(select(StixObject.modified).where(StixObject.stix_id == v1["id"],
                                                             StixObject.is_latest)).all()
    assert len(latest) == 1
    assert latest[0] > 1704067200000000


def test_a_merge_stops_at_merge_objects(sessions: sessionmaker[Session], make_org: MakeOrg) -> None:
    org, _ = make_org(Role.csirt)
    for _ in range(3):
        _enqueue(sessions, org, [indicator(), indicator(), indicator()])
    ingester = _ingester(sessions, merge_objects=5)
    assert [ingester.run_once() for _ in range(4)] == [1, 1, 1, 0]


def test_the_author_rule_holds_for_queued_envelopes(sessions: sessionmaker[Session], make_org: MakeOrg) -> None:
    org, _ = make_org(Role.csirt)
    other, _ = make_org(Role.csirt)
    sid = _enqueue(sessions, org, [indicator(created_by_ref=other.identity_id), indicator()])
    _ingester(sessions).run_once()
    result = _status(sessions, org, sid)
    assert result["failure_count"] == 1
    assert "created_by_ref" in result["failures"][0]["message"]


def test_a_dead_ingesters_jobs_are_taken_up_when_its_lease_runs_out(sessions: sessionmaker[Session],
                                                                    make_org: MakeOrg) -> None:
    org, _ = make_org(Role.csirt)
    sid = _enqueue(sessions, org, [indicator()])
    with db.transaction(sessions) as s:
        s.execute(update(IngestJob).values(leased_by="a-dead-ingester",
                                           leased_until=now_micros() + ingest_queue.LEASE_US))
    ingester = _ingester(sessions)
    assert ingester.run_once() == 0  # leased: not ours to take yet
    assert _status(sessions, org, sid)["status"] == "pending"
    with db.transaction(sessions) as s:
        s.execute(update(IngestJob).values(leased_until=now_micros() - 1))
    assert ingester.run_once() == 1
    assert _status(sessions, org, sid)["status"] == "complete"


def test_an_ingester_that_lost_its_lease_stores_nothing(sessions: sessionmaker[Session], make_org: MakeOrg) -> None:
    org, _ = make_org(Role.csirt)
    sid = _enqueue(sessions, org, [indicator()])
    slow = _ingester(sessions)
    group = slow._claim()
    assert group is not None
    with db.transaction(sessions) as s:  # its lease ran out and another ingester took the job
        s.execute(update(IngestJob).values(leased_by="another-ingester"))
    with pytest.raises(ingest_queue._LostLease):
        slow._finish(group)
    assert _count(sessions, StixObject) == 0
    assert _count(sessions, TaxiiStatus) == 0
    assert _status(sessions, org, sid)["status"] == "pending"


def test_an_unreadable_envelope_fails_alone(sessions: sessionmaker[Session], make_org: MakeOrg) -> None:
    org, _ = make_org(Role.csirt)
    good = _enqueue(sessions, org, [indicator()])
    bad = _enqueue(sessions, org, b'{"objects": [')  # cannot be queued through the API; a damaged row
    with db.transaction(sessions) as s:
        s.execute(update(IngestJob).where(IngestJob.status_id == bad).values(object_count=2))
    assert _ingester(sessions).run_once() == 2
    assert _status(sessions, org, good)["success_count"] == 1
    failed = _status(sessions, org, bad)
    assert failed["failure_count"] == 2
    assert "could not be read" in failed["failures"][0]["message"]


def _publishers_write(sessions: sessionmaker[Session], allowed: bool) -> None:
    with db.transaction(sessions) as s:
        s.execute(update(Collection).where(Collection.id == DEFAULT_COLLECTION_ID).values(publishers_write=allowed))


def test_a_write_right_withdrawn_before_storing_fails_the_envelope(sessions: sessionmaker[Session],
                                                                   make_org: MakeOrg) -> None:
    org, _ = make_org(Role.csirt)
    sid = _enqueue(sessions, org, [indicator(), indicator()])
    try:
        _publishers_write(sessions, False)  # the default collection stops taking members' objects
        assert _ingester(sessions).run_once() == 1
    finally:
        _publishers_write(sessions, True)  # the database is shared by the tests that follow
    failed = _status(sessions, org, sid)
    assert (failed["success_count"], failed["failure_count"]) == (0, 2)
    assert "may no longer add objects" in failed["failures"][0]["message"]
    assert _count(sessions, StixObject, StixObject.publisher_org_pk == org.pk) == 0


def _damage(sessions: sessionmaker[Session], status_id: str) -> None:
    """The stored copy of a queued envelope becomes unreadable: whoever reads it back fails it."""
    with db.transaction(sessions) as s:
        s.execute(update(IngestJob).where(IngestJob.status_id == status_id).values(payload=b'{"objects": ['))


def test_an_envelope_handed_over_is_stored_without_reading_it_back(sessions: sessionmaker[Session],
                                                                   make_org: MakeOrg) -> None:
    org, _ = make_org(Role.csirt)
    ingester = _ingester(sessions)
    sid = _enqueue(sessions, org, [indicator(), indicator()], ingester=ingester)
    _damage(sessions, sid)
    assert ingester.run_once() == 1
    assert _status(sessions, org, sid)["success_count"] == 2


def test_envelopes_beyond_the_memory_bound_are_read_back(sessions: sessionmaker[Session], make_org: MakeOrg,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    org, _ = make_org(Role.csirt)
    ingester = _ingester(sessions)
    kept = _enqueue(sessions, org, [indicator()], ingester=ingester)
    monkeypatch.setattr(ingest_queue, "_HANDED_BYTES", 1)  # already over: the next one is not kept
    read_back = _enqueue(sessions, org, [indicator()], ingester=ingester)
    _damage(sessions, kept)
    _damage(sessions, read_back)
    assert ingester.run_once() == 2
    assert _status(sessions, org, kept)["success_count"] == 1
    assert _status(sessions, org, read_back)["failure_count"] == 1


def test_an_envelope_handed_to_one_ingester_is_stored_by_another(sessions: sessionmaker[Session],
                                                                 make_org: MakeOrg) -> None:
    org, _ = make_org(Role.csirt)
    here, replica = _ingester(sessions), _ingester(sessions)
    sid = _enqueue(sessions, org, [indicator(), indicator()], ingester=here)
    assert replica.run_once() == 1
    assert _status(sessions, org, sid)["success_count"] == 2
    assert here.run_once() == 0
    assert here._handed == {}  # the envelope another ingester stored is not held on to


def test_the_server_stores_what_a_previous_run_left_queued(settings: Settings, sessions: sessionmaker[Session],
                                                           make_org: MakeOrg) -> None:
    org, key = make_org(Role.csirt)
    sid = _enqueue(sessions, org, [indicator(), indicator()])
    app = create_app(settings.model_copy(update={"ingest_prepare_processes": 0}))
    with TestClient(app) as client:
        assert app.state.ingester.wait_idle(timeout=60)
        body = client.get(f"/taxii2/default/status/{sid}/", headers=auth(key)).json()
    app.state.engine.dispose()
    assert (body["status"], body["success_count"]) == ("complete", 2)


@pytest.mark.parametrize(("queue_from", "helpers"), [(0, 0), (500, 1)])
def test_helper_processes_start_only_with_the_queue_on(settings: Settings, queue_from: int, helpers: int) -> None:
    before = len(multiprocessing.active_children())
    app = create_app(settings.model_copy(update={"ingest_queue_from": queue_from, "ingest_prepare_processes": 1}))
    with TestClient(app):
        assert len(multiprocessing.active_children()) - before == helpers
    app.state.engine.dispose()


def test_a_large_post_is_answered_pending_and_completes(settings: Settings, make_org: MakeOrg) -> None:
    org, key = make_org(Role.csirt)
    app = create_app(settings.model_copy(update={"ingest_queue_from": 3, "ingest_prepare_processes": 0}))
    headers = auth(key) | {"Content-Type": "application/taxii+json;version=2.1",
                           "Accept": "application/taxii+json;version=2.1"}
    url = f"/taxii2/default/collections/{DEFAULT_COLLECTION_ID}/objects/"
    with TestClient(app) as client:
        small = client.post(url, content=orjson.dumps({"objects": [indicator(), indicator()]}), headers=headers)
        assert (small.status_code, small.json()["status"]) == (202, "complete")
        objects = [indicator() for _ in range(3)]
        large = client.post(url, content=orjson.dumps({"objects": objects}), headers=headers)
        assert large.status_code == 202
        assert (large.json()["status"], large.json()["pending_count"]) == ("pending", 3)
        assert app.state.ingester.wait_idle(timeout=60)
        final = client.get(f"/taxii2/default/status/{large.json()['id']}/", headers=headers).json()
        assert (final["status"], final["success_count"]) == ("complete", 3)
        listed = client.get(url, headers=headers).json()
    app.state.engine.dispose()
    assert {o["id"] for o in objects} <= {o["id"] for o in listed["objects"]}


def test_a_group_is_cut_after_its_prepared_envelopes() -> None:
    """The store takes the envelopes prepared so far; the others stay claimed, in order, as the next group."""
    def job(pk: int) -> Any:
        return ingest_queue._Job(pk, f"s{pk}", 1, 0, 1, "a", None)

    done: list[Future[Any]] = [Future(), Future(), Future(), Future()]
    for future in done[:2] + done[3:]:
        future.set_result(b"")
    first = ingest_queue._Group(1, 1, [job(pk) for pk in range(4)], done, [b""] * 4, None)
    later = ingest_queue._Group(1, 1, [job(9)], [done[0]], [b""], None)
    in_flight = deque([first, later])
    ingest_queue._store_what_is_ready(in_flight)
    assert [[j.pk for j in g.jobs] for g in in_flight] == [[0, 1], [2, 3], [9]]
    assert in_flight[1].parts == done[2:]
    ingest_queue._store_what_is_ready(in_flight)  # nothing to cut: a whole group ready is stored whole
    assert [[j.pk for j in g.jobs] for g in in_flight] == [[0, 1], [2, 3], [9]]
