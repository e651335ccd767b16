"""Property test of the read rules (docs/decisions/0003-access.md): for random organisations, sharing
groups, memberships, collections (public or not, read by their audience or not, written by it or
not), read and write grants and objects at every TLP, with named recipients and re-marked versions,
each reader's rights on every collection and visible set through every read path equals what the rules allow:
no more, no less. Versions are also sent to other collections than the object's first one, and must
be refused there (an object lives in one collection).

The rules are written out again below, in plain Python over the generated world, independently of
the SQL in ``exchange.sharing.access``; the test compares the two.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from exchange.core import db
from exchange.core.errors import NotFound
from exchange.core.timestamps import to_micros
from exchange.orgs import service as orgs
from exchange.orgs.models import Org, Role, SharingGroup
from exchange.sharing import access, catalog, groups
from exchange.stix.tlp import Tlp
from exchange.store import reads
from exchange.store.ingest import ingest
from exchange.store.ingest_rows import pairs_json, pairs_table
from exchange.store.models import Collection, StixObject
from tests.factories import TLP2, indicator

LEVELS = [None, *TLP2]  # None: unmarked, takes the collection default (green)
TABLES = ("object_recipient", "observable", "stix_object", "collection_grant", "taxii_status", "api_key", "app_user")


PUBLISHING_ROLES = frozenset({Role.csirt, Role.isac, Role.admin})  # who may write to a community collection


@dataclass
class Coll:
    row: Collection
    owner: int | None
    group: int | None
    public: bool
    members_read: bool
    publishers_write: bool
    reads: frozenset[int]  # organisations granted read
    writes: frozenset[int]  # organisations granted write


@dataclass
class Version:
    level: str
    recipients: frozenset[int]
    modified: str


@dataclass
class Obj:
    stix_id: str
    publisher: int
    coll: int
    versions: list[Version] = field(default_factory=list)


@dataclass
class World:
    orgs: list[Org]
    members: list[frozenset[int]]  # per group, owner included
    colls: list[Coll]
    objects: list[Obj]

    def in_audience(self, reader: int, c: Coll) -> bool:
        """A group-bound collection speaks to the group's members, any other to the whole community."""
        return c.group is None or reader in self.members[c.group]

    def reads_collection(self, reader: int | None, c: Coll) -> bool:
        if reader is None:
            return c.public
        if self.orgs[reader].role == Role.admin or c.owner == reader or c.public or reader in c.reads:
            return True
        return c.members_read and self.in_audience(reader, c)

    def writes_collection(self, reader: int | None, c: Coll) -> bool:
        if reader is None:
            return False
        if self.orgs[reader].role == Role.admin or c.owner == reader or reader in c.writes:
            return True
        # in a community collection only csirt, isac and admin organisations publish; a group chose its members
        may_publish = c.group is not None or self.orgs[reader].role in PUBLISHING_ROLES
        return c.publishers_write and self.in_audience(reader, c) and may_publish

    def sees_version(self, reader: int | None, o: Obj, v: Version) -> bool:
        if reader is None:
            return v.level == Tlp.clear
        if self.orgs[reader].role == Role.admin or v.level in (Tlp.clear, Tlp.green):
            return True
        if reader == o.publisher or reader in v.recipients:
            return True
        group = self.colls[o.coll].group
        return v.level == Tlp.amber and group is not None and reader in self.members[group]

    def first(self, reader: int | None, o: Obj) -> Version | None:
        """``match[version]=first``: the oldest version the reader may see."""
        return next((v for v in o.versions if self.visible(reader, o, v)), None)

    def visible(self, reader: int | None, o: Obj, v: Version) -> bool:
        """The version itself, and the current version too: re-marking stricter hides older versions."""
        return (self.reads_collection(reader, self.colls[o.coll]) and self.sees_version(reader, o, v)
                and self.sees_version(reader, o, o.versions[-1]))


