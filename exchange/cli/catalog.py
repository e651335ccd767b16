"""``collection create|grant|list`` and ``api-root create|list``: TAXII collections, who may read or
write them, and the API roots they are grouped under."""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.table import Table

from exchange.cli.common import console, unit_of_work
from exchange.core.settings import Settings
from exchange.orgs import audit
from exchange.orgs import service as orgs
from exchange.sharing import catalog, groups
from exchange.stix import tlp

app = typer.Typer(help="TAXII collections: create them and grant organisations read or write.", no_args_is_help=True)
roots_app = typer.Typer(help="TAXII API roots: /taxii2/{name}/, each with its own collections (e.g. one per "
                        "trust community).", no_args_is_help=True)


@app.command("create")
def create(
    title: str = typer.Option(..., help="Shown to TAXII clients"),
    api_root: str = typer.Option(catalog.DEFAULT_API_ROOT, help="API root the collection belongs to"),
    description: str = typer.Option("", help="Shown to TAXII clients"),
    tlp_level: str = typer.Option("green", "--tlp", help="TLP of unmarked objects: clear, green, amber, "
                                  "amber+strict, red"),
    public: bool = typer.Option(False, "--public", help="Anonymous clients may read it (TLP:CLEAR objects only)"),
    members_read: bool = typer.Option(True, help="Every member organisation may read it"),
    publishers_write: bool = typer.Option(False, help="The audience may write to it (in a community collection: "
                                          "csirt and isac organisations)"),
    owner: str | None = typer.Option(None, help="Slug of the owner organisation (always reads and writes)"),
    group: str | None = typer.Option(None, help="Sharing group id: its members are the audience, and TLP:AMBER "
                                     "objects reach them [default: the whole community]"),
    as_json: bool = typer.Option(False, "--json", help='Print {"id": ...} as JSON'),
) -> None:
    """Create a collection; only admins and organisations granted --write may write to it by default."""
    try:
        level = tlp.parse(tlp_level)
    except ValueError:
        console.print(f"[red]error:[/red] unknown TLP level {tlp_level!r}")
        raise typer.Exit(2) from None
    with unit_of_work(Settings()) as session:
        collection = catalog.create(session, title=title, api_root=api_root, description=description,
                                        default_tlp=level, public=public, members_read=members_read,
                                        publishers_write=publishers_write,
                                        owner=orgs.get_by_slug(session, owner) if owner else None,
                                        sharing_group=groups.get(session, group) if group else None)
        collection_id = collection.id
        audit.record_cli(session, "collection.create", collection_id, title)
    if as_json:
        typer.echo(json.dumps({"id": collection_id}))
    else:
        console.print(f"collection [bold]{title}[/bold]: {collection_id}")


@app.command("grant")
def grant(
    collection_id: str = typer.Argument(..., help="Collection id"),
    org_slug: str = typer.Argument(..., help="Organisation slug"),
    read: bool = typer.Option(False, "--read", help="May read"),
    write: bool = typer.Option(False, "--write", help="May write"),
) -> None:
    """Set an organisation's rights on a collection (no flag: take its grant away)."""
    with unit_of_work(Settings()) as session:
        collection = catalog.by_id(session, collection_id)
        org = orgs.get_by_slug(session, org_slug)
        catalog.grant(session, collection=collection, org=org, read=read, write=write)
        audit.record_cli(session, "collection.grant", collection_id, f"{org_slug}: read={read}, write={write}")
    console.print(f"{org_slug} on {collection_id}: read={'yes' if read else 'no'}, write={'yes' if write else 'no'}")


@app.command("list")
def list_collections(as_json: bool = typer.Option(False, "--json", help="Print a JSON array")) -> None:
    """List collections with their access rules."""
    with unit_of_work(Settings()) as session:
        operator = orgs.local_operator()
        rows = [{"id": c.id, "api_root": root.name, "title": c.title, "default_tlp": c.default_tlp,
                 "public": c.public, "members_read": c.members_read, "publishers_write": c.publishers_write}
                for root, c, _ in catalog.everywhere(session, operator)]
    _print_rows(rows, as_json, "id", "api root", "title", "default TLP", "public", "members read", "publishers write")


@roots_app.command("create")
def create_api_root(
    name: str = typer.Argument(..., help="Path segment of its URL, /taxii2/NAME/: lower-case letters, digits, - and _"),
    title: str = typer.Option(..., help="Shown to TAXII clients"),
    description: str = typer.Option("", help="Shown to TAXII clients"),
    as_json: bool = typer.Option(False, "--json", help='Print {"name": ..., "url_path": ...} as JSON'),
) -> None:
    """Create an API root; discovery lists it at once. Add collections with `collection create --api-root NAME`."""
    with unit_of_work(Settings()) as session:
        root = catalog.create_api_root(session, name=name, title=title, description=description)
        audit.record_cli(session, "api_root.create", root.name, title)
    if as_json:
        typer.echo(json.dumps({"name": name, "url_path": f"/taxii2/{name}/"}))
    else:
        console.print(f"API root [bold]{title}[/bold]: /taxii2/{name}/")


@roots_app.command("list")
def list_api_roots(as_json: bool = typer.Option(False, "--json", help="Print a JSON array")) -> None:
    """List API roots with their number of collections."""
    with unit_of_work(Settings()) as session:
        operator = orgs.local_operator()
        rows = [{"name": root.name, "title": root.title, "description": root.description,
                 "collections": len(catalog.in_root(session, operator, root))}
                for root in catalog.api_roots(session)]
    _print_rows(rows, as_json, "name", "title", "description", "collections")


def _print_rows(rows: list[dict[str, Any]], as_json: bool, *headers: str) -> None:
    """A listing as a JSON array (the rows' keys) or as a table (``headers``, one per key, in order)."""
    if as_json:
        typer.echo(json.dumps(rows))
        return
    table = Table(*headers)
    for r in rows:
        table.add_row(*(str(v) for v in r.values()))
    console.print(table)
