"""Property test of the read rules in force: for random orgs and objects at every TLP, each reader's
visible set through every read path equals what the rules allow — no more, no less."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from exchange import db
from exchange.errors import NotFound
from exchange.orgs import service as orgs
from exchange.orgs.models import Org, Role
from exchange.stix import service
from exchange.stix.ingest import ingest
from exchange.stix.tlp import Tlp
from tests.factories import TLP2, indicator

LEVELS = [None, *TLP2]  # None: unmarked, takes the collection default (green)


def allowed(reader: Org, publisher: Org, level: str) -> bool:
    if reader.role == Role.admin or reader.pk == publisher.pk:
        return True
    return level in (Tlp.clear, Tlp.green)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    roles=st.lists(st.sampled_from(list(Role)), min_size=1, max_size=4),
    objects=st.lists(st.tuples(st.integers(0, 3), st.sampled_from(LEVELS)), min_size=1, max_size=12),
)
def test_every_read_path_returns_exactly_what_the_rules_allow(
    sessions: sessionmaker[Session], roles: list[Role], objects: list[tuple[int, str | None]]
) -> None:
    with db.transaction(sessions) as s:
        s.execute(text("DELETE FROM observable"))
        s.execute(text("DELETE FROM stix_object"))
        s.execute(text("DELETE FROM api_key"))
        s.execute(text("DELETE FROM org"))
        members = [orgs.create(s, name=f"org{i}", role=role).org for i, role in enumerate(roles)]
        expected_level: dict[str, tuple[Org, str]] = {}
        for n, (who, level) in enumerate(objects):
            publisher = members[who % len(members)]
            obj = indicator(f"[domain-name:value = 'n{n}.example']", markings=[TLP2[level]] if level else None)
            ingest(s, [obj], collection=service.get_collection(s), org=publisher)
            expected_level[obj["id"]] = (publisher, level or "green")
    with db.transaction(sessions) as s:
        for reader in itertools.chain(members, [None]):
            want = {i for i, (pub, lvl) in expected_level.items() if reader is not None and allowed(reader, pub, lvl)}
            listed = {o.stix_id for o in service.list_objects(s, reader, limit=1000).objects}
            assert listed == want
            for stix_id in expected_level:
                try:
                    single = bool(service.get_versions(s, reader, stix_id, all_versions=True))
                except NotFound:
                    single = False
                assert single == (stix_id in want)
            looked_up = {
                hit.object.stix_id
                for n in range(len(objects))
                for hit in service.lookup(s, reader, f"n{n}.example", limit=100)
            }
            assert looked_up == want