org_roles = st.lists(st.sampled_from(list(Role)), min_size=1, max_size=5)
group_specs = st.lists(st.tuples(st.integers(0, 4), st.sets(st.integers(0, 4), max_size=4)), max_size=2)
# each collection: owner, group, public, members_read, publishers_write, grants (organisation: read, write)
CollSpec = tuple[int | None, int | None, bool, bool, bool, dict[int, tuple[bool, bool]]]
coll_specs = st.lists(st.tuples(st.none() | st.integers(0, 4), st.none() | st.integers(0, 1), st.booleans(),
                                st.booleans(), st.booleans(),
                                st.dictionaries(st.integers(0, 4), st.tuples(st.booleans(), st.booleans()),
                                                max_size=2)), max_size=3)
# each version: its level, its named recipients, and another collection to try it in first (or none)
version_specs = st.lists(st.tuples(st.sampled_from(LEVELS), st.sets(st.integers(0, 4), max_size=2),
                                   st.none() | st.integers(0, 2)), min_size=1, max_size=3)
object_specs = st.lists(st.tuples(st.integers(0, 4), st.integers(0, 2), version_specs), min_size=1, max_size=10)


def _reset(s: Session) -> None:
    for table in TABLES:
        s.execute(text(f"DELETE FROM {table}"))  # noqa: S608 - fixed table names
    s.execute(text("DELETE FROM collection WHERE id != :id"), {"id": reads.DEFAULT_COLLECTION_ID})
    s.execute(text("DELETE FROM sharing_group"))
    s.execute(text("DELETE FROM org"))


def _build(s: Session, roles: list[Role], group_spec: list[tuple[int, set[int]]],
           coll_spec: list[CollSpec],
           object_spec: list[tuple[int, int, list[tuple[str | None, set[int], int | None]]]]) -> World:
    n = len(roles)
    members = [orgs.create(s, name=f"org{i}", role=role).org for i, role in enumerate(roles)]
    group_rows: list[SharingGroup] = []
    group_members: list[frozenset[int]] = []
    for owner, others in group_spec:
        group_row = groups.create(s, members[owner % n], name=f"group{len(group_rows)}")
        for m in others:
            groups.add_member(s, group_row, members[m % n])
        group_rows.append(group_row)
        group_members.append(frozenset({owner % n, *(m % n for m in others)}))
    default = reads.get_collection(s)  # the migrations make it: the community reads and publishes there
    colls = [Coll(default, None, None, default.public, default.members_read, default.publishers_write,
                  frozenset(), frozenset())]
    for coll_owner, coll_group, public, members_read, publishers_write, granted in coll_spec:
        g = coll_group % len(group_rows) if coll_group is not None and group_rows else None
        o = coll_owner % n if coll_owner is not None else None
        row = catalog.create(s, title=f"c{len(colls)}", public=public, members_read=members_read,
                                 publishers_write=publishers_write, owner=members[o] if o is not None else None,
                                 sharing_group=group_rows[g] if g is not None else None)
        rights = {m % n: (read, write) for m, (read, write) in granted.items()}
        for m, (read, write) in rights.items():
            catalog.grant(s, collection=row, org=members[m], read=read, write=write)
        colls.append(Coll(row, o, g, public, members_read, publishers_write,
                          frozenset(m for m, (read, _) in rights.items() if read),
                          frozenset(m for m, (_, write) in rights.items() if write)))
    objects = []
    for k, (who, where, versions) in enumerate(object_spec):
        obj = Obj("", who % n, where % len(colls))
        base = indicator(f"[domain-name:value = 'n{k}.example']")
        obj.stix_id = base["id"]
        for step, (level, named, elsewhere) in enumerate(versions):
            modified = f"2024-0{step + 1}-01T00:00:00.000Z"
            version = dict(base, modified=modified)
            if level:
                version["object_marking_refs"] = [TLP2[level]]
            if named:
                version["x_exchange_recipients"] = sorted(members[m % n].identity_id for m in named)
            if step and elsewhere is not None and elsewhere % len(colls) != obj.coll:
                other = colls[elsewhere % len(colls)].row
                refused = ingest(s, [version], collection=other, org=members[obj.publisher]).results[0]
                assert (refused.status, refused.message) == (
                    "rejected", f"collection: this object lives in collection {colls[obj.coll].row.id}; "
                    "post its versions there"), refused
            result = ingest(s, [version], collection=colls[obj.coll].row, org=members[obj.publisher])
            assert result.added == 1, result
            obj.versions.append(Version(level or "green", frozenset(m % n for m in named), modified))
        objects.append(obj)
    return World(members, group_members, colls, objects)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(roles=org_roles, group_spec=group_specs, coll_spec=coll_specs, object_spec=object_specs)
