"""``org create|list`` and ``key rotate``."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from exchange.cli.common import console, unit_of_work
from exchange.orgs import service
from exchange.orgs.models import Role
from exchange.settings import Settings
from exchange.stix.timestamps import from_micros

org_app = typer.Typer(help="Organisations: CSIRTs, ISACs, SMEs and admins.", no_args_is_help=True)
key_app = typer.Typer(help="API keys (shown once, stored only as a hash).", no_args_is_help=True)


@org_app.command("create")
def create(
    name: str = typer.Option(..., help="Display name, e.g. 'CERT Example'"),
    role: Role = typer.Option(..., help="csirt and isac publish; sme receives alerts; admin manages the hub"),
    slug: str | None = typer.Option(None, help="Login name for HTTP Basic [default: derived from the name]"),
    as_json: bool = typer.Option(False, "--json", help='Print {"id", "slug", "api_key"} as JSON'),
) -> None:
    """Create an organisation and print its first API key (it is not shown again)."""
    with unit_of_work(Settings()) as session:
        issued = service.create(session, name=name, role=role, slug=slug)
    _print_key(issued, as_json)


@org_app.command("list")
def list_orgs(as_json: bool = typer.Option(False, "--json", help="Print a JSON array")) -> None:
    """List organisations."""
    with unit_of_work(Settings()) as session:
        orgs = service.get_all(session)
        rows = [{"id": o.id, "slug": o.slug, "name": o.name, "role": o.role.value,
                 "identity": o.identity_id, "created": from_micros(o.created_at)} for o in orgs]
    if as_json:
        typer.echo(json.dumps(rows))
        return
    table = Table("slug", "name", "role", "id", "created")
    for r in rows:
        table.add_row(r["slug"], r["name"], r["role"], r["id"], r["created"])
    console.print(table)


@key_app.command("rotate")
def rotate(
    slug: str = typer.Argument(..., help="Organisation slug"),
    as_json: bool = typer.Option(False, "--json", help='Print {"id", "slug", "api_key"} as JSON'),
) -> None:
    """Revoke the organisation's keys and print a new one."""
    with unit_of_work(Settings()) as session:
        issued = service.rotate_key(session, slug=slug)
    _print_key(issued, as_json)


def _print_key(issued: service.IssuedKey, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps({"id": issued.org.id, "slug": issued.org.slug, "api_key": issued.api_key}))
        return
    console.print(f"organisation [bold]{issued.org.slug}[/bold] ({issued.org.role.value})")
    console.print("API key (store it now, it is not shown again):")
    typer.echo(issued.api_key)


def register(app: typer.Typer) -> None:
    app.add_typer(org_app, name="org")
    app.add_typer(key_app, name="key")
