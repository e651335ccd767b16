"""What every command needs: settings, a session factory, readable failures."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from sqlalchemy.orm import Session, sessionmaker

from exchange.db import make_engine, make_sessionmaker, transaction
from exchange.errors import ExchangeError
from exchange.settings import Settings

console = Console(stderr=True)


def session_factory(settings: Settings) -> sessionmaker[Session]:
    return make_sessionmaker(make_engine(settings.database_url))


@contextmanager
def unit_of_work(settings: Settings) -> Iterator[Session]:
    """A transaction whose domain errors end the command with a message instead of a traceback."""
    try:
        with transaction(session_factory(settings)) as session:
            yield session
    except ExchangeError as exc:
        console.print(f"[red]error:[/red] {exc.description}")
        raise typer.Exit(1) from None
