"""``audit list``: the append-only log of writes and administrative actions."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from exchange.cli.common import console, unit_of_work
from exchange.core.settings import Settings
from exchange.core.timestamps import to_micros
from exchange.orgs import audit
from exchange.orgs.schemas import audit_out

app = typer.Typer(help="The audit log: who did what, when, from where.", no_args_is_help=True)


@app.command("list")
def list_entries(
    since: str | None = typer.Option(None, help="Only entries at or after this timestamp (2024-01-31T00:00:00Z)"),
    action: str | None = typer.Option(None, help="Only this action, e.g. taxii.add_objects, key.revoke"),
    org: str | None = typer.Option(None, help="Only this organisation's actions (slug)"),
    limit: int = typer.Option(50, min=1, help="How many entries, newest first"),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array"),
) -> None:
    """Show the newest audit entries."""
    since_us = to_micros(since) if since else None
    if since and since_us is None:
        console.print(f"[red]error:[/red] --since {since!r} is not a timestamp like 2024-01-31T00:00:00Z")
        raise typer.Exit(2)
    with unit_of_work(Settings()) as session:
        rows = [audit_out(e) for e in session.scalars(
            audit.entries(since=since_us, action=action, org_slug=org).limit(limit))]
    if as_json:
        typer.echo(json.dumps([r.model_dump(mode="json") for r in rows]))
        return
    table = Table("at", "actor", "action", "target", "detail", "from")
    for r in rows:
        table.add_row(r.at, r.actor, r.action, r.target, r.detail, r.remote_addr or "")
    console.print(table)
