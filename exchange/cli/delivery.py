"""``subscription add|list|remove|rotate-secret|clear-bounce`` and ``delivery list|replay|schema|bounce|unreachable``:
alert delivery from the hub's command line. The command line is the hub operator: it acts on any organisation,
audited."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table
from sqlalchemy.exc import OperationalError

from exchange.alerts.delivery import bounces, events, outbox, service
from exchange.alerts.delivery.models import Category, Channel, DeliveryStatus, Digest, Subscription
from exchange.alerts.delivery.schemas import (
    DeliveryOut,
    SubscriptionOut,
    delivery_out,
    subscription_out,
    unreachable_out,
)
from exchange.alerts.models import Severity
from exchange.cli.common import console, database_failure, unit_of_work
from exchange.core.errors import BadRequest, NotFound
from exchange.core.settings import Settings
from exchange.orgs import audit
from exchange.orgs import service as orgs

subscriptions = typer.Typer(help="Who hears about an organisation's alerts: e-mail addresses and signed webhooks.",
                            no_args_is_help=True)
deliveries = typer.Typer(help="Messages sent, waiting or dead-lettered; replay; the webhook event schemas.",
                         no_args_is_help=True)


@subscriptions.command("add")
def add(
    org: str = typer.Option(..., help="Slug of the organisation"),
    email: str | None = typer.Option(None, help="An e-mail address"),
    webhook: str | None = typer.Option(None, help="An https URL that receives CloudEvents, signed"),
    secret: str | None = typer.Option(None, help="The webhook's signing secret, whsec_ + base64 (Standard Webhooks)"),
    language: str = typer.Option("en", help="en, fr, de, it or ja"),
    digest: Digest = typer.Option(Digest.none, help="none (each alert at once), daily or weekly (e-mail only)"),
    min_severity: Severity = typer.Option(Severity.low, help="Alerts below this severity are not sent"),
    timezone: str = typer.Option("UTC", help="IANA time zone of --digest-hour, e.g. Europe/Paris"),
    digest_hour: int = typer.Option(8, min=0, max=23, help="Local hour digests go out"),
    without: list[Category] = typer.Option([], "--without", help="Switch a category off (repeatable)"),
    as_json: bool = typer.Option(False, "--json", help="Print the subscription as JSON"),
) -> None:
    """Subscribe an e-mail address, or a webhook with its secret, to an organisation's alerts."""
    if (email is None) == (webhook is None):
        console.print("[red]error:[/red] give exactly one of --email or --webhook")
        raise typer.Exit(2)
    settings = Settings()
    with unit_of_work(settings) as session:
        owner = orgs.get_by_slug(session, org)
        sub = service.create(session, owner, channel=Channel.email if email else Channel.webhook,
                             address=email or webhook or "", settings=settings, secret=secret, language=language,
                             min_severity=min_severity, digest=digest, timezone=timezone, digest_hour=digest_hour,
                             categories=set(Category) - set(without))
        audit.record_cli(session, "subscription.add", f"{owner.slug}/{sub.channel}/{sub.address}")
        out = subscription_out(sub, owner.slug)
    if as_json:
        typer.echo(out.model_dump_json())
    else:
        console.print(f"subscription {out.id}: {out.channel.value} {out.address} for {owner.slug}", highlight=False)


@subscriptions.command("list")
def list_subscriptions(
    org: str = typer.Option(..., help="Slug of the organisation"),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list"),
) -> None:
    """An organisation's subscriptions, and which are disabled and why."""
    with unit_of_work(Settings()) as session:
        owner = orgs.get_by_slug(session, org)
        rows = [subscription_out(s, owner.slug) for s in service.get_all(session, owner)]
    if as_json:
        typer.echo(json.dumps([r.model_dump(mode="json") for r in rows]))
        return
    _table(f"subscriptions of {org}", rows, ("id", "channel", "address", "language", "digest", "min_severity",
                                             "disabled"))


@subscriptions.command("remove")
def remove(sub_id: int = typer.Argument(..., help="Subscription id"),
           org: str = typer.Option(..., help="Slug of the organisation")) -> None:
    """Remove a subscription; what it had not yet received is not sent."""
    with unit_of_work(Settings()) as session:
        owner = orgs.get_by_slug(session, org)
        sub = service.get(session, owner, sub_id)
        audit.record_cli(session, "subscription.remove", f"{owner.slug}/{sub.channel}/{sub.address}")
        service.delete(session, sub)
    console.print(f"removed subscription {sub_id}", highlight=False)


@subscriptions.command("rotate-secret")
def rotate_secret(sub_id: int = typer.Argument(..., help="Subscription id of a webhook"),
                  org: str = typer.Option(..., help="Slug of the organisation"),
                  secret: str | None = typer.Option(None, help="The new secret (default: made here, printed)")) -> None:
    """Add a new signing secret; messages carry a signature for each until the old ones expire a day later."""
    with unit_of_work(Settings()) as session:
        owner = orgs.get_by_slug(session, org)
        new = service.rotate_secret(session, service.get(session, owner, sub_id), secret)
        audit.record_cli(session, "subscription.rotate-secret", f"{owner.slug}/{sub_id}")
    typer.echo(new)


