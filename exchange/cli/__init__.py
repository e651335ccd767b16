"""The ``exchange`` command line: serve, worker, db, org, key, user, group, collection, api-root, asset, alert, audit,
feed, subscription, delivery, import, export, bench."""

from __future__ import annotations

import sys

import typer
from sqlalchemy.exc import SQLAlchemyError

from exchange.cli import alerts, assets, audit, bench, catalog, delivery, feeds, orgs, people, serve, transfer
from exchange.cli.common import console, database_failure
from exchange.core.settings import Settings

app = typer.Typer(
    name="exchange",
    help="Threat-information exchange for CSIRTs, ISACs and SMEs. Settings come from EXCHANGE_* variables.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
serve.register(app)
orgs.register(app)
people.register(app)
transfer.register(app)
app.add_typer(catalog.app, name="collection")
app.add_typer(catalog.roots_app, name="api-root")
app.add_typer(assets.app, name="asset")
app.add_typer(alerts.app, name="alert")
app.add_typer(audit.app, name="audit")
app.add_typer(feeds.app, name="feed")
app.add_typer(bench.app, name="bench")
delivery.register(app)


def main() -> None:
    """The console script: a database that cannot be used (refused, unknown scheme, missing folder)
    ends any command with one line on stderr and exit status 1, not a traceback."""
    try:
        app()
    except SQLAlchemyError as exc:
        console.print(f"[red]error:[/red] {database_failure(exc, Settings().database_url)}", highlight=False,
                      soft_wrap=True)
        sys.exit(1)
