"""Tables of the STIX store.

Timestamps are integers (microseconds since the epoch, UTC): exact to the precision stix2
accepts, identical on SQLite and PostgreSQL, and cheap to index and compare.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, LargeBinary, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from exchange.core.columns import BigIntPK, BigIntRef, key_string
from exchange.core.db import Base
from exchange.stix.tlp import Tlp

TlpColumn = String(16)


class ApiRoot(Base):
    """A TAXII API root: a named group of collections under ``/taxii2/{name}/``."""

    __tablename__ = "api_root"

    pk: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")


class Collection(Base):
    """Objects live in collections; who may read and write one is decided here and in grants.

    The collection's *audience* is its sharing group's members when it is bound to one, else the
    community (every member organisation). ``members_read``: the audience may read.
    ``publishers_write``: the audience may write (in a community collection only csirt, isac and
    admin organisations). ``public``: anonymous clients may read its TLP:CLEAR objects, and every
    member organisation may read it. The owner organisation may always read and write.
    """

    __tablename__ = "collection"

    pk: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    id: Mapped[str] = mapped_column(String(36), unique=True)
    api_root_pk: Mapped[int] = mapped_column(ForeignKey("api_root.pk", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    default_tlp: Mapped[str] = mapped_column(TlpColumn, default=Tlp.green.value)
    members_read: Mapped[bool] = mapped_column(Boolean, default=True)
    publishers_write: Mapped[bool] = mapped_column(Boolean, default=False)
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    owner_org_pk: Mapped[int | None] = mapped_column(ForeignKey("org.pk", ondelete="SET NULL"))
    # RESTRICT: dropping a group must never silently turn its collections into community ones.
    sharing_group_pk: Mapped[int | None] = mapped_column(ForeignKey("sharing_group.pk", ondelete="RESTRICT"),
                                                         index=True)
    created_at: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int | None] = mapped_column(BigInteger)  # last ingest into the collection


class CollectionGrant(Base):
    """Per-organisation rights on a collection, on top of the collection's own rules."""

    __tablename__ = "collection_grant"

    collection_pk: Mapped[int] = mapped_column(ForeignKey("collection.pk", ondelete="CASCADE"), primary_key=True)
    org_pk: Mapped[int] = mapped_column(ForeignKey("org.pk", ondelete="CASCADE"), primary_key=True)
    can_read: Mapped[bool] = mapped_column(Boolean)
    can_write: Mapped[bool] = mapped_column(Boolean)


class TaxiiStatus(Base):
    """A TAXII status resource: the outcome of one POST, kept for clients to fetch later."""

    __tablename__ = "taxii_status"

    pk: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    id: Mapped[str] = mapped_column(String(36), unique=True)
    api_root_pk: Mapped[int] = mapped_column(ForeignKey("api_root.pk", ondelete="CASCADE"))
    org_pk: Mapped[int | None] = mapped_column(ForeignKey("org.pk", ondelete="CASCADE"))
    created_at: Mapped[int] = mapped_column(BigInteger, index=True)
    body: Mapped[bytes] = mapped_column(LargeBinary)  # the status resource JSON, as served


