"""``org create|list`` and ``key create|list|revoke|rotate``. Every change is audited (actor "cli")."""

from __future__ import annotations

import json

import typer
from rich.measure import Measurement
from rich.table import Column, Table

from exchange.cli.common import console, unit_of_work
from exchange.core.settings import Settings
from exchange.core.timestamps import from_micros
from exchange.orgs import audit, service, users
from exchange.orgs.models import Role
from exchange.orgs.schemas import issued_out, key_out

org_app = typer.Typer(help="Organisations: CSIRTs, ISACs, SMEs and admins.", no_args_is_help=True)
key_app = typer.Typer(help="API keys (shown once, stored only as a hash).", no_args_is_help=True)


@org_app.command("create")
def create(
    name: str = typer.Option(..., help="Display name, e.g. 'CERT Example'"),
    role: Role = typer.Option(..., help="csirt and isac publish; sme receives alerts; admin manages the hub"),
    slug: str | None = typer.Option(None, help="Login name for HTTP Basic [default: derived from the name, "
                                    "transliterated to ASCII]"),
    expires_in_days: int = typer.Option(service.FIRST_KEY_DAYS, min=0,
                                        help="Lifetime of the first key in days; 0 for a key that never expires"),
    as_json: bool = typer.Option(False, "--json", help='Print {"id", "slug", "api_key"} as JSON'),
) -> None:
    """Create an organisation and print its first API key (it is not shown again).

    The first key has every scope (read, write, admin), so the organisation can manage its own users
    and keys; like every key it expires, after 90 days unless --expires-in-days says otherwise.
    """
    with unit_of_work(Settings()) as session:
        issued = service.create(session, name=name, role=role, slug=slug, expires_in_days=expires_in_days or None)
        audit.record_cli(session, "org.create", issued.org.slug, f"role {role.value}")
    _print_key(issued, as_json)


@org_app.command("list")
def list_orgs(as_json: bool = typer.Option(False, "--json", help="Print a JSON array")) -> None:
    """List organisations with their STIX identity id (what ``created_by_ref`` and
    ``x_exchange_recipients`` name)."""
    with unit_of_work(Settings()) as session:
        orgs = service.get_all(session)
        rows = [{"id": o.id, "slug": o.slug, "name": o.name, "role": o.role.value,
                 "identity": o.identity_id, "created": from_micros(o.created_at)} for o in orgs]
    if as_json:
        typer.echo(json.dumps(rows))
        return
    table = Table(Column("slug", no_wrap=True), Column("role", no_wrap=True), Column("identity", no_wrap=True),
                  "name", "created")
    for r in rows:
        table.add_row(r["slug"], r["role"], r["identity"], r["name"], r["created"])
    # slugs and identity ids are what people copy: never cut or wrapped. A table that does not fit the
    # terminal (an identity id alone is 46 columns) becomes one block per organisation instead.
    if Measurement.get(console, console.options.update(max_width=10_000), table).minimum <= console.width:
        console.print(table)
        return
    for r in rows:
        console.print(f"[bold]{r['slug']}[/bold] ({r['role']}) {r['name']}, created {r['created']}\n"
                      f"  {r['identity']}", highlight=False)


@key_app.command("create")
def create_key(
    org: str = typer.Option(..., "--org", help="Organisation slug"),
    user: str | None = typer.Option(None, help="E-mail of the user who will hold it (its role caps the scopes)"),
    scopes: str = typer.Option("read", help="Comma-separated: read, write, admin"),
    expires_in_days: int | None = typer.Option(90, help="Lifetime in days; 0 for a key that never expires"),
    name: str = typer.Option("", help="A label, e.g. 'OpenCTI connector'"),
    as_json: bool = typer.Option(False, "--json", help='Print {"prefix", "api_key", "scopes", "expires"} as JSON'),
) -> None:
    """Issue a key (printed once, stored only as a hash)."""
    with unit_of_work(Settings()) as session:
        owner = service.get_by_slug(session, org)
        holder = users.get(session, owner, user) if user else None
        issued = service.issue_key(session, owner, user=holder, scopes=service.parse_scopes(scopes), name=name,
                                   expires_in_days=expires_in_days or None)
        audit.record_cli(session, "key.issue", f"{org}/{issued.key.prefix}", f"scopes {issued.key.scopes}")
        out = issued_out(issued)
    if as_json:
        typer.echo(out.model_dump_json())
        return
    console.print(f"key [bold]{out.prefix}[/bold] for {org}: scopes {', '.join(out.scopes)}, "
                  f"expires {out.expires or 'never'}\nAPI key (store it now, it is not shown again):")
    typer.echo(out.api_key)


