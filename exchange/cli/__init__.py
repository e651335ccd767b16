"""The ``exchange`` command line: serve, worker, db, org, key, user, group, collection, api-root, asset, alert, audit,
feed, subscription, delivery, import, export, bench.

Each command's module is imported only when that command runs: ``exchange import`` then loads the
store and the STIX checks, not FastAPI, uvicorn, the alert matcher or the web templates, which
made its start-up cost more than a second (docs/decisions/0009-patterns.md, "Figures").
``exchange --help`` lists every command from the table below without importing any of them;
tests/cli/test_import.py checks the table against the commands themselves.
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING

import typer
from typer.core import TyperCommand, TyperGroup

if TYPE_CHECKING:  # Typer 0.29 carries its own copy of click; these are its types
    from typer._click import Command, Context, HelpFormatter

# name: (module under exchange.cli, what it provides: "register" adds the command to an app, any other
# name is that module's Typer sub-app), and the one-line help ``exchange --help`` shows.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "serve": ("serve", "register", "Run the hub (HTTP API and TAXII server). An embedded SQLite database is migrated "
              "on start."),
    "worker": ("serve", "register", "Run the scheduled jobs (alert matching, deliveries, feed syncs) until "
               "interrupted."),
    "import": ("transfer", "register", "Validate and store STIX objects; print what was added, duplicated and "
               "rejected, naming each rejected object by file, position and id."),
    "export": ("transfer", "register", "Write current objects as a STIX bundle, CSV or a plain-text blocklist."),
    "db": ("serve", "register", "Database schema management."),
    "org": ("orgs", "register", "Organisations: CSIRTs, ISACs, SMEs and admins."),
    "key": ("orgs", "register", "API keys (shown once, stored only as a hash)."),
    "user": ("people", "register", "People inside organisations; their role caps what their keys may do."),
    "group": ("people", "register", "Sharing groups: who TLP:AMBER objects in a group's collections reach."),
    "collection": ("catalog", "app", "TAXII collections: create them and grant organisations read or write."),
    "api-root": ("catalog", "roots_app", "TAXII API roots: /taxii2/{name}/, each with its own collections (e.g. one "
                 "per trust community)."),
    "asset": ("assets", "app", "The asset inventory: what each organisation owns, and whether it proved it."),
    "alert": ("alerts", "app", "Alerts: what each organisation must hear about, and its answers."),
    "audit": ("audit", "app", "The audit log: who did what, when, from where."),
    "feed": ("feeds", "app", "Feeds the hub keeps in sync with: TAXII 2.1 collections, CSV/text blocklists, "
             "vulnerability catalogues. `exchange worker` runs them on their schedule."),
    "bench": ("bench", "app", "Benchmarks (numbers for issue notes and capacity planning)."),
    "subscription": ("delivery", "register", "Who hears about an organisation's alerts: e-mail addresses and signed "
                     "webhooks."),
    "delivery": ("delivery", "register", "Messages sent, waiting or dead-lettered; replay; the webhook event schemas."),
}


def load(name: str) -> Command:
    """The click command ``name``, built from its module (imported now) as Typer would build it."""
    module_name, attribute, _ = COMMANDS[name]
    module = importlib.import_module(f"exchange.cli.{module_name}")
    holder = typer.Typer()
    if attribute == "register":
        module.register(holder)
    else:
        holder.add_typer(getattr(module, attribute), name=name)
    return typer.main.get_group(holder).commands[name]


class _LazyGroup(TyperGroup):
    """The root group: commands come from ``COMMANDS``, loaded on first use."""

    def list_commands(self, ctx: Context) -> list[str]:
        return [*self.commands, *(name for name in COMMANDS if name not in self.commands)]

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            self.commands[cmd_name] = load(cmd_name)
        return self.commands.get(cmd_name)

    def format_help(self, ctx: Context, formatter: HelpFormatter) -> None:
        """The root's help, listing the commands not loaded yet by their line in ``COMMANDS``."""
        stubs = {name: TyperCommand(name, help=line) for name, (_, _, line) in COMMANDS.items()
                 if name not in self.commands}
        self.commands.update(stubs)
        try:
            super().format_help(ctx, formatter)
        finally:
            for name in stubs:
                del self.commands[name]


app = typer.Typer(
    name="exchange",
    help="Threat-information exchange for CSIRTs, ISACs and SMEs. Settings come from EXCHANGE_* variables.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    cls=_LazyGroup,
)


@app.callback()
def _root() -> None:
    # A callback makes Typer build a group even though no command is registered up front.
    pass


def main() -> None:
    """The console script: a database that cannot be used (refused, unknown scheme, missing folder)
    ends any command with one line on stderr and exit status 1, not a traceback."""
    try:
        app()
    except Exception as exc:
        from sqlalchemy.exc import SQLAlchemyError  # imported here: `--help` needs no database layer

        if not isinstance(exc, SQLAlchemyError):
            raise
        from exchange.cli.common import console, database_failure
        from exchange.core.settings import Settings

        console.print(f"[red]error:[/red] {database_failure(exc, Settings().database_url)}", highlight=False,
                      soft_wrap=True)
        sys.exit(1)


__all__ = ["COMMANDS", "app", "load", "main"]