class IngestJob(Base):
    """A TAXII envelope accepted with a "pending" status, waiting for the ingester (``stix.queue``).

    The row holds everything needed to store it later, on any replica, after a restart: the raw
    envelope, who posted it and from where. It is deleted in the transaction that stores the
    objects and writes the final status resource, so an envelope is stored exactly once. A lease
    (``leased_by`` until ``leased_until``) keeps concurrent ingesters apart; an expired lease means
    its ingester died, and the job is taken up again.
    """

    __tablename__ = "ingest_job"

    pk: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    status_id: Mapped[str] = mapped_column(String(36), unique=True)
    api_root_pk: Mapped[int] = mapped_column(ForeignKey("api_root.pk", ondelete="CASCADE"))
    collection_pk: Mapped[int] = mapped_column(ForeignKey("collection.pk", ondelete="CASCADE"))
    org_pk: Mapped[int] = mapped_column(ForeignKey("org.pk", ondelete="CASCADE"))
    actor: Mapped[str] = mapped_column(String(400))
    remote_addr: Mapped[str | None] = mapped_column(String(64))
    requested_at: Mapped[int] = mapped_column(BigInteger)
    object_count: Mapped[int] = mapped_column(BigInteger)
    leased_by: Mapped[str | None] = mapped_column(String(36))
    leased_until: Mapped[int | None] = mapped_column(BigInteger)
    payload: Mapped[bytes] = mapped_column(LargeBinary)  # the envelope as posted
    # The pending status as the POST answered it: clients poll it, and re-reading the envelope on
    # every poll was a large share of the server's time (decision 0005, "Guarantees").
    pending_status: Mapped[bytes] = mapped_column(LargeBinary)


class HubSecret(Base):
    """Secrets every replica shares, kept in the database so no configuration is needed (cursor signing)."""

    __tablename__ = "hub_secret"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))


class StixObject(Base):
    """One row per object *version*; ``pk`` is the insert sequence (TAXII date_added order, cursors).

    A bulk table: written only by ``stix.ingest``, under its lock, tens of thousands of rows a
    second. So its keys are the ingest path's to keep (docs/decisions/0007-bulk-tables.md): no
    foreign keys (PostgreSQL checked them row by row, a third of the insert cost at 1M objects),
    and (id, collection, modified, publisher) is unique because ``ingest`` looks every version up
    under that lock, not by a unique index on long random strings. Ids are found through a hash
    index on PostgreSQL (a B-tree on SQLite): equality is the only question ever asked of them.

    The PostgreSQL forms of the indexes here and on ``Observable`` (hash, partial) are the
    migrations' (0001, 0008); the models do not repeat those arguments, because naming any
    PostgreSQL option makes SQLAlchemy load its whole PostgreSQL dialect, a tenth of ``exchange
    import``'s start-up on SQLite (decision 0009). Alembic's comparison looks at neither.
    """

    __tablename__ = "stix_object"
    __table_args__ = (
        Index("ix_stix_object_stix_id", "stix_id"),  # hash on PostgreSQL (migration 0008)
        Index("ix_stix_object_coll_type_pk", "collection_pk", "type", "pk"),
        Index("ix_stix_object_coll_pk", "collection_pk", "pk"),
        # date_added grows with pk; this index turns added_after into a pk boundary.
        Index("ix_stix_object_date_added", "date_added"),
        # a producer's reports (its advisories page), newest first; partial, so an indicator costs it nothing
        # (migration 0022, which makes it partial on PostgreSQL too: naming that dialect here would load it in
        # every process, 26 ms of each command's start). Only a query that says ``type = 'report'`` literally
        # may use it (``REPORTS``).
        Index("ix_stix_object_reports", "publisher_org_pk", "pk", sqlite_where=text("type = 'report'")),
        # AUTOINCREMENT: SQLite never reuses a deleted top key, so cursors over pk stay monotonic.
        {"sqlite_autoincrement": True},
    )

    pk: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    collection_pk: Mapped[int] = mapped_column(BigIntRef)  # collection.pk
    stix_id: Mapped[str] = mapped_column(key_string(300))
    type: Mapped[str] = mapped_column(key_string(250))
    spec_version: Mapped[str] = mapped_column(String(8))
    # Version key: `modified`, else `created`, else 0 for unversioned objects without timestamps.
    modified: Mapped[int] = mapped_column(BigInteger)
    created_by_ref: Mapped[str | None] = mapped_column(String(300))
    tlp: Mapped[str] = mapped_column(TlpColumn)
    revoked: Mapped[bool] = mapped_column(Boolean)
    is_latest: Mapped[bool] = mapped_column(Boolean)
    valid_from: Mapped[int | None] = mapped_column(BigInteger)
    valid_until: Mapped[int | None] = mapped_column(BigInteger)
    date_added: Mapped[int] = mapped_column(BigInteger)
    publisher_org_pk: Mapped[int | None] = mapped_column(BigIntRef)  # org.pk
    raw: Mapped[bytes] = mapped_column(LargeBinary)  # the accepted JSON, byte for byte


