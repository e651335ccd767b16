"""``exchange bench …``: performance measurements to report, not tests.

The comparison with other TAXII servers (medallion, OpenTAXII) is not here: it drives third-party
servers from a source checkout, so it is ``benchmarks/taxii_compare.py``, which reuses the progress
bars and the cell format below.
"""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from exchange.bench import feeds as feeds_bench
from exchange.bench import ingest as ingest_bench
from exchange.bench import taxii_run
from exchange.bench import wording as wording_bench
from exchange.bench.data import SHAPES
from exchange.bench.taxii import Budget, Phases
from exchange.bench.taxii_report import FIGURES, Figure, TaxiiReport
from exchange.cli import alerts as alerts_cli
from exchange.cli.common import console, show_figures
from exchange.core import db

app = typer.Typer(help="Benchmarks (numbers for issue notes and capacity planning).", no_args_is_help=True)
app.command("alerts")(alerts_cli.bench)


def _check_shape(shape: str) -> None:
    if shape != "mixed" and shape not in SHAPES:
        raise typer.BadParameter(f"--shape is mixed or one of {', '.join(SHAPES)}")


@app.command("ingest")
def ingest(
    n: int = typer.Option(100_000, "-n", help="Number of indicators"),
    database_url: str | None = typer.Option(
        None, help="Server to measure; a throw-away schema is used on PostgreSQL [default: a temporary SQLite file]"
    ),
    batch_size: int = typer.Option(5000, help="Objects per bundle (one transaction each)"),
    seed: int = typer.Option(1, help="Seed of the data generator"),
    shape: str = typer.Option("mixed", help="Patterns of the generated indicators: mixed (60% single comparisons,"
                              " 25% AND, 10% OR lists, 5% qualified), one shape of the mix (single, and, or,"
                              " qualified), or simple (plain single '=' comparisons, the mode before issue 16)"),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON"),
) -> None:
    """Ingest N generated indicators end to end; report objects/s, peak RSS and database size."""
    _check_shape(shape)
    with db.scratch_database(database_url, "bench") as url:
        with Progress(TextColumn("ingest"), BarColumn(), MofNCompleteColumn(), console=console,
                      transient=True) as bar:
            task = bar.add_task("ingest", total=n)
            report = ingest_bench.run(url, n, seed=seed, batch_size=batch_size, shape=shape,
                                      progress=lambda k: bar.advance(task, k))
    figures = {"database": report.database, "objects": report.objects, "added": report.added,
               "seconds": round(report.seconds, 2), "objects_per_second": round(report.rate),
               "peak_rss_mb": round(report.peak_rss_mb, 1), "worker_peak_rss_mb": round(report.worker_peak_rss_mb, 1),
               "db_size_mb": round(report.db_size_mb, 1)}
    if as_json:
        typer.echo(json.dumps(figures))
        return
    table = Table(*figures.keys(), title="exchange bench ingest")
    table.add_row(*(str(v) for v in figures.values()))
    console.print(table)


def cell(v: Any) -> str:
    """A figure as a table cell: thousands separated, two decimals below 100, '-' for no figure."""
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:,.2f}" if v < 100 else f"{v:,.0f}"
    return f"{v:,}" if isinstance(v, int) else str(v)


def target_cell(fig: Figure, v: Any) -> str:
    """The hub's figure with ✓ or ✗ against the issue's target, where the figure has one."""
    return cell(v) + ("" if fig.meets is None or v is None else (" ✓" if fig.meets(v) else " ✗"))


def summary(report: TaxiiReport) -> str:
    """What the walk and the POSTs saw: the correctness behind the figures."""
    listing = report.listing
    return (f"listing saw {listing.unique:,} distinct objects, {listing.duplicates} duplicates"
            + (f", {listing.missing} missing" if listing.complete else " (stopped at the time cap)")
            + f"; POST {report.post.succeeded:,} ok / {report.post.failed:,} failed")


@contextmanager
def taxii_progress() -> Iterator[Phases]:
    """One progress bar per long phase (load, listing, POST); gone once the block ends."""
    # A long run stopped with SIGTERM still stops its servers and drops its scratch databases.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as bar:

        def phases(description: str, total: int | None) -> Callable[[int], None]:
            task = bar.add_task(description, total=total)
            return lambda k: bar.advance(task, k)

        yield phases


