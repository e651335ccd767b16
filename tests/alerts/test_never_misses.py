"""The matching job never misses nor doubles an object stored while it runs (decision 0011): a writer
thread publishes batches through the one ingest path while another runs the job in a loop."""

from __future__ import annotations

import threading

from exchange.alerts import matching
from exchange.assets.models import AssetKind
from exchange.core.db import transaction
from exchange.orgs.models import Role
from tests.alerts.conftest import World
from tests.factories import indicator

BATCHES = 20
PER_BATCH = 10


def test_objects_stored_while_matching_runs_alert_exactly_once(world: World) -> None:
    sme = world.org().org
    csirt = world.org(Role.csirt).org
    world.asset(sme, AssetKind.domain, "bakery.test")
    done = threading.Event()
    failures: list[BaseException] = []

    def publish() -> None:
        try:
            for b in range(BATCHES):
                world.publish(csirt, *(indicator(f"[domain-name:value = 'h{b}-{i}.bakery.test']")
                                       for i in range(PER_BATCH)))
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)
        finally:
            done.set()

    def match() -> None:
        try:
            while not done.is_set():
                with transaction(world.sessions) as s:
                    matching.run(s, limit=7)  # small runs, so many interleave with the writer
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=publish), threading.Thread(target=match), threading.Thread(target=match)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    world.match()
    alerts = world.alerts(sme)
    assert sorted(a.matched for a in alerts) == sorted(f"h{b}-{i}.bakery.test" for b in range(BATCHES)
                                                       for i in range(PER_BATCH))
    assert sorted(pk for pk, kind in world.events(sme)) == sorted(a.pk for a in alerts)  # one event each
