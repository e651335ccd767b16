"""``user add|list|role|disable`` and ``group create|list|add|remove``. Every change is audited."""

from __future__ import annotations

import json
import sys

import typer
from rich.table import Table

from exchange.cli.common import console, unit_of_work
from exchange.core.settings import Settings
from exchange.orgs import audit, service, users
from exchange.orgs.models import UserRole
from exchange.orgs.schemas import user_out
from exchange.sharing import groups

user_app = typer.Typer(help="People inside organisations; their role caps what their keys may do.",
                       no_args_is_help=True)
group_app = typer.Typer(help="Sharing groups: who TLP:AMBER objects in a group's collections reach.",
                        no_args_is_help=True)


@user_app.command("add")
def add_user(
    org: str = typer.Option(..., "--org", help="Organisation slug"),
    email: str = typer.Option(..., help="Login and contact address"),
    role: UserRole = typer.Option(UserRole.member, help="owner: everything; member: read and write; "
                                  "read-only: read"),
    name: str = typer.Option("", help="Display name"),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read a password for the web pages "
                                        "from standard input (at least 12 characters)"),
) -> None:
    """Add a user to an organisation."""
    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    with unit_of_work(Settings()) as session:
        user = users.create(session, service.get_by_slug(session, org), email=email, role=role, name=name,
                            password=password)
        audit.record_cli(session, "user.create", user.email, f"role {role.value} in {org}")
    console.print(f"user {user.email} ({role.value}) added to {org}")


@user_app.command("list")
def list_users(org: str = typer.Option(..., "--org", help="Organisation slug"),
               as_json: bool = typer.Option(False, "--json", help="Print a JSON array")) -> None:
    """List an organisation's users."""
    with unit_of_work(Settings()) as session:
        rows = [user_out(u) for u in users.of_org(session, service.get_by_slug(session, org))]
    if as_json:
        typer.echo(json.dumps([r.model_dump(mode="json") for r in rows]))
        return
    table = Table("email", "name", "role", "created", "disabled")
    for r in rows:
        table.add_row(r.email, r.name, r.role.value, r.created, r.disabled or "")
    console.print(table)


@user_app.command("role")
def set_role(org: str = typer.Option(..., "--org", help="Organisation slug"),
             email: str = typer.Argument(..., help="The user's e-mail"),
             role: UserRole = typer.Argument(..., help="owner, member or read-only")) -> None:
    """Change a user's role; their keys follow at once."""
    with unit_of_work(Settings()) as session:
        users.set_role(users.get(session, service.get_by_slug(session, org), email), role)
        audit.record_cli(session, "user.role", email, role.value)
    console.print(f"{email} is now {role.value}")


@user_app.command("disable")
def disable(org: str = typer.Option(..., "--org", help="Organisation slug"),
            email: str = typer.Argument(..., help="The user's e-mail")) -> None:
    """Disable a user and every key of theirs."""
    with unit_of_work(Settings()) as session:
        users.disable(users.get(session, service.get_by_slug(session, org), email))
        audit.record_cli(session, "user.disable", email)
    console.print(f"{email} disabled")


@group_app.command("create")
def create_group(
    owner: str = typer.Option(..., help="Slug of the csirt, isac or admin organisation that will manage the "
                              "membership"),
    name: str = typer.Option(..., help="e.g. 'Energy ISAC members'"),
    description: str = typer.Option("", help="What the group is for"),
    as_json: bool = typer.Option(False, "--json", help='Print {"id": ...} as JSON'),
) -> None:
    """Create a sharing group; its owner (a csirt, isac or admin organisation) is its first member."""
    with unit_of_work(Settings()) as session:
        owner_org = service.get_by_slug(session, owner)
        groups.require_coordinator(owner_org)
        group = groups.create(session, owner_org, name=name, description=description)
        audit.record_cli(session, "group.create", group.id, name)
        group_id = group.id
    if as_json:
        typer.echo(json.dumps({"id": group_id}))
    else:
        console.print(f"sharing group [bold]{name}[/bold]: {group_id}")


@group_app.command("list")
def list_groups(as_json: bool = typer.Option(False, "--json", help="Print a JSON array")) -> None:
    """List sharing groups and their members."""
    with unit_of_work(Settings()) as session:
        rows = [(g.id, g.name, [m.slug for m in groups.members(session, g)])
                for g in groups.visible_to(session, service.local_operator())]
    if as_json:
        typer.echo(json.dumps([{"id": i, "name": n, "members": m} for i, n, m in rows]))
        return
    table = Table("id", "name", "members")
    for group_id, name, members in rows:
        table.add_row(group_id, name, ", ".join(members))
    console.print(table)


@group_app.command("add")
def add_member(group_id: str = typer.Argument(..., help="Sharing group id"),
               org: str = typer.Argument(..., help="Slug of the organisation to add")) -> None:
    """Add an organisation to a sharing group (the operator acts as a hub admin: any group)."""
    with unit_of_work(Settings()) as session:
        groups.add_member(session, groups.get(session, group_id), service.get_by_slug(session, org))
        audit.record_cli(session, "group.add_member", group_id, org)
    console.print(f"{org} added to {group_id}")


@group_app.command("remove")
def remove_member(group_id: str = typer.Argument(..., help="Sharing group id"),
                  org: str = typer.Argument(..., help="Slug of the organisation to remove")) -> None:
    """Remove an organisation from a sharing group (not its owner); a non-member is an error (exit 1)."""
    with unit_of_work(Settings()) as session:
        groups.remove_member(session, groups.get(session, group_id), service.get_by_slug(session, org))
        audit.record_cli(session, "group.remove_member", group_id, org)
    console.print(f"{org} removed from {group_id}")


def register(app: typer.Typer) -> None:
    app.add_typer(user_app, name="user")
    app.add_typer(group_app, name="group")