def test_every_read_path_returns_exactly_what_the_rules_allow(
    sessions: sessionmaker[Session], roles: list[Role], group_spec: list[tuple[int, set[int]]],
    coll_spec: list[CollSpec],
    object_spec: list[tuple[int, int, list[tuple[str | None, set[int], int | None]]]],
) -> None:
    with db.transaction(sessions) as s:
        _reset(s)
        world = _build(s, roles, group_spec, coll_spec, object_spec)
    with db.transaction(sessions) as s:
        for reader in [None, *range(len(world.orgs))]:
            org = world.orgs[reader] if reader is not None else None
            current = {o.stix_id for o in world.objects if world.visible(reader, o, o.versions[-1])}
            every = {(o.stix_id, i) for o in world.objects for i, v in enumerate(o.versions)
                     if world.visible(reader, o, v)}

            # REST listing and CLI export (reads.list_objects), current versions
            if org is not None:
                assert {r.stix_id for r in reads.list_objects(s, org, limit=1000).rows} == current
            # REST single object, current and all versions
            for o in world.objects:
                try:
                    got = reads.get_versions(s, org, o.stix_id, all_versions=True)
                except NotFound:
                    got = []
                assert len(got) == sum(1 for i in range(len(o.versions)) if (o.stix_id, i) in every)
            # observable look-up (REST /observables; what alert matching will join on)
            looked_up = {hit.object.stix_id for k in range(len(world.objects))
                         for hit in reads.lookup(s, org, f"n{k}.example", limit=100)}
            assert looked_up == current
            # TAXII objects / manifest / object / versions: reads.page per collection, last and all versions
            for c in world.colls:
                last = reads.page(s, org, c.row, reads.Filters(), limit=1000).rows
                assert {r.stix_id for r in last} == {o.stix_id for o in world.objects
                                                     if o.stix_id in current and world.colls[o.coll] is c}
                everything = reads.page(s, org, c.row, reads.Filters(versions=("all",)), limit=1000).rows
                assert len(everything) == sum(1 for o in world.objects if world.colls[o.coll] is c
                                              for i in range(len(o.versions)) if (o.stix_id, i) in every)
                first = reads.page(s, org, c.row, reads.Filters(versions=("first",)), limit=1000).rows
                assert {(r.stix_id, orjson.loads(r.raw)["modified"]) for r in first} == {
                    (o.stix_id, v.modified) for o in world.objects if world.colls[o.coll] is c
                    if (v := world.first(reader, o)) is not None}
            # the collection rules, as the TAXII collections endpoint reports them (and the write path checks)
            expected_rights = {}
            for c in world.colls:
                rights = catalog.rights(s, org, c.row)
                assert (rights.can_read, rights.can_write) == (world.reads_collection(reader, c),
                                                               world.writes_collection(reader, c))
                if rights.can_read or rights.can_write:
                    expected_rights[c.row.pk] = rights
            # the same rule for every collection at once (object browser, feed and collection pages, TAXII listing)
            assert {c.pk: r for _, c, r in catalog.everywhere(s, org)} == expected_rights
        # alert matching's question (access.readers): which organisations may read which versions, in one query
        by_id = {o.stix_id: o for o in world.objects}
        rows = s.execute(select(StixObject.pk, StixObject.stix_id, StixObject.modified)).all()
        pairs = [(member.pk, pk) for member in world.orgs for pk, _, _ in rows]
        expected = {(world.orgs[r].pk, pk) for r in range(len(world.orgs)) for pk, stix_id, modified in rows
                    for v in by_id[stix_id].versions
                    if to_micros(v.modified) == modified and world.visible(r, by_id[stix_id], v)}
        pair = pairs_table(s.get_bind().dialect.name, ("org_pk", "object_pk"))
        assert {(r[0], r[1]) for r in s.execute(access.readers(pair), pairs_json(pairs))} == expected
