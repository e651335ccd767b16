"""``feed add|list|show|remove|run``: the hub's feeds from its command line (the operator manages
them; the API's routes are for admin organisations)."""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from exchange.cli.common import console, session_factory, unit_of_work
from exchange.core.errors import ExchangeError
from exchange.core.settings import Settings
from exchange.feeds import service
from exchange.feeds.schemas import feed_out, run_out
from exchange.orgs import audit
from exchange.stix import tlp

app = typer.Typer(help="Feeds the hub keeps in sync with: TAXII 2.1 collections, CSV/text blocklists, "
                  "vulnerability catalogues. `exchange worker` runs them on their schedule.", no_args_is_help=True)


def _options(pairs: list[str]) -> dict[str, Any]:
    """``KEY=VALUE`` pairs; a VALUE that is JSON (a number, true, a list) is read as JSON."""
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            console.print(f"[red]error:[/red] --option {pair!r}: write KEY=VALUE")
            raise typer.Exit(2)
        try:
            options[key] = json.loads(value)
        except json.JSONDecodeError:
            options[key] = value
    return options


def _schedule(every_seconds: int, cron: str | None) -> str:
    return f"cron {cron} (UTC)" if cron else f"every {every_seconds} s"


@app.command("add")
def add(
    name: str = typer.Option(..., "--name", help="A short name: lower-case letters, digits, '.', '_', '-'"),
    kind: str = typer.Option(..., "--kind", help="taxii, csv, kev, misp, csaf or shadowserver; "
                            "taxii-push sends the collection to a remote TAXII server"),
    url: str = typer.Option(..., "--url", help="Where the feed is: a TAXII collection or discovery URL, a list, a "
                            "catalogue"),
    username: str | None = typer.Option(None, "--username", help="User name (HTTP Basic); without it the "
                                        "password is sent as a Bearer token"),
    password_env: str | None = typer.Option(None, "--password-env", help="Environment variable holding the "
                                            "password or token when the feed runs (the secret is never stored)"),
    owner: str | None = typer.Option(None, "--owner", help="Slug of the relaying csirt or isac organisation; "
                                     "default: the hub itself"),
    collection: str | None = typer.Option(None, "--collection", help="Target collection id (default: the default "
                                          "collection)"),
    tlp_level: str | None = typer.Option(None, "--tlp", help="TLP for objects the source leaves unmarked"),
    confidence: int | None = typer.Option(None, "--confidence", min=0, max=100, help="Confidence for SDOs "
                                          "without one"),
    every: str = typer.Option("1h", "--every", help="Interval between scheduled runs: 90s, 30m, 1h, 1d"),
    cron: str | None = typer.Option(None, "--cron", help="A crontab schedule in UTC instead of --every, e.g. "
                                    "'0 6 * * *' (every day at 06:00)"),
    option: list[str] = typer.Option([], "--option", help="A connector setting KEY=VALUE (repeatable), e.g. "
                                     "collection=ID, types=indicator, column=2, delimiter=';', snapshot=false"),
    as_json: bool = typer.Option(False, "--json", help="Print the feed as JSON"),
) -> None:
    """Add a feed. Its first scheduled run is at the worker's next tick."""
    with unit_of_work(Settings()) as session:
        try:
            level = tlp.parse(tlp_level) if tlp_level else None
        except ValueError:
            raise ExchangeError(f"--tlp: {tlp_level!r} is not a TLP level") from None
        spec = service.spec(session, name=name, kind=kind, url=url, owner=owner, collection=collection,
                            username=username, password_env=password_env, tlp_level=level, confidence=confidence,
                            every=every, options=_options(option), cron=cron)
        feed = service.create(session, spec)
        audit.record_cli(session, "feed.add", feed.name, f"{feed.kind} {feed.url}")
        out = feed_out(feed, *service.names_of(session, feed))
    if as_json:
        typer.echo(out.model_dump_json())
    else:
        console.print(f"feed [bold]{out.name}[/bold] ({out.kind}) into collection {out.collection}, "
                      f"{_schedule(out.every_seconds, out.cron)}", highlight=False, soft_wrap=True)


