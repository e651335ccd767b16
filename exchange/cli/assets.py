"""``asset add|list|remove|verify|profile|schema``: the asset inventory from the hub's command line.

The command line is the hub operator: it may act on any organisation, and ``--verified`` (or
``verify --method approval``) approves ownership as the operator, recorded in the audit log.
"""

from __future__ import annotations

import json

import typer
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from exchange.assets import service, verification
from exchange.assets.models import Asset, AssetKind, VerificationMethod
from exchange.assets.schemas import Inventory, asset_out, json_schema_text, profile_out
from exchange.cli.common import console, unit_of_work
from exchange.core.errors import NotFound
from exchange.core.settings import Settings
from exchange.orgs import audit
from exchange.orgs import service as orgs
from exchange.orgs.models import Org

app = typer.Typer(help="The asset inventory: what each organisation owns, and whether it proved it.",
                  no_args_is_help=True)


@app.command("add")
def add(
    org: str = typer.Option(..., help="Slug of the owning organisation"),
    domain: str | None = typer.Option(None, "--domain", help="A domain; covers its subdomains"),
    mail_domain: str | None = typer.Option(None, "--mail-domain", help="A domain the organisation receives mail at"),
    cidr: str | None = typer.Option(None, "--cidr", help="An IP address or CIDR range (v4 or v6)"),
    asn: str | None = typer.Option(None, "--asn", help="An AS number, e.g. 64500 or AS64500"),
    url: str | None = typer.Option(None, "--url", help="An http(s) URL"),
    software: str | None = typer.Option(None, "--software", help="A CPE 2.3 name or a package URL"),
    verified: bool = typer.Option(False, "--verified", help="Approve ownership now, as the hub operator (audited)"),
    as_json: bool = typer.Option(False, "--json", help="Print the asset as JSON"),
) -> None:
    """Add one asset to an organisation's inventory."""
    given = [(k, v) for k, v in ((AssetKind.domain, domain), (AssetKind.mail_domain, mail_domain),
                                 (AssetKind.cidr, cidr), (AssetKind.asn, asn), (AssetKind.url, url),
                                 (AssetKind.software, software)) if v is not None]
    if len(given) != 1:
        console.print("[red]error:[/red] give exactly one of --domain, --mail-domain, --cidr, --asn, --url, --software")
        raise typer.Exit(2)
    kind, value = given[0]
    settings = Settings()
    with unit_of_work(settings) as session:
        owner = orgs.get_by_slug(session, org)
        asset = service.create(session, owner, kind, value, settings=settings)
        audit.record_cli(session, "asset.add", f"{owner.slug}/{asset.kind}/{asset.value}")
        if verified and AssetKind(asset.kind) not in service.SELF_EVIDENT:
            service.approve(asset, None, settings=settings)
            audit.record_cli(session, "asset.verify", f"{asset.kind}/{asset.value}", "approval by the hub operator")
        out = asset_out(asset, owner.slug, None)
    if as_json:
        typer.echo(out.model_dump_json())
    else:
        hint = f", publish the TXT record {out.challenge.dns_txt}" if out.challenge else ""
        state = "verified" if out.verified else f"unverified{hint}"
        console.print(f"asset {out.id}: {out.kind.value} [bold]{out.value}[/bold] for {owner.slug} ({state})",
                      highlight=False, soft_wrap=True)


