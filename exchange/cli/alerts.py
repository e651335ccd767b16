"""``alert list|answer|match``: alerts from the hub's command line (the operator: any organisation)."""

from __future__ import annotations

import json

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from exchange.alerts import matching, service
from exchange.alerts.models import Alert, AlertState
from exchange.alerts.schemas import alert_out
from exchange.cli.common import console, session_factory, show_figures, unit_of_work
from exchange.core import db
from exchange.core.db import transaction
from exchange.core.errors import NotFound
from exchange.core.settings import Settings
from exchange.orgs import audit
from exchange.orgs import service as orgs

app = typer.Typer(help="Alerts: what each organisation must hear about, and its answers.", no_args_is_help=True)


@app.command("list")
def list_alerts(
    org: str = typer.Option(..., help="Slug of the organisation"),
    state: AlertState | None = typer.Option(None, help="Only alerts in this state"),
    limit: int = typer.Option(100, min=1, max=10_000, help="At most this many, newest first"),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list"),
) -> None:
    """An organisation's alerts, newest first (withheld ones show only the asset to verify)."""
    with unit_of_work(Settings()) as session:
        owner = orgs.get_by_slug(session, org)
        page = service.page(session, owner, limit=limit, state=state)
        rows = [alert_out(session, a, page.assets) for a in page.alerts]
    if as_json:
        typer.echo(json.dumps([r.model_dump(mode="json") for r in rows]))
        return
    table = Table("id", "kind", "severity", "state", "asset", "matched", "object", title=f"alerts of {org}")
    for r in rows:
        table.add_row(str(r.id), r.kind.value, r.severity.value, r.state.value, r.asset or "-",
                      r.matched or "(verify the asset)", r.object_id or "-")
    console.print(table)


@app.command("answer")
def answer(
    alert_id: int = typer.Argument(..., help="The alert's id"),
    answer: AlertState = typer.Argument(..., help="acknowledged, fixed, false-positive, not-ours, accepted-risk, "
                                        "need-help"),
    named: bool = typer.Option(False, "--named", help="Let the producer see which organisation answered"),
) -> None:
    """Answer an alert for its organisation (recorded as a sighting for the producer, and audited)."""
    with unit_of_work(Settings()) as session:
        alert = session.get(Alert, alert_id)
        if alert is None:
            raise NotFound(f"no alert {alert_id}")
        service.answer(session, alert, answer, named=named)
        audit.record_cli(session, "alert.answer", str(alert_id), answer.value)
    console.print(f"alert {alert_id}: {answer.value}")


@app.command("match")
def match(
    batch: int = typer.Option(matching.BATCH, min=1, help="Object versions per transaction"),
    as_json: bool = typer.Option(False, "--json", help="Print the counts as JSON"),
) -> None:
    """Run the matching job now, until every stored object is matched (the worker does it every few seconds)."""
    sessions = session_factory(Settings())
    with transaction(sessions) as session:
        total_pending = matching.pending(session)
    total = matching.Outcome()
    with Progress(TextColumn("matching"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console,
                  transient=True) as bar:
        task = bar.add_task("match", total=total_pending)
        while True:
            with transaction(sessions) as session:
                outcome = matching.run(session, limit=batch)
            total.add(outcome)
            bar.advance(task, outcome.objects)
            if outcome.objects == 0:
                break
    figures = {"objects": total.objects, "created": total.created, "withheld": total.withheld,
               "escalated": total.escalated, "cleared": total.cleared}
    if as_json:
        typer.echo(json.dumps(figures))
    else:
        console.print(", ".join(f"{k} {v}" for k, v in figures.items()))


def bench(
    smes: int = typer.Option(10_000, help="SME organisations, 10 verified assets each"),
    n: int = typer.Option(100_000, "-n", help="Objects stored, every 100th concerning someone"),
    database_url: str | None = typer.Option(
        None, help="Server to measure; a throw-away schema is used on PostgreSQL [default: a temporary SQLite file]"),
    seed: int = typer.Option(1, help="Seed of the data generator"),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON"),
) -> None:
    """``exchange bench alerts``: matching rate on top of ingest, and the look-alike keys (issue 17)."""
    from exchange.bench import alerts as alerts_bench  # the benchmark's generator is not needed otherwise

    with db.scratch_database(database_url, "bench") as url:
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=console, transient=True) as bar:
            tasks: dict[str, TaskID] = {}

            def progress(phase: str, k: int, total: int) -> None:
                if phase not in tasks:
                    tasks[phase] = bar.add_task(phase, total=total)
                bar.advance(tasks[phase], k)

            report = alerts_bench.run(url, smes=smes, n=n, seed=seed, progress=progress)
    figures = {"database": report.database, "smes": report.smes, "assets": report.assets, "objects": report.objects,
               "alerts": report.alerts, "ingest_per_second": round(report.ingest_rate),
               "match_seconds": round(report.match_seconds, 2), "match_per_second": round(report.match_rate),
               "lookalike": f"{report.lookalike_published:,} vs {report.lookalike_registered:,}",
               "lookalike_found": report.lookalike_found, "lookalike_seconds": round(report.lookalike_seconds, 2)}
    show_figures(figures, "exchange bench alerts", as_json=as_json)
