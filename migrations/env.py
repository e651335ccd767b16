"""Alembic environment: the URL comes from the caller (``exchange.core.db.alembic_config``)."""

from alembic import context

from exchange.core.db import make_engine
from exchange.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    # The hub's own engine factory, so a database created by the migrations gets the hub's pragmas.
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    try:
        with engine.connect() as connection:
            sqlite = connection.dialect.name == "sqlite"
            if sqlite:
                # SQLite alters a table by copying it and dropping the original; with foreign keys on,
                # that DROP deletes (ON DELETE CASCADE) every row referencing the table: altering
                # `collection` would empty `stix_object`. The pragma only works outside a transaction,
                # so it comes first, and the keys are checked before they are switched back on.
                connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
            with context.begin_transaction():
                context.run_migrations()
                if sqlite:  # inside the transaction: a broken migration rolls back, it does not land
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"the migration left rows whose foreign keys point nowhere: {broken[:5]}")
            connection.commit()
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
