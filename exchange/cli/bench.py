"""``exchange bench …``: performance measurements to report, not tests."""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import Callable
from typing import Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from exchange import db
from exchange.bench import ingest as ingest_bench
from exchange.bench import taxii_peers, taxii_run
from exchange.bench.taxii import Budget
from exchange.bench.taxii_report import FIGURES, Outcome, TaxiiReport, ratio, ratios, value
from exchange.cli.common import console

app = typer.Typer(help="Benchmarks (numbers for issue notes and capacity planning).", no_args_is_help=True)


@app.command("ingest")
def ingest(
    n: int = typer.Option(100_000, "-n", help="Number of indicators"),
    database_url: str | None = typer.Option(
        None, help="Server to measure; a throw-away schema is used on PostgreSQL [default: a temporary SQLite file]"
    ),
    batch_size: int = typer.Option(5000, help="Objects per bundle (one transaction each)"),
    seed: int = typer.Option(1, help="Seed of the data generator"),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON"),
) -> None:
    """Ingest N generated indicators end to end; report objects/s, peak RSS and database size."""
    with db.scratch_database(database_url, "bench") as url:
        with Progress(TextColumn("ingest"), BarColumn(), MofNCompleteColumn(), console=console,
                      transient=True) as bar:
            task = bar.add_task("ingest", total=n)
            report = ingest_bench.run(url, n, seed=seed, batch_size=batch_size,
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


def _run(what: str, job: Callable[[], TaxiiReport]) -> Outcome:
    """One server's run; a failure becomes the reason in the table instead of ending the benchmark."""
    try:
        return job()
    except Exception as exc:  # any failure of one server is reported; the others still run
        console.print(f"[red]{what} failed:[/red] {exc}")
        return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"


def _cell(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:,.2f}" if v < 100 else f"{v:,.0f}"
    return f"{v:,}" if isinstance(v, int) else str(v)


def _ratio_cell(r: float | None) -> str:
    """Exchange / peer, readable at any scale: 1/3,070 rather than 0.000326, 1,430 rather than 1.43e+03."""
    if r is None:
        return "-"
    if r >= 100:
        return f"{r:,.0f}×"
    if r >= 0.1:
        return f"{r:.3g}×"
    return f"1/{1 / r:,.0f}" if r > 0 else "0"


@app.command("taxii")
def taxii(
    n: int = typer.Option(1_000_000, "-n", help="Indicators in Exchange's collection"),
    database_url: str | None = typer.Option(
        None, help="Database for Exchange; a throw-away schema is used on PostgreSQL [default: a temporary SQLite file]"
    ),
    peers: bool = typer.Option(True, "--peers/--no-peers", help="Also measure medallion and OpenTAXII (harness in "
                               "benchmarks/taxii_peers/; first use builds their venvs from PyPI)"),
    medallion_n: int = typer.Option(2_000, help="Objects for medallion: its memory backend is quadratic per GET "
                                    "(20-40 s a page at 2,000 here), so keep it small"),
    opentaxii_n: int = typer.Option(50_000, help="Objects for OpenTAXII: each of its pages scans the whole "
                                    "collection (~75 s a page at 1,000,000), so a full listing is quadratic"),
    matched: bool = typer.Option(True, "--matched/--no-matched", help="Also run Exchange at each peer's size, so "
                                 "the ratios compare equal collections"),
    samples: int = typer.Option(50, help="Latency samples per figure (fewer on a slow server: at least 3, about "
                                "a minute)"),
    envelopes: int = typer.Option(20, help="1,000-object envelopes to POST"),
    seed: int = typer.Option(1, help="Seed of the data generator"),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON"),
) -> None:
    """Measure TAXII 2.1 reads and writes as a client sees them, on Exchange and (--peers) medallion and
    OpenTAXII, side by side with ratios (Exchange / peer).

    Figures: GET objects first page (limit 100) p50/p95; a deep page continuing from a `next` cursor taken
    mid-collection p50/p95; a full listing through `next` at limit 1000 (objects/s, every object counted
    exactly once); POST of 1,000-object envelopes (objects/s, until the status says complete); the server
    process's peak RSS (VmHWM). Each server is loaded its fastest way first (Exchange: bulk ingest;
    medallion: a data file; OpenTAXII: its SQL tables filled directly), and served in its own process.
    """
    # A long run stopped with SIGTERM still stops its servers and drops its scratch databases.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    budget = Budget(samples=samples, envelopes=envelopes)
    results: dict[str, Outcome] = {}
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as bar:

        def phases(description: str, total: int | None) -> Callable[[int], None]:
            task = bar.add_task(description, total=total)
            return lambda k: bar.advance(task, k)

        def exchange_at(size: int) -> Outcome:
            return _run(f"Exchange ({size:,})", lambda: taxii_run.run_exchange(
                size, database_url, seed=seed, budget=budget, phases=phases))

        results["exchange"] = exchange_at(n)
        if peers:
            results["medallion"] = _run("medallion", lambda: taxii_peers.run_medallion(
                medallion_n, seed=seed, budget=budget, phases=phases))
            if matched and medallion_n != n:
                results["exchange@medallion"] = exchange_at(medallion_n)
            results["opentaxii"] = _run("OpenTAXII", lambda: taxii_peers.run_opentaxii(
                opentaxii_n, seed=seed, budget=budget, phases=phases))
            if matched and opentaxii_n != n:
                results["exchange@opentaxii"] = exchange_at(opentaxii_n)
    _print_taxii(results, n, as_json=as_json)


def _print_taxii(results: dict[str, Outcome], n: int, *, as_json: bool) -> None:
    def dump(outcome: Outcome) -> dict[str, Any]:
        return outcome.figures() if isinstance(outcome, TaxiiReport) else {"error": outcome}

    main = results["exchange"]
    peer_keys: list[str] = [k for k in ("medallion", "opentaxii") if k in results]
    if as_json:
        out: dict[str, Any] = {"exchange": dump(main), "peers": {}}
        for key in peer_keys:
            same = results.get(f"exchange@{key}", main)
            out["peers"][key] = {"report": dump(results[key]), "exchange_same_size": dump(same),
                                 "ratios_exchange_over_peer": ratios(same, results[key])}
        typer.echo(json.dumps(out))
        return
    title = "exchange bench taxii"
    if peer_keys:
        title += ("  (×: Exchange / peer at the peer's size; below 1 is better for times and memory, "
                  "above 1 for rates)")
    table = Table(title=title)
    table.add_column("figure")
    table.add_column("target")
    table.add_column(f"Exchange ({n:,})", justify="right")
    for key in peer_keys:
        size = value(results[key], "objects")
        label = "medallion" if key == "medallion" else "OpenTAXII"
        sized = f" ({size:,})" if size else ""
        table.add_column(f"{label}{sized}", justify="right")
        if f"exchange@{key}" in results:
            table.add_column(f"Exchange{sized}", justify="right")
        table.add_column("×", justify="right")
    for fig in FIGURES:
        mine = value(main, fig.key)
        mark = "" if fig.meets is None or mine is None else (" ✓" if fig.meets(mine) else " ✗")
        row = [fig.label, fig.goal, _cell(mine) + mark]
        for key in peer_keys:
            matched = results.get(f"exchange@{key}")
            row.append(_cell(value(results[key], fig.key)))
            if matched is not None:
                row.append(_cell(value(matched, fig.key)))
            compared = fig.meets is not None  # sizes and load times are context, not figures to compare
            row.append(_ratio_cell(ratio(matched or main, results[key], fig.key)) if compared else "")
        table.add_row(*row)
    console.print(table)
    for key, outcome in results.items():
        if isinstance(outcome, str):
            console.print(f"[red]{key}:[/red] {outcome}")
            continue
        listing = outcome.listing
        check = (f"listing saw {listing.unique:,} distinct objects, {listing.duplicates} duplicates"
                 + (f", {listing.missing} missing" if listing.complete else " (stopped at the time cap)"))
        posted = f"POST {outcome.post.succeeded:,} ok / {outcome.post.failed:,} failed"
        console.print(f"[bold]{key}[/bold]: {check}; {posted}")
        for note in outcome.figures()["notes"]:
            console.print(f"  - {note}")