class ObjectRecipient(Base):
    """An organisation named by the producer for a TLP:RED or TLP:AMBER+STRICT object version
    (the ``x_exchange_recipients`` property); only they (and the producer) may read it."""

    __tablename__ = "object_recipient"
    __table_args__ = (Index("ix_object_recipient_org", "org_pk", "object_pk"),)

    object_pk: Mapped[int] = mapped_column(ForeignKey("stix_object.pk", ondelete="CASCADE"), primary_key=True)
    org_pk: Mapped[int] = mapped_column(ForeignKey("org.pk", ondelete="CASCADE"), primary_key=True)


class Observable(Base):
    """A matchable value pulled out of an indicator pattern or an SCO: what alert matching joins on.

    A bulk table like ``StixObject``, without a foreign key for the same reason: its rows are written
    with their object's and deleted with it by ``stix`` code. Values are found by equality, through a
    hash index on PostgreSQL (a B-tree on SQLite).

    IP addresses are also stored as a closed range ``ip_lo``..``ip_hi`` of 32-hex-digit integers
    (IPv4 mapped into ``::ffff:0:0/96``) so that CIDR containment is an index range scan on both
    databases: fixed-width hex sorts exactly like the integers it spells.
    """

    __tablename__ = "observable"
    __table_args__ = (
        Index("ix_observable_value", "value"),  # hash on PostgreSQL (migration 0008)
        # Partial on PostgreSQL too (migration 0001).
        Index("ix_observable_ip", "ip_lo", "ip_hi", sqlite_where=text("ip_lo IS NOT NULL")),
        # Clustered on the object (a WITHOUT ROWID table on SQLite): rows of one object sit together,
        # inserts append, and no separate index on object_pk is needed.
        {"sqlite_with_rowid": False},
    )

    object_pk: Mapped[int] = mapped_column(BigIntRef, primary_key=True)  # stix_object.pk
    kind: Mapped[str] = mapped_column(key_string(16), primary_key=True)
    value: Mapped[str] = mapped_column(key_string(1024), primary_key=True)
    ip_lo: Mapped[str | None] = mapped_column(key_string(32))
    ip_hi: Mapped[str | None] = mapped_column(key_string(32))


class ObjectRef(Base):
    """An id that a relationship or sighting version points at (``prepare.POINTERS``): the incoming half of an
    object's graph, found by an index look-up (the publisher's steps for an alert, an object's page) where
    sieving the raw JSON of every object of a publisher took 20 ms at 100k objects. A bulk table like
    ``Observable``, written with its object by ``store.ingest`` and deleted with it."""

    __tablename__ = "object_ref"
    __table_args__ = ({"sqlite_with_rowid": False},)

    ref: Mapped[str] = mapped_column(key_string(300), primary_key=True)
    object_pk: Mapped[int] = mapped_column(BigIntRef, primary_key=True)  # stix_object.pk


class PublishTally(Base):
    """How many object versions an organisation published in each hour, kept by ingest (one upsert per batch):
    the dashboard's "published this week" is then a sum of at most 169 rows, exact at any volume, where counting
    the week's rows through an index read every one of them (10 ms and more at a million a week on PostgreSQL,
    the page's whole budget under load). A count of events: objects deleted later stay counted."""

    __tablename__ = "publish_tally"

    org_pk: Mapped[int] = mapped_column(ForeignKey("org.pk", ondelete="CASCADE"), primary_key=True)
    hour: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # µs since the epoch at the hour's start
    objects: Mapped[int] = mapped_column(BigInteger)