@deliveries.command("list")
def list_deliveries(
    org: str = typer.Option(..., help="Slug of the organisation"),
    status: DeliveryStatus | None = typer.Option(None, help="Only these (dead: the dead letters)"),
    limit: int = typer.Option(100, min=1, max=10_000, help="Newest first, at most this many"),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list"),
) -> None:
    """An organisation's messages, newest first, with their attempts and last error."""
    with unit_of_work(Settings()) as session:
        owner = orgs.get_by_slug(session, org)
        rows = [delivery_out(d) for d in outbox.listing(session, owner.pk, status=status, before=None, limit=limit)]
    if as_json:
        typer.echo(json.dumps([r.model_dump(mode="json") for r in rows]))
        return
    _table(f"deliveries of {org}", rows, ("id", "subscription", "alert", "status", "attempts", "sent_at",
                                          "last_error"))


@deliveries.command("replay")
def replay(
    ids: list[int] = typer.Argument(None, help="Delivery ids (see `exchange delivery list --status dead`)"),
    org: str = typer.Option(..., help="Slug of the organisation"),
    dead: bool = typer.Option(False, "--dead", help="Every dead letter of the organisation"),
) -> None:
    """Send dead or cancelled messages again, under the same id (receivers drop what they already have)."""
    with unit_of_work(Settings()) as session:
        owner = orgs.get_by_slug(session, org)
        chosen = (outbox.listing(session, owner.pk, status=DeliveryStatus.dead, before=None, limit=1_000_000)
                  if dead else [outbox.get(session, owner.pk, pk) for pk in ids or []])
        count = outbox.replay(session, chosen)
        audit.record_cli(session, "delivery.replay", owner.slug, f"{count} messages")
    console.print(f"{count} messages queued again", highlight=False)


@deliveries.command("schema")
def schema(write: Path | None = typer.Option(None, help="Write every file into this folder (schemas/events)")) -> None:
    """The JSON Schemas of the webhook event types (the content of schemas/events/)."""
    for name, text in events.json_schemas().items():
        if write is None:
            typer.echo(text, nl=False)
        else:
            write.mkdir(parents=True, exist_ok=True)
            (write / name).write_text(text)


EX_TEMPFAIL = 75  # sysexits.h: an MTA pipe keeps the message and tries again later


@deliveries.command("bounce")
def bounce(to: str | None = typer.Option(None, "--to", help="The envelope recipient, bounces+<id>@… (Postfix: "
                                         "${recipient}); default: read from the report's headers")) -> None:
    """Read a bounce (a delivery status notification, RFC 3464) from stdin, for an MTA pipe: a permanent
    failure (5.x.x) marks the address bounced and sends its alerts to the organisation's other contacts."""
    raw = typer.get_binary_stream("stdin").read()
    settings = Settings()
    try:
        report = bounces.parse(raw, to=to)
        with unit_of_work(settings) as session:
            done = bounces.receive(session, report, settings)
            address, fallbacks = done.subscription.address, [f.address for f in done.fallbacks]
    except OperationalError as exc:  # the database is away: the MTA keeps the report and tries again
        console.print(f"[red]error:[/red] {database_failure(exc, settings.database_url)}; the bounce is not "
                      "recorded", highlight=False, soft_wrap=True)
        raise typer.Exit(EX_TEMPFAIL) from None
    except (BadRequest, NotFound) as exc:
        console.print(f"[red]error:[/red] {exc.description}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    if not done.permanent:
        console.print(f"delivery {report.delivery_pk} to {address}: a temporary failure, nothing to do",
                      highlight=False, soft_wrap=True)
        return
    console.print(f"delivery {report.delivery_pk}: {address} bounced; {done.alerts} alerts queued to "
                  f"{', '.join(fallbacks) or 'nobody (no other contact)'}", highlight=False, soft_wrap=True)


@deliveries.command("unreachable")
def unreachable(as_json: bool = typer.Option(False, "--json", help="Print a JSON list")) -> None:
    """Organisations with addresses that no longer work, those no alert reaches at all first."""
    with unit_of_work(Settings()) as session:
        rows = [unreachable_out(u.org, u.reachable, u.disabled) for u in bounces.unreachable(session)]
    if as_json:
        typer.echo(json.dumps([r.model_dump(mode="json") for r in rows]))
        return
    table = Table(title="organisations with addresses that no longer work")
    for column in ("org", "reachable", "subscription", "address", "reason"):
        table.add_column(column)
    for row in rows:
        for lost in row.lost:
            table.add_row(row.org, "yes" if row.reachable else "NO", str(lost.subscription), lost.address,
                          lost.reason or "-")
    console.print(table)


@subscriptions.command("clear-bounce")
def clear_bounce(sub_id: int = typer.Argument(..., help="Subscription id (see `exchange delivery unreachable`)")
                 ) -> None:
    """Switch a bounced address back on once it works again."""
    with unit_of_work(Settings()) as session:
        sub = session.get(Subscription, sub_id)
        if sub is None:
            raise NotFound(f"no subscription {sub_id}")
        bounces.clear(session, sub)
        audit.record_cli(session, "subscription.clear-bounce", f"{sub_id}/{sub.address}")
    console.print(f"subscription {sub_id} ({sub.address}) receives alerts again", highlight=False)


def _table(title: str, rows: list[SubscriptionOut] | list[DeliveryOut], columns: tuple[str, ...]) -> None:
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        values = row.model_dump(mode="json")
        table.add_row(*("-" if values[c] is None else str(values[c]) for c in columns))
    console.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(subscriptions, name="subscription")
    app.add_typer(deliveries, name="delivery")