@app.command("taxii")
def taxii(
    n: int = typer.Option(1_000_000, "-n", help="Indicators in the hub's collection"),
    database_url: str | None = typer.Option(
        None, help="Database for the hub; a throw-away schema is used on PostgreSQL [default: a temporary SQLite file]"
    ),
    samples: int = typer.Option(50, help="Latency samples per figure"),
    envelopes: int = typer.Option(20, help="1,000-object envelopes to POST"),
    seed: int = typer.Option(1, help="Seed of the data generator"),
    shape: str = typer.Option("mixed", help="Patterns of the generated indicators: mixed (60% single comparisons,"
                              " 25% AND, 10% OR lists, 5% qualified), one shape of the mix (single, and, or,"
                              " qualified), or simple (plain single '=' comparisons, the mode before issue 16)"),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON"),
) -> None:
    """Measure the hub's TAXII 2.1 reads and writes as a client sees them.

    Figures: GET objects first page (limit 100) p50/p95; a deep page continuing from a `next` cursor taken
    mid-collection p50/p95; a full listing through `next` at limit 1000 (objects/s, every object counted
    exactly once); POST of 1,000-object envelopes (objects/s, until the status says complete); the server
    process's peak RSS (VmHWM). The hub is loaded by bulk ingest first and served by `exchange serve` in
    its own process. Side by side with medallion and OpenTAXII: benchmarks/taxii_compare.py.
    """
    _check_shape(shape)
    with taxii_progress() as phases:
        report = taxii_run.run_exchange(n, database_url, seed=seed, budget=Budget(samples=samples,
                                        envelopes=envelopes), phases=phases, shape=shape)
    figures = report.figures()
    if as_json:
        typer.echo(json.dumps(figures))
        return
    table = Table("figure", "target", f"Exchange ({n:,})", title="exchange bench taxii")
    for fig in FIGURES:
        table.add_row(fig.label, fig.goal, target_cell(fig, figures.get(fig.key)))
    console.print(table)
    console.print(summary(report))
    for note in figures["notes"]:
        console.print(f"  - {note}")


@app.command("wording")
def wording(
    n: int = typer.Option(5000, "-n", help="Messages to render per language"),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON"),
) -> None:
    """Render N alert messages (every kind, an all-clear, a TLP:RED alert; subject, text and HTML) and one
    50-alert digest in each language; report messages/s and milliseconds per message and per digest."""
    rows = [{"language": r.language, "messages": r.messages, "messages_per_second": round(r.rate),
             "ms_per_message": round(1000 / r.rate, 2), "digest_ms": round(r.digest_ms, 1)}
            for r in wording_bench.run(n)]
    if as_json:
        typer.echo(json.dumps(rows))
        return
    table = Table(*rows[0].keys(), title="exchange bench wording")
    for row in rows:
        table.add_row(*(str(v) for v in row.values()))
    console.print(table)


@app.command("delivery")
def delivery(
    alerts: int = typer.Option(1000, "--alerts", help="Indicators POSTed over TAXII, one alert each (0: skip)"),
    mails: int = typer.Option(10_000, "--mails", help="E-mails sent by one worker, then again by two (0: skip)"),
    smes: int = typer.Option(100, "--smes", help="SME organisations the alerts are spread over"),
    database_url: str | None = typer.Option(
        None, help="Server to measure; a throw-away schema is used on PostgreSQL [default: a temporary SQLite file]"),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON"),
) -> None:
    """Issue 18's figures: TAXII POST accepted to signed webhook received (p50, p99) with one worker; e-mails
    per second to a local SMTP server with one worker, and with two (and how many arrived twice)."""
    from exchange.bench import delivery as delivery_bench  # starts servers; not needed by other commands

    lat = one = two = None
    if alerts:
        with db.scratch_database(database_url, "bench") as url:
            lat = delivery_bench.latency(url, alerts=alerts, smes=smes)
    if mails:
        with db.scratch_database(database_url, "bench") as url:
            one, two = delivery_bench.mail_rates(url, mails=mails, smes=smes)
    show_figures(delivery_bench.summary(lat, one, two), "exchange bench delivery", as_json=as_json)


@app.command("feeds")
def feeds(
    rows: int = typer.Option(1_000_000, "--rows", help="Rows of the CSV blocklist (0: skip)"),
    taxii_objects: int = typer.Option(200_000, "--taxii", help="Indicators pulled over TAXII from a second hub "
                                      "(0: skip)"),
    database_url: str | None = typer.Option(
        None, help="Server to measure; throw-away schemas are used on PostgreSQL [default: temporary SQLite files]"
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON"),
) -> None:
    """Connectors against `exchange import`: a CSV blocklist of N rows and a TAXII 2.1 pull from a second
    hub, each run by `exchange feed run` in its own process, then `exchange import` of the same objects;
    objects/s and each process's own peak RSS."""
    results: list[feeds_bench.Measured] = []
    with console.status("measuring (each step is a process of its own)"):
        if rows:
            results += feeds_bench.csv_feed(rows, database_url)
        if taxii_objects:
            results += feeds_bench.taxii_feed(taxii_objects, database_url)
    figures = [m.as_dict() for m in results]
    if as_json:
        typer.echo(json.dumps(figures))
        return
    table = Table("what", "objects", "seconds", "objects/s", "peak RSS MB", title="exchange bench feeds")
    for f in figures:
        table.add_row(f["what"], cell(f["objects"]), cell(f["seconds"]), cell(f["objects_per_second"]),
                      cell(f["peak_rss_mb"]))
    console.print(table)
