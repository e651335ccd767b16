"""What every command needs: settings, a session factory, readable failures."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from exchange.db import behind_head, make_engine, make_sessionmaker, transaction
from exchange.errors import ExchangeError
from exchange.settings import Settings

console = Console(stderr=True)


def session_factory(settings: Settings) -> sessionmaker[Session]:
    return make_sessionmaker(make_engine(settings.database_url))


@contextmanager
def unit_of_work(settings: Settings) -> Iterator[Session]:
    """A transaction whose domain errors end the command with a message instead of a traceback.

    A database error on a database older than the code (a new release, no ``db upgrade`` yet) says
    so; it is only checked after an error, so commands pay nothing for it.
    """
    factory = session_factory(settings)
    try:
        with transaction(factory) as session:
            yield session
    except ExchangeError as exc:
        console.print(f"[red]error:[/red] {exc.description}")
        raise typer.Exit(1) from None
    except DBAPIError:
        behind = behind_head(factory.kw["bind"])
        if behind is None:
            raise
        console.print(f"[red]error:[/red] the database is at migration {behind[0] or 'none'}, this version of "
                      f"Exchange needs {behind[1]}: run `exchange db upgrade` first")
        raise typer.Exit(1) from None
