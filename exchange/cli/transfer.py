"""``import`` and ``export``: files in and out of the store, through the one ingest path."""

from __future__ import annotations

import sys
from bisect import bisect_right
from pathlib import Path
from typing import NoReturn

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from exchange.cli.common import console, session_factory, unit_of_work
from exchange.cli.sources import MissingSourceError, Reader, open_sources
from exchange.core.errors import ExchangeError
from exchange.core.settings import Settings
from exchange.core.timestamps import to_micros
from exchange.orgs import service as orgs
from exchange.store import export as exports
from exchange.store.bulk import batched, ingest_stream

KINDS = exports.KINDS
_LISTED = 20  # rejected objects named one by one; beyond that, counts by reason


def _place(starts: list[tuple[int, str]], position: int) -> str:
    """'file, object N' (1-based within its file) for a position in the whole stream."""
    first, origin = starts[bisect_right(starts, position, key=lambda s: s[0]) - 1]
    return f"{origin}, object {position - first + 1}"


def import_(
    source: str = typer.Argument(..., metavar="FILE|DIR|-", help="Bundle JSON, JSON lines, a directory, or '-'"),
    collection: str | None = typer.Option(None, help="Collection id [default: the default collection]"),
    org: str | None = typer.Option(None, help="Slug of the publishing organisation (owner of the objects)"),
    batch_size: int | None = typer.Option(None, help="Objects per transaction [default: EXCHANGE_INGEST_BATCH_SIZE]"),
) -> None:
    """Validate and store STIX objects; print what was added, duplicated and rejected, naming each
    rejected object by file, position and id.

    Exit status: 0 every object stored (or already there); 1 nothing stored (unreadable input, every
    object rejected, unknown collection or organisation); 2 bad usage (e.g. no such file); 3 some
    objects stored and some rejected.
    """
    settings = Settings()
    try:
        sources, size = open_sources(source)
    except MissingSourceError:
        _usage(f"{source} is neither a file, a directory nor '-'")
    read = Reader()
    columns = (TextColumn("importing"), BarColumn(), DownloadColumn(), TextColumn("{task.fields[objects]} objects"),
               TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("import", total=size, objects=0)

        def advance(_: int) -> None:
            bar.update(task, completed=read.bytes_read, objects=read.count)

        try:
            totals = ingest_stream(
                session_factory(settings), batched(read.objects(sources), batch_size or settings.ingest_batch_size),
                collection_id=collection, org_slug=org, progress=advance,
            )
        except ExchangeError as exc:
            console.print(f"[red]error:[/red] {exc.description}")
            raise typer.Exit(1) from None
    for error in read.errors:
        console.print(f"[red]rejected:[/red] {error}", highlight=False, soft_wrap=True)
    rejected = totals.rejected + len(read.errors)
    table = Table("added", "duplicates", "rejected", title=f"{totals.processed} objects from {source}")
    table.add_row(str(totals.added), str(totals.duplicates), str(rejected))
    console.print(table)
    for position, verdict in totals.rejections[:_LISTED]:
        console.print(f"  [yellow]rejected:[/yellow] {_place(read.starts, position)} ({verdict.id or 'no id'}): "
                      f"{verdict.message}", highlight=False, soft_wrap=True)
    if totals.rejected > _LISTED:
        console.print(f"  … and {totals.rejected - _LISTED} more; by reason:")
        for reason, count in totals.reasons.most_common(10):
            console.print(f"  [yellow]{count} ×[/yellow] {reason}", highlight=False)
    if rejected:
        raise typer.Exit(3 if totals.added + totals.duplicates else 1)


def export(
    type_: list[str] = typer.Option([], "--type", help="Only these STIX types (repeatable)"),
    since: str | None = typer.Option(None, help="Only objects added at or after this timestamp"),
    fmt: str = typer.Option("stix", "--format", help="stix (a bundle), csv (one row per observable, with its "
                            "TLP), txt (a blocklist: one value of one --kind per line)"),
    kind: str | None = typer.Option(None, "--kind", help=f"Only observables of this kind, one of {', '.join(KINDS)}; "
                                    "required for --format txt"),
    as_org: str | None = typer.Option(None, "--as-org", help="Export what this organisation may read"),
    everything: bool = typer.Option(False, "--all", help="Export everything in the store, as the hub operator "
                                    "(AMBER and RED included)"),
    output: Path | None = typer.Option(None, "-o", "--output", help="File to write [default: stdout]"),
) -> None:
    """Write current objects as a STIX bundle, CSV or a plain-text blocklist.

    By default the export holds what every member organisation may read (TLP:CLEAR and GREEN in
    collections open to all members), so it can be handed on without leaking AMBER or RED objects
    or the findings about a victim; --as-org SLUG reads as that organisation, --all as the operator.
    """
    if fmt not in exports.FORMATS:
        _usage("--format must be stix, csv or txt")
    if kind is not None and kind not in KINDS:
        _usage(f"--kind must be one of {', '.join(KINDS)}")
    if fmt == "txt" and kind is None:
        _usage("a blocklist holds one kind of value: add --kind, e.g. --kind domain")
    if as_org is not None and everything:
        _usage("--as-org and --all exclude each other")
    added_since = None
    if since is not None:
        added_since = to_micros(since)
        if added_since is None:
            _usage("--since must be a timestamp like 2024-01-31T12:00:00Z")
    settings = Settings()
    with unit_of_work(settings) as session:
        reader = (orgs.get_by_slug(session, as_org) if as_org else
                  orgs.local_operator() if everything else orgs.community_member())
    out = output.open("wb") if output else sys.stdout.buffer
    try:
        for chunk in exports.chunks(fmt, kind, exports.pages(session_factory(settings), reader,
                                                               page_size=settings.max_page_size, types=type_,
                                                               added_since=added_since)):
            out.write(chunk)
    finally:
        if output:
            out.close()


def _usage(message: str) -> NoReturn:
    console.print(f"[red]error:[/red] {message}")
    raise typer.Exit(2)


def register(app: typer.Typer) -> None:
    app.command("import")(import_)
    app.command()(export)
