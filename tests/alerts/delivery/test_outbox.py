"""The outbox on the real database: fan-out once, claims that never overlap, outcomes, retries, dead letters."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from exchange.alerts.delivery import outbox
from exchange.alerts.delivery.models import Category, Delivery, Digest, Subscription
from exchange.alerts.delivery.outbox import Outcome, Result
from exchange.alerts.models import AlertEvent, AlertKind, Severity
from exchange.core import db
from exchange.core.settings import Settings
from exchange.core.timestamps import HOUR, SECOND
from exchange.orgs.models import Role
from tests.alerts.delivery.conftest import make_alert, subscribe
from tests.orgs_factory import MakeOrg


def _deliveries(session: Session) -> list[Delivery]:
    return list(session.scalars(select(Delivery).order_by(Delivery.pk)))


def test_fan_out_once_per_matching_subscription(sessions: sessionmaker[Session], settings: Settings,
                                                 make_org: MakeOrg) -> None:
    sme, csirt = make_org(Role.sme).org, make_org(Role.csirt).org
    with db.transaction(sessions) as s:
        live = subscribe(s, sme, settings, email="it@bakery.example")
        digest = subscribe(s, sme, settings, email="boss@bakery.example", digest=Digest.daily)
        picky = subscribe(s, sme, settings, email="ciso@bakery.example", min_severity=Severity.critical)
        no_assets = subscribe(s, sme, settings, email="web@bakery.example", categories=[Category.software])
        make_alert(s, sme, csirt, severity=Severity.high)
        make_alert(s, sme, csirt, kind=AlertKind.software, severity=Severity.critical, asset="shop.example")
    with db.transaction(sessions) as s:
        assert outbox.fan_out(s) == 2
    with db.transaction(sessions) as s:
        assert outbox.fan_out(s) == 0, "an event is fanned out once"
        got = {(d.subscription_pk, d.status) for d in _deliveries(s)}
        assert s.scalar(select(func.count()).select_from(AlertEvent).where(AlertEvent.dispatched_at.is_(None))) == 0
    assert got == {(live.pk, "pending"), (digest.pk, "held"), (picky.pk, "pending"), (no_assets.pk, "pending")}
    assert len([1 for sub, _ in got if sub == live.pk]) == 1


def test_fan_out_again_after_a_crash_doubles_nothing(sessions: sessionmaker[Session], settings: Settings,
                                                      make_org: MakeOrg) -> None:
    """A worker that inserted the deliveries but died before marking the event (or two workers at once)."""
    sme, csirt = make_org(Role.sme).org, make_org(Role.csirt).org
    with db.transaction(sessions) as s:
        subscribe(s, sme, settings, email="it@bakery.example")
        make_alert(s, sme, csirt)
    with db.transaction(sessions) as s:
        outbox.fan_out(s)
        s.execute(update(AlertEvent).values(dispatched_at=None))
    with db.transaction(sessions) as s:
        assert outbox.fan_out(s) == 1
        assert len(_deliveries(s)) == 1


def test_claims_never_overlap_and_expired_leases_return(sessions: sessionmaker[Session], settings: Settings,
                                                        make_org: MakeOrg) -> None:
    sme, csirt = make_org(Role.sme).org, make_org(Role.csirt).org
    with db.transaction(sessions) as s:
        subscribe(s, sme, settings, email="it@bakery.example")
        for i in range(5):
            make_alert(s, sme, csirt, asset=f"shop{i}.example")
        outbox.fan_out(s)
    with db.transaction(sessions) as s:
        first = outbox.claim(s, "a", limit=3, lease_seconds=60)
    with db.transaction(sessions) as s:
        second = outbox.claim(s, "b", limit=3, lease_seconds=60)
    assert len(first) == 3
    assert len(second) == 2
    assert not set(first) & set(second)
    with db.transaction(sessions) as s:
        assert outbox.claim(s, "c", limit=10, lease_seconds=60) == []
        s.execute(update(Delivery).where(Delivery.pk.in_(first)).values(leased_until=1))  # worker a died
    with db.transaction(sessions) as s:
        assert outbox.claim(s, "c", limit=10, lease_seconds=60) == first
        assert not outbox.record(s, first[0], "a", Outcome(Result.sent), max_attempts=3), "a's lease is gone"


def test_retries_back_off_then_dead_letter_and_replay(sessions: sessionmaker[Session], settings: Settings,
                                                      make_org: MakeOrg) -> None:
    sme, csirt = make_org(Role.sme).org, make_org(Role.csirt).org
    with db.transaction(sessions) as s:
        subscribe(s, sme, settings, email="it@bakery.example")
        make_alert(s, sme, csirt)
        outbox.fan_out(s)
    for attempt in (1, 2):
        with db.transaction(sessions) as s:
            s.execute(update(Delivery).values(next_at=0))
            [pk] = outbox.claim(s, "w", limit=10, lease_seconds=60)
            assert outbox.record(s, pk, "w", Outcome(Result.retry, "HTTP 503"), max_attempts=2)
            row = s.get_one(Delivery, pk)
            assert row.attempts == attempt
            assert row.status == ("pending" if attempt == 1 else "dead")
            assert row.last_error == "HTTP 503"
            assert row.leased_by is None
            if attempt == 1:
                assert row.next_at > row.created_at + 40 * SECOND, "the first retry waits about a minute"
    with db.transaction(sessions) as s:
        assert outbox.claim(s, "w", limit=10, lease_seconds=60) == [], "a dead letter is not sent"
        assert outbox.replay(s, _deliveries(s)) == 1
        assert [(d.status, d.attempts) for d in _deliveries(s)] == [("pending", 0)]


def test_refused_disables_the_subscription_and_cancels_its_queue(sessions: sessionmaker[Session],
                                                                 settings: Settings, make_org: MakeOrg) -> None:
    sme, csirt = make_org(Role.sme).org, make_org(Role.csirt).org
    with db.transaction(sessions) as s:
        sub = subscribe(s, sme, settings, email="gone@bakery.example")
        make_alert(s, sme, csirt)
        make_alert(s, sme, csirt, asset="shop.example")
        outbox.fan_out(s)
    with db.transaction(sessions) as s:
        first, _ = outbox.claim(s, "w", limit=2, lease_seconds=60)
        outbox.record(s, first, "w", Outcome(Result.refused, "550 no such user"), max_attempts=5)
    with db.transaction(sessions) as s:
        assert [d.status for d in _deliveries(s)] == ["dead", "cancelled"]
        assert s.get_one(Subscription, sub.pk).disabled_reason == "550 no such user"


def test_backoff_spans_about_three_days() -> None:
    waits = [outbox.backoff(n) for n in range(1, Settings().delivery_max_attempts)]
    assert 2 * 24 * HOUR < sum(waits) < 4 * 24 * HOUR
    assert waits == sorted(waits) or max(waits) <= outbox.LONGEST_RETRY * 6 // 5
    assert len({outbox.backoff(3) for _ in range(20)}) > 1, "jitter"


def test_waiting_sees_new_events_and_due_unleased_messages_only(sessions: sessionmaker[Session],
                                                                 settings: Settings, make_org: MakeOrg) -> None:
    """What every worker asks several times a second before it writes anything."""
    sme, csirt = make_org(Role.sme).org, make_org(Role.csirt).org
    with db.transaction(sessions) as s:
        subscribe(s, sme, settings, email="it@bakery.example")
        s.execute(update(Delivery).values(status="sent"))  # what other tests left behind is not due
        s.execute(update(AlertEvent).values(dispatched_at=1))
    with sessions() as s:
        assert not outbox.waiting(s)
    with db.transaction(sessions) as s:
        make_alert(s, sme, csirt)
    with sessions() as s:
        assert outbox.waiting(s), "an event to fan out"
    with db.transaction(sessions) as s:
        outbox.fan_out(s)
    with sessions() as s:
        assert outbox.waiting(s), "a message due"
    with db.transaction(sessions) as s:
        [pk] = outbox.claim(s, "w", limit=10, lease_seconds=60)
    with sessions() as s:
        assert not outbox.waiting(s), "held by a live worker"
    with db.transaction(sessions) as s:
        s.execute(update(Delivery).where(Delivery.pk == pk).values(leased_until=1))
    with sessions() as s:
        assert outbox.waiting(s), "its worker died"
