"""What every command needs: settings, a session factory, readable failures."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console
from sqlalchemy import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from exchange.core.db import behind_head, make_engine, make_sessionmaker, transaction
from exchange.core.errors import ExchangeError
from exchange.core.settings import Settings

console = Console(stderr=True)


def show_figures(figures: dict[str, object], title: str, *, as_json: bool) -> None:
    """A benchmark's figures: one JSON object on stdout for scripts, or a two-column table for people."""
    if as_json:
        typer.echo(json.dumps(figures))
        return
    from rich.table import Table  # only benchmarks print this table: not loaded at every command's start

    table = Table("figure", "value", title=title)
    for name, value in figures.items():
        table.add_row(name, str(value))
    console.print(table)


def database_failure(exc: SQLAlchemyError, url: str) -> str:
    """One line saying why the database could not be used: its URL (no password) and the driver's first
    line, instead of the hundreds of lines of a chained traceback."""
    shown = make_url(url).render_as_string(hide_password=True) if _parses(url) else url
    if isinstance(exc, NoSuchModuleError):
        return (f"cannot use the database {shown}: unknown database scheme "
                "(use sqlite:///PATH or postgresql+psycopg://USER@HOST/DB)")
    orig = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(orig).splitlines() if line.strip()]
    reason = lines[0] if lines else type(orig).__name__
    return f"cannot use the database {shown}: {reason}"


def _parses(url: str) -> bool:
    try:
        make_url(url)
    except ArgumentError:
        return False
    return True


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (None for other databases and in-memory SQLite)."""
    parsed = make_url(url) if _parses(url) else None
    if parsed is None or not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).resolve()


def session_factory(settings: Settings) -> sessionmaker[Session]:
    """Sessions on the configured database, which must exist: only ``db upgrade`` and ``serve`` create
    a SQLite file, so a command run from another folder does not quietly start an empty hub there.
    Without EXCHANGE_DATABASE_URL the command says which file it uses."""
    path = sqlite_path(settings.database_url)
    if path is not None:
        if not path.exists():
            console.print(f"[red]error:[/red] no database at {path}: run `exchange db upgrade` to create it, "
                          "or set EXCHANGE_DATABASE_URL", highlight=False, soft_wrap=True)
            raise typer.Exit(1)
        if "database_url" not in settings.model_fields_set:
            console.print(f"database: {path} (set EXCHANGE_DATABASE_URL to use another)", highlight=False,
                          soft_wrap=True)
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
