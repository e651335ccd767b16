"""``import`` and ``export``: files in and out of the store, through the one ingest path."""

from __future__ import annotations

import csv
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from exchange.cli.common import console, session_factory, unit_of_work
from exchange.db import transaction
from exchange.errors import ExchangeError
from exchange.orgs import service as orgs
from exchange.settings import Settings
from exchange.stix import observables, service
from exchange.stix.bulk import batched, ingest_stream
from exchange.stix.prepare import objects_of
from exchange.stix.timestamps import to_micros

_SUFFIXES = (".json", ".jsonl", ".ndjson")


def _read_objects(data: bytes, origin: str) -> list[Any]:
    """A JSON document (bundle, list, object) or JSON lines; a bad line becomes a rejected entry."""
    try:
        return objects_of(orjson.loads(data))
    except orjson.JSONDecodeError:
        pass
    objects: list[Any] = []
    for number, line in enumerate(data.splitlines(), 1):
        if not line.strip():
            continue
        try:
            objects.extend(objects_of(orjson.loads(line)))
        except (orjson.JSONDecodeError, ExchangeError):
            objects.append(f"{origin}:{number}: not a JSON object, bundle or list")
    return objects


def _sources(source: str) -> Iterator[tuple[str, bytes]]:
    if source == "-":
        yield "stdin", sys.stdin.buffer.read()
        return
    path = Path(source)
    if path.is_dir():
        for file in sorted(p for p in path.rglob("*") if p.suffix in _SUFFIXES and p.is_file()):
            yield str(file), file.read_bytes()
    elif path.is_file():
        yield str(path), path.read_bytes()
    else:
        console.print(f"[red]error:[/red] {source} is neither a file, a directory nor '-'")
        raise typer.Exit(2)


def import_(
    source: str = typer.Argument(..., metavar="FILE|DIR|-", help="Bundle JSON, JSON lines, a directory, or '-'"),
    collection: str | None = typer.Option(None, help="Collection id [default: the default collection]"),
    org: str | None = typer.Option(None, help="Slug of the publishing organisation (owner of the objects)"),
    batch_size: int | None = typer.Option(None, help="Objects per transaction [default: EXCHANGE_INGEST_BATCH_SIZE]"),
) -> None:
    """Validate and store STIX objects; print what was added, duplicated and rejected (with reasons)."""
    settings = Settings()
    objects = [obj for _, data in _sources(source) for obj in _read_objects(data, source)]
    columns = (TextColumn("importing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("import", total=len(objects))
        try:
            totals = ingest_stream(
                session_factory(settings), batched(objects, batch_size or settings.ingest_batch_size),
                collection_id=collection, org_slug=org, progress=lambda n: bar.advance(task, n),
            )
        except ExchangeError as exc:
            console.print(f"[red]error:[/red] {exc.description}")
            raise typer.Exit(1) from None
    table = Table("added", "duplicates", "rejected", title=f"{totals.processed} objects from {source}")
    table.add_row(str(totals.added), str(totals.duplicates), str(totals.rejected))
    console.print(table)
    for reason, count in totals.reasons.most_common(10):
        console.print(f"  [yellow]{count} ×[/yellow] {reason}")
    if totals.rejected and totals.added + totals.duplicates == 0:
        raise typer.Exit(1)


def export(
    type_: list[str] = typer.Option([], "--type", help="Only these STIX types (repeatable)"),
    since: str | None = typer.Option(None, help="Only objects added at or after this timestamp"),
    fmt: str = typer.Option("stix", "--format", help="stix (a bundle), csv (one row per observable), "
                            "txt (one observable value per line, a blocklist)"),
    as_org: str | None = typer.Option(None, "--as-org", help="Export what this org may read [default: everything]"),
    output: Path | None = typer.Option(None, "-o", "--output", help="File to write [default: stdout]"),
) -> None:
    """Write current objects as a STIX bundle, CSV or a plain-text blocklist."""
    if fmt not in ("stix", "csv", "txt"):
        console.print("[red]error:[/red] --format must be stix, csv or txt")
        raise typer.Exit(2)
    added_since = None
    if since is not None:
        added_since = to_micros(since)
        if added_since is None:
            console.print("[red]error:[/red] --since must be a timestamp like 2024-01-31T12:00:00Z")
            raise typer.Exit(2)
    settings = Settings()
    with unit_of_work(settings) as session:
        reader = orgs.get_by_slug(session, as_org) if as_org else orgs.local_operator()
    out = output.open("wb") if output else sys.stdout.buffer
    try:
        _write(out, fmt, _pages(settings, reader, type_, added_since))
    finally:
        if output:
            out.close()


def _pages(settings: Settings, reader: Any, types: list[str], added_since: int | None) -> Iterator[bytes]:
    sessions = session_factory(settings)
    cursor = None
    while True:
        with transaction(sessions) as session:
            page = service.list_objects(session, reader, limit=settings.max_page_size, cursor=cursor,
                                        types=types, added_since=added_since)
            yield from (row.raw for row in page.objects)
        if page.next is None:
            return
        cursor = page.next


def _write(out: Any, fmt: str, raws: Iterator[bytes]) -> None:
    if fmt == "stix":
        out.write(b'{"type":"bundle","id":"bundle--' + str(uuid.uuid4()).encode() + b'","objects":[')
        for i, raw in enumerate(raws):
            out.write((b"," if i else b"") + raw)
        out.write(b"]}\n")
        return
    if fmt == "txt":
        seen: set[str] = set()
        for raw in raws:
            for e in observables.extract(orjson.loads(raw)):
                if e.value not in seen:
                    seen.add(e.value)
                    out.write(e.value.encode() + b"\n")
        return
    text = _TextOut(out)
    writer = csv.writer(text)
    writer.writerow(["kind", "value", "object_id", "type", "name", "valid_from", "valid_until"])
    for raw in raws:
        obj = orjson.loads(raw)
        for e in observables.extract(obj):
            writer.writerow([e.kind, e.value, obj["id"], obj["type"], obj.get("name", ""),
                             obj.get("valid_from", ""), obj.get("valid_until", "")])


class _TextOut:
    """csv wants a text stream; stdout.buffer and files opened 'wb' are binary."""

    def __init__(self, binary: Any) -> None:
        self.binary = binary

    def write(self, s: str) -> int:
        return int(self.binary.write(s.encode()))


def register(app: typer.Typer) -> None:
    app.command("import")(import_)
    app.command()(export)
