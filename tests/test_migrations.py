"""The migrations build exactly the schema the models describe, and can be undone."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, select

from exchange import db
from exchange.models import Base
from exchange.stix.models import Collection
from exchange.stix.service import DEFAULT_COLLECTION_ID


def test_models_and_migrations_agree(engine: Engine) -> None:
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_first_migration_creates_the_default_collection(session) -> None:  # type: ignore[no-untyped-def]
    collection = session.scalar(select(Collection).where(Collection.id == DEFAULT_COLLECTION_ID))
    assert collection is not None
    assert collection.default_tlp == "green"


def test_downgrade_and_upgrade_again(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'x.db'}"
    db.upgrade(url)
    from alembic import command

    command.downgrade(db.alembic_config(url), "base")
    db.upgrade(url)
    engine = db.make_engine(url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA page_size").scalar() == 16384
        assert conn.execute(select(Collection.id)).scalars().all() == [DEFAULT_COLLECTION_ID]
    engine.dispose()