@key_app.command("list")
def list_keys(
    org: str = typer.Option(..., "--org", help="Organisation slug"),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array"),
) -> None:
    """List an organisation's keys: prefix, holder, scopes, expiry, last use, revocation (never the keys)."""
    with unit_of_work(Settings()) as session:
        owner = service.get_by_slug(session, org)
        holders = {u.pk: u for u in users.of_org(session, owner)}
        rows = [key_out(k, holders.get(k.user_pk) if k.user_pk else None) for k in service.keys_of(session, owner)]
    if as_json:
        typer.echo(json.dumps([r.model_dump(mode="json") for r in rows]))
        return
    table = Table("prefix", "name", "user", "scopes", "expires", "last used", "revoked")
    for r in rows:
        table.add_row(r.prefix, r.name, r.user or "", " ".join(r.scopes), r.expires or "never", r.last_used or "",
                      r.revoked or "")
    console.print(table)


@key_app.command("revoke")
def revoke(org: str = typer.Option(..., "--org", help="Organisation slug"),
           prefix: str = typer.Argument(..., help="The key's prefix (see key list), or the whole key")) -> None:
    """Revoke a key at once. Given a whole key, only its prefix is printed and audited."""
    prefix = service.prefix_of(prefix)
    with unit_of_work(Settings()) as session:
        service.revoke_key(session, service.key_by_prefix(session, service.get_by_slug(session, org), prefix))
        audit.record_cli(session, "key.revoke", f"{org}/{prefix}")
    console.print(f"key {prefix} of {org} revoked")


@key_app.command("rotate")
def rotate(
    slug: str = typer.Argument(..., help="Organisation slug"),
    prefix: str | None = typer.Option(None, help="Replace only this key (same holder, scopes and lifetime)"),
    as_json: bool = typer.Option(False, "--json", help='Print {"id", "slug", "api_key", "prefix"} as JSON'),
) -> None:
    """Replace one key, or (without --prefix) revoke all the organisation's own keys and print a new full one."""
    prefix = service.prefix_of(prefix) if prefix is not None else None
    with unit_of_work(Settings()) as session:
        issued = service.rotate_key(session, slug=slug, prefix=prefix)
        audit.record_cli(session, "key.rotate", f"{slug}/{prefix or '*'}", f"new key {issued.key.prefix}")
    _print_key(issued, as_json, with_prefix=True)


def _print_key(issued: service.IssuedKey, as_json: bool, *, with_prefix: bool = False) -> None:
    """The new key once; the prefix too, which `key list` and `key revoke` know it by."""
    if as_json:
        out = {"id": issued.org.id, "slug": issued.org.slug, "api_key": issued.api_key}
        typer.echo(json.dumps({**out, "prefix": issued.key.prefix} if with_prefix else out))
        return
    console.print(f"organisation [bold]{issued.org.slug}[/bold] ({issued.org.role.value}): key "
                  f"[bold]{issued.key.prefix}[/bold], scopes {issued.key.scopes.replace(' ', ', ')}, "
                  f"expires {from_micros(issued.key.expires_at) if issued.key.expires_at else 'never'}", soft_wrap=True)
    console.print("API key (store it now, it is not shown again):")
    typer.echo(issued.api_key)


def register(app: typer.Typer) -> None:
    app.add_typer(org_app, name="org")
    app.add_typer(key_app, name="key")
