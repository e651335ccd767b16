"""``exchange bench …``: performance measurements to report, not tests."""

from __future__ import annotations

import json

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from exchange.bench import ingest as ingest_bench
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
    with ingest_bench.scratch_database(database_url) as url:
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