@app.command("list")
def list_assets(
    org: str = typer.Option(..., help="Slug of the organisation"),
    as_json: bool = typer.Option(False, "--json", help="Print the inventory document (schemas/asset.json)"),
) -> None:
    """An organisation's assets, its sector and country."""
    with unit_of_work(Settings()) as session:
        owner = orgs.get_by_slug(session, org)
        assets = service.page(session, owner, limit=service.count(session, owner) or 1).assets
        approver_pks = {a.verified_by for a in assets if a.verified_by is not None}
        approvers = dict(session.execute(select(Org.pk, Org.slug).where(Org.pk.in_(approver_pks))).all())
        inventory = Inventory(org=owner.slug, profile=profile_out(owner.slug, service.profile(session, owner)),
                              assets=[asset_out(a, owner.slug, approvers.get(a.verified_by or 0)) for a in assets])
    if as_json:
        typer.echo(inventory.model_dump_json())
        return
    table = Table(title=f"assets of {owner.slug} (sector {inventory.profile.sector or '-'}, "
                  f"country {inventory.profile.country or '-'})")
    for column in ("id", "kind", "value", "verified", "method", "expires"):
        table.add_column(column)
    for a in inventory.assets:
        table.add_row(str(a.id), a.kind.value, a.value, "yes" if a.verified else "no",
                      a.verification_method.value if a.verification_method else "-",
                      (a.verification_expires or "-")[:10])
    console.print(table)


@app.command("remove")
def remove(asset_id: int = typer.Argument(..., help="Asset id (see `exchange asset list`)")) -> None:
    """Remove an asset from its organisation's inventory."""
    with unit_of_work(Settings()) as session:
        asset = _asset(session, asset_id)
        target = f"{asset.kind}/{asset.value}"
        service.remove(session, asset)
        audit.record_cli(session, "asset.remove", target)
    console.print(f"removed asset {asset_id} ({target})", highlight=False)


@app.command("verify")
def verify(
    asset_id: int = typer.Argument(..., help="Asset id (see `exchange asset list`)"),
    method: VerificationMethod = typer.Option(VerificationMethod.dns, help="dns, http, email, rdap or approval"),
    mailbox: str = typer.Option("security", help="Method email: security or postmaster (@ the domain)"),
    as_json: bool = typer.Option(False, "--json", help='Print {"verified", "detail", "sent_to"}'),
) -> None:
    """Check ownership now (dns, http), mail a confirmation link (email, rdap), or approve it (approval)."""
    settings = Settings()
    with unit_of_work(settings) as session:
        asset = _asset(session, asset_id)
        outcome = verification.verify(session, asset, method, settings=settings, caller=None, mailbox=mailbox)
        audit.record_cli(session, "asset.verify", f"{asset.kind}/{asset.value}", f"{method.value}: {outcome.detail}")
    if as_json:
        typer.echo(json.dumps({"verified": outcome.verified, "detail": outcome.detail, "sent_to": outcome.sent_to}))
    else:
        console.print(("[green]verified[/green]: " if outcome.verified else "not verified: ") + outcome.detail,
                      highlight=False, soft_wrap=True)
    if not outcome.verified and outcome.sent_to is None:
        raise typer.Exit(1)


@app.command("profile")
def profile(
    org: str = typer.Option(..., help="Slug of the organisation"),
    sector: str | None = typer.Option(None, help="NACE Rev. 2 section letter, A to U (e.g. C: manufacturing)"),
    country: str | None = typer.Option(None, help="ISO 3166-1 alpha-2 code, e.g. FR"),
    as_json: bool = typer.Option(False, "--json", help="Print the profile as JSON"),
) -> None:
    """Show, or set with --sector/--country, an organisation's sector and country."""
    with unit_of_work(Settings()) as session:
        owner = orgs.get_by_slug(session, org)
        if sector is not None or country is not None:
            row = service.set_profile(session, owner, sector=sector, country=country)
            audit.record_cli(session, "profile.set", owner.slug, f"sector {row.sector}, country {row.country}")
        out = profile_out(owner.slug, service.profile(session, owner))
    if as_json:
        typer.echo(out.model_dump_json())
    else:
        console.print(f"{out.org}: sector {out.sector or '-'} ({out.sector_name or 'not set'}), "
                      f"country {out.country or '-'}", highlight=False)


@app.command("schema")
def schema() -> None:
    """Print the JSON Schema of the inventory document (the content of schemas/asset.json)."""
    typer.echo(json_schema_text(), nl=False)


def _asset(session: Session, asset_id: int) -> Asset:
    asset = session.get(Asset, asset_id)
    if asset is None:
        raise NotFound(f"no asset {asset_id}")
    return asset
