"""``serve``, ``worker`` and ``db upgrade``."""

from __future__ import annotations

import logging

import typer
import uvicorn

from exchange import db
from exchange.cli.common import console
from exchange.settings import Settings

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
    demo: bool = typer.Option(False, "--demo", help="Create demo organisations, print their keys, load demo data"),
    workers: int = typer.Option(1, min=1, help="Server processes. More than one lets requests (e.g. TAXII POSTs "
                                "from several clients) use several cores; the database serialises the writes"),
) -> None:
    """Run the hub (HTTP API and TAXII server). An embedded SQLite database is migrated on start."""
    from exchange.app import create_app

    settings = Settings()
    overrides = {k: v for k, v in (("host", host), ("port", port)) if v is not None}
    settings = settings.model_copy(update=overrides)
    logging.basicConfig(level=settings.log_level)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    if settings.database_url.startswith("sqlite"):
        db.upgrade(settings.database_url)
    if demo:
        from exchange.cli.demo import load_demo

        load_demo(settings)
    console.print(f"Exchange listening on [bold]http://{settings.host}:{settings.port}[/bold] "
                  "(API docs at /docs, TAXII 2.1 discovery at /taxii2/)")
    if workers > 1:  # each worker process builds its own app from the (same) environment
        uvicorn.run("exchange.app:app_from_env", factory=True, workers=workers, host=settings.host,
                    port=settings.port, log_level=settings.log_level.lower())
    else:
        uvicorn.run(create_app(settings), host=settings.host, port=settings.port,
                    log_level=settings.log_level.lower())


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
