"""The ``exchange`` command line: serve, worker, db, org, key, user, group, collection, api-root, audit,
import, export, bench."""

from __future__ import annotations

import typer

from exchange.cli import audit, bench, collections, orgs, people, serve, transfer

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
app.add_typer(collections.app, name="collection")
app.add_typer(collections.roots_app, name="api-root")
app.add_typer(audit.app, name="audit")
app.add_typer(bench.app, name="bench")


def main() -> None:
    app()
