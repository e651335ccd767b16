"""``serve``, ``worker`` and ``db upgrade``."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import typer
import uvicorn

from exchange.cli.common import console
from exchange.core import db
from exchange.core import workers as server_processes
from exchange.core.db import make_engine
from exchange.core.settings import Settings

db_app = typer.Typer(help="Database schema management.", no_args_is_help=True)


@db_app.command("upgrade")
def upgrade(revision: str = typer.Argument("head", help="Alembic revision to upgrade to")) -> None:
    """Apply the schema migrations (run before starting a hub on PostgreSQL)."""
    settings = Settings()
    db.upgrade(settings.database_url, revision)
    console.print(f"database at revision [bold]{revision}[/bold]")


def serve(
    host: str | None = typer.Option(None, help="Bind address [default: EXCHANGE_HOST or 127.0.0.1]"),
    port: int | None = typer.Option(None, help="Port [default: EXCHANGE_PORT or 8000]"),
    demo: bool = typer.Option(False, "--demo", help="Create demo organisations, print their keys, load demo "
                              "data, and deliver alerts from this process to ./exchange-demo (mail as .eml "
                              "files, signed webhooks as JSON lines)"),
    workers: int = typer.Option(1, min=1, help="Server processes. More than one lets requests (e.g. TAXII POSTs "
                                "from several clients) use several cores; the database serialises the writes. The "
                                "processes share the port and take new connections in turn, the one with fewest "
                                "open connections first"),
) -> None:
    """Run the hub (HTTP API and TAXII server). An embedded SQLite database is migrated on start."""
    from exchange.app import create_app

    settings = Settings()
    overrides: dict[str, object] = {k: v for k, v in (("host", host), ("port", port)) if v is not None}
    if "base_url" not in settings.model_fields_set:  # links must name the address actually served
        public = "127.0.0.1" if (host or settings.host) in _WILDCARDS else (host or settings.host)
        overrides["base_url"] = f"http://{public}:{port or settings.port}"
        os.environ["EXCHANGE_BASE_URL"] = str(overrides["base_url"])  # for worker processes (--workers)
    settings = settings.model_copy(update=overrides)
    logging.basicConfig(level=settings.log_level)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    _check_port(settings.host, settings.port)
    if settings.database_url.startswith("sqlite"):
        db.upgrade(settings.database_url)
    _check_database(settings)
    if demo:
        from exchange.cli.demo import load_demo, start_delivery

        load_demo(settings)
        settings = start_delivery(settings, Path.cwd() / "exchange-demo")[0]
    console.print(f"Exchange listening on [bold]http://{settings.host}:{settings.port}[/bold] "
                  "(API docs at /docs, TAXII 2.1 discovery at /taxii2/)")
    if workers > 1 and server_processes.supported(settings.port):  # each builds its app from the environment
        raise typer.Exit(server_processes.run(settings.host, settings.port, workers, settings.log_level.lower()))
    if workers > 1:
        uvicorn.run("exchange.app:app_from_env", factory=True, workers=workers, host=settings.host,
                    port=settings.port, log_level=settings.log_level.lower())
    else:
        uvicorn.run(create_app(settings), host=settings.host, port=settings.port,
                    log_level=settings.log_level.lower())


_WILDCARDS = ("0.0.0.0", "::", "")  # noqa: S104 - names, not a bind


def _check_port(host: str, port: int) -> None:
    """Fail with one line, before saying "listening", when the address cannot be bound (busy port,
    foreign address). uvicorn, or the supervisor of ``--workers``, binds again right after; the probe is the
    supervisor's own socket (``core.workers.listen``), so the same options decide."""
    try:
        server_processes.listen(host, port).close()
    except OSError as exc:
        console.print(f"[red]error:[/red] cannot listen on {host}:{port}: {exc.strerror or exc}", highlight=False)
        raise typer.Exit(1) from None


def _check_database(settings: Settings) -> None:
    """Refuse to start on a database that is down or not migrated to this code: the hub would print
    "listening" and then answer every request with an error. Connection errors end in the CLI's
    one-line database message."""
    engine = make_engine(settings.database_url)
    try:
        behind = db.behind_head(engine)
    finally:
        engine.dispose()
    if behind is not None:
        console.print(f"[red]error:[/red] the database is at migration {behind[0] or 'none'}, this version of "
                      f"Exchange needs {behind[1]}: run `exchange db upgrade` first", highlight=False)
        raise typer.Exit(1)


def worker() -> None:
    """Run the scheduled jobs (alert matching, deliveries, feed syncs) until interrupted."""
    from exchange.jobs.scheduler import run

    settings = Settings()
    logging.basicConfig(level=settings.log_level)
    run(settings)


def register(app: typer.Typer) -> None:
    app.command()(serve)
    app.command()(worker)
    app.add_typer(db_app, name="db")