@app.command("list")
def list_feeds(as_json: bool = typer.Option(False, "--json", help="Print the feeds as JSON")) -> None:
    """Every feed, with its latest run."""
    with unit_of_work(Settings()) as session:
        feeds = [(feed_out(f, *service.names_of(session, f)), service.runs(session, f, limit=1))
                 for f in service.get_all(session)]
        latest = [run_out(r[0]) if r else None for _, r in feeds]
    if as_json:
        typer.echo(json.dumps([f.model_dump() for f, _ in feeds]))
        return
    table = Table(title="feeds")
    for column in ("name", "kind", "url", "schedule", "last run", "result"):
        table.add_column(column)
    for (f, _), run in zip(feeds, latest, strict=True):
        result = "-" if run is None else (f"error: {run.error}" if run.error else f"{run.added} added")
        table.add_row(f.name, f.kind, f.url, _schedule(f.every_seconds, f.cron), (f.last_run or "-")[:19], result)
    console.print(table)


@app.command("show")
def show(name: str = typer.Argument(..., help="The feed's name"),
         as_json: bool = typer.Option(False, "--json", help="Print the feed and its runs as JSON")) -> None:
    """A feed's settings, bookmark and latest runs."""
    with unit_of_work(Settings()) as session:
        feed = service.get(session, name)
        out = feed_out(feed, *service.names_of(session, feed))
        runs = [run_out(r) for r in service.runs(session, feed)]
    if as_json:
        typer.echo(json.dumps({"feed": out.model_dump(), "runs": [r.model_dump() for r in runs]}))
        return
    console.print(out.model_dump_json(indent=2), highlight=False, soft_wrap=True)
    table = Table(title="runs")
    for column in ("id", "started", "fetched", "added", "duplicates", "rejected", "error"):
        table.add_column(column)
    for r in runs:
        table.add_row(str(r.id), r.started[:19], str(r.fetched), str(r.added), str(r.duplicates), str(r.rejected),
                      r.error or "")
    console.print(table)


@app.command("remove")
def remove(name: str = typer.Argument(..., help="The feed's name")) -> None:
    """Remove a feed and its run history; what it stored stays."""
    with unit_of_work(Settings()) as session:
        service.delete(session, service.get(session, name))
        audit.record_cli(session, "feed.remove", name)
    console.print(f"feed {name} removed", highlight=False)


@app.command("run")
def run(name: str = typer.Argument(..., help="The feed's name"),
        as_json: bool = typer.Option(False, "--json", help='Print {"fetched", "added", "duplicates", "rejected"}')
        ) -> None:
    """Run a feed once, now, in the foreground. Exit status 1 when the run failed (its error is printed
    and kept in the run history); what it stored before the failure stays."""
    sessions = session_factory(Settings())
    with unit_of_work(Settings()) as session:
        service.get(session, name)  # a missing feed is an error, not a run
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console,
                  transient=True, disable=as_json) as progress:
        task = progress.add_task(f"feed {name}: starting")

        def advance(counts: service.RunCounts) -> None:
            progress.update(task, description=f"feed {name}: {counts.fetched} fetched, {counts.added} added")

        counts = service.run(sessions, name, on_page=advance)
    summary = {k: v for k, v in counts.as_dict().items() if k != "run" and (k != "error" or v)}
    if as_json:
        typer.echo(json.dumps(summary))
    else:
        console.print(f"feed {name}: {counts.fetched} fetched, {counts.added} added, {counts.duplicates} "
                      f"duplicates, {counts.rejected} rejected", highlight=False)
    if counts.error:
        console.print(f"[red]error:[/red] {counts.error}", highlight=False, soft_wrap=True)
        raise typer.Exit(1)
