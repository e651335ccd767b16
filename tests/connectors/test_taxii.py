"""TAXII 2.1 pull with taxii2-client from a real medallion server (tests/connectors/conftest.py):
discovery and direct URLs, Basic auth, paging with ``next``, the ``added_after`` bookmark, errors and
stalls mid-listing, ``match[type]``."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker
from taxii2client.v21 import Collection

from connectors.base import Retry
from exchange.core.settings import Settings
from exchange.feeds import service
from tests.connectors.conftest import PASSWORD, USER, Medallion, indicator
from tests.feeds.helpers import add, current, run

NO_WAIT = Retry(attempts=3, sleep=lambda seconds: None)


@pytest.fixture
def password(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("PEER_PASSWORD", PASSWORD)
    return "PEER_PASSWORD"


def _feed(peer: Medallion, password: str, *options: str, url: str | None = None) -> None:
    add("peer", "taxii", url or peer.collection, "--username", USER, "--password-env", password,
        "--option", "page_size=2", *(x for o in options for x in ("--option", o)))


def test_pages_then_only_new_objects(settings: Settings, sessions: sessionmaker[Session], peer: Medallion,
                                     password: str, tmp_path: object) -> None:
    first = [indicator(n) for n in range(5)]
    peer.seed(tmp_path, first)  # type: ignore[arg-type]
    _feed(peer, password, url=peer.discovery)
    assert run("peer") == {"fetched": 5, "added": 6, "duplicates": 0, "rejected": 0}  # and the source's identity
    assert peer.objects_requests == 3  # pages of 2, 2 and 1, through `next`
    later = [indicator(n) for n in range(5, 8)]
    Collection(peer.collection, user=USER, password=PASSWORD).add_objects({"objects": later})
    assert run("peer") == {"fetched": 3, "added": 3, "duplicates": 1, "rejected": 0}  # the identity again
    assert set(current(sessions, "indicator")) == {o["id"] for o in first + later}
    stored = current(sessions, "indicator")[first[0]["id"]]
    assert stored["created_by_ref"] == next(iter(current(sessions, "identity")))


def test_an_error_mid_listing_ends_the_run_and_the_next_resumes(
        settings: Settings, sessions: sessionmaker[Session], peer: Medallion, password: str,
        tmp_path: object) -> None:
    objects = [indicator(n) for n in range(6)]
    peer.seed(tmp_path, objects)  # type: ignore[arg-type]
    _feed(peer, password)
    peer.faults = [0.0, 503, 503, 503]  # the first page passes, the second fails on every attempt
    counts = service.run(sessions, "peer", retry=NO_WAIT)
    assert (counts.fetched, counts.added) == (2, 3)
    assert counts.error is not None
    assert "HTTP 503 (after 3 attempts)" in counts.error
    assert run("peer") == {"fetched": 4, "added": 4, "duplicates": 1, "rejected": 0}
    assert set(current(sessions, "indicator")) == {o["id"] for o in objects}
    with sessions() as session:
        runs = service.runs(session, service.get(session, "peer"))
    assert [r.error is None for r in runs] == [True, False]


def test_retry_after_and_a_stalled_server_are_retried(
        settings: Settings, sessions: sessionmaker[Session], peer: Medallion, password: str,
        tmp_path: object) -> None:
    peer.seed(tmp_path, [indicator(n) for n in range(3)])  # type: ignore[arg-type]
    _feed(peer, password, "timeout_seconds=0.3")
    waits: list[float] = []
    peer.faults = [429, 0.0, 0.8]  # Retry-After: 0 on the first page; the second page stalls once
    counts = service.run(sessions, "peer", retry=Retry(attempts=3, base_seconds=0.01, sleep=waits.append))
    assert (counts.error, counts.added) == (None, 4)
    assert waits == [0.0, 0.01]  # what Retry-After asked, then the backoff after the timeout


def test_types_filter_and_a_wrong_password(settings: Settings, sessions: sessionmaker[Session], peer: Medallion,
                                           monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    malware = {"type": "malware", "spec_version": "2.1", "id": "malware--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061",
               "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z", "name": "x",
               "is_family": False}
    peer.seed(tmp_path, [indicator(1), malware])  # type: ignore[arg-type]
    monkeypatch.setenv("PEER_PASSWORD", "wrong")
    _feed(peer, "PEER_PASSWORD", "types=malware")
    failed = run("peer", ok=False)
    assert failed["error"].endswith("HTTP 401")
    monkeypatch.setenv("PEER_PASSWORD", PASSWORD)
    assert run("peer")["fetched"] == 1
    assert list(current(sessions, "malware")) == [malware["id"]]
    assert current(sessions, "indicator") == {}
