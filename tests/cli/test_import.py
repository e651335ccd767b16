"""`exchange import` tells the user what went wrong, where, and says so in its exit status."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import create_engine, func, select
from typer.testing import CliRunner, Result

from exchange.cli import COMMANDS, app, load
from exchange.cli.sources import WHOLE, Reader
from exchange.core.settings import Settings
from exchange.store.bulk import CHUNK, _tasks
from exchange.store.models import StixObject
from tests.factories import bundle, indicator

runner = CliRunner()


def run(*args: str) -> Result:
    return runner.invoke(app, list(args))


def test_truncated_json_names_line_and_column_and_fails(settings: Settings, tmp_path: Path) -> None:
    text = orjson.dumps(bundle(indicator(), indicator()), option=orjson.OPT_INDENT_2)
    f = tmp_path / "cut.json"
    f.write_bytes(text[: len(text) // 2])
    r = run("import", str(f))
    assert r.exit_code == 1, r.output
    lines = text[: len(text) // 2].count(b"\n") + 1
    assert f"{f}: invalid JSON at line {lines}, column" in r.output
    assert "not-an-object" not in r.output
    assert "│ 0     │ 0          │ 1        │" in r.output


def test_rejections_name_file_position_and_id_and_exit_non_zero(settings: Settings, tmp_path: Path) -> None:
    good, bad = indicator(), indicator(confidence=500)
    f = tmp_path / "mixed.json"
    f.write_bytes(orjson.dumps(bundle(good, bad)))
    r = run("import", str(f))
    assert r.exit_code == 3, r.output
    assert f"{f}, object 2 ({bad['id']}): " in r.output.replace("\n", "")
    only_bad = tmp_path / "bad.jsonl"
    only_bad.write_bytes(orjson.dumps(indicator(pattern="[nope")) + b"\n" + b"[1, \n")
    r = run("import", str(only_bad))
    assert r.exit_code == 1, r.output
    assert f"{only_bad}: invalid JSON at line 2, column" in r.output
    assert f"{only_bad}, object 1 (" in r.output
    assert run("import", str(f)).exit_code == 3  # the good one is a duplicate now: still stored
    good_only = tmp_path / "good.json"
    good_only.write_bytes(orjson.dumps(bundle(good, indicator())))
    assert run("import", str(good_only)).exit_code == 0
    assert "Exit status" in run("import", "--help").output


# Streaming: an input larger than the reader's ``whole`` is parsed while it is read, never at once.

def _read_all(data: bytes, whole: int = 4096) -> tuple[list[Any], list[str], list[int]]:
    """The objects, errors, and the bytes read when each object came out."""
    reader = Reader(whole=whole)
    seen: list[int] = []
    objects = []
    for obj in reader.objects(iter([("in", io.BytesIO(data))])):
        objects.append(obj)
        seen.append(reader.bytes_read)
    return objects, reader.errors, seen


def test_a_large_bundle_or_list_is_read_as_its_objects_are_used() -> None:
    objects = [indicator() for _ in range(2000)]
    for data in (orjson.dumps(bundle(*objects)), orjson.dumps(objects, option=orjson.OPT_INDENT_2)):
        assert len(data) > 8 * 65536  # ijson reads 64 KiB at a time
        got, errors, seen = _read_all(data)
        assert (got, errors) == (objects, [])
        assert seen[0] < len(data) // 4  # the first object came out long before the end was read
        assert seen[-1] == len(data)


def test_large_json_lines_stream_and_name_the_broken_line() -> None:
    objects = [indicator() for _ in range(300)]
    lines = [orjson.dumps(o) for o in objects]
    data = b"\n".join([*lines[:100], b"", b'{"broken', *lines[100:]]) + b"\n"
    got, errors, seen = _read_all(data)
    assert got == objects
    assert errors == ["in: invalid JSON at line 102, column 9: unexpected end of data"]
    assert seen[0] < len(data) // 4


def test_a_damaged_large_document_names_the_last_object_read() -> None:
    objects = [indicator() for _ in range(100)]
    data = orjson.dumps(bundle(*objects))
    got, errors, _ = _read_all(data[: len(data) // 2])
    assert got == objects[: len(got)]
    assert 0 < len(got) < 100
    assert errors == [f"in: invalid JSON after object {len(got)}: parse error: premature EOF"]
    lone = orjson.dumps(indicator(description="x" * 10_000))
    assert _read_all(lone, whole=1024)[:2] == ([], ["in: a document this large must be a bundle: no 'objects' "
                                                      "array found"])


def test_import_stores_objects_before_it_has_read_its_input(settings, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    """The command itself streams: when stdin reaches its end, batches of it are already stored.
    (Called directly: CliRunner would replace stdin with a copy of the input.)"""
    objects = [indicator() for _ in range(200)]
    copies = WHOLE // len(orjson.dumps(objects)) + 2
    data = orjson.dumps(bundle(*(objects * copies)))
    engine = create_engine(settings.database_url)
    stored_at_end: list[int] = []

    class Stdin(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            chunk = super().read(size)
            if not chunk and not stored_at_end:
                with engine.connect() as connection:
                    stored_at_end.append(connection.scalar(select(func.count()).select_from(StixObject)) or 0)
            return chunk

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(Stdin(data)))
    app(["import", "-", "--batch-size", "1000"], standalone_mode=False)  # raises on a non-zero exit status
    engine.dispose()
    assert stored_at_end == [len(objects)]
    duplicates = 200 * (copies - 1)
    assert f"│ 200   │ {duplicates:<10} │ 0        │" in capsys.readouterr().err  # the console writes to stderr


# The lazy command line: a command imports its own module only (exchange/cli/__init__.py).

_HEAVY = ("fastapi", "starlette", "uvicorn", "jinja2", "alembic", "stix2", "stix2patterns", "apscheduler",
          "exchange.alerts", "exchange.taxii", "exchange.feeds", "exchange.app", "exchange.cli.alerts",
          "exchange.cli.bench", "exchange.cli.serve")
_PROBE = """
import json, sys
from exchange.cli import main
try:
    main()
except SystemExit as exc:
    code = exc.code
print(json.dumps([code, sorted({m for m in sys.modules for h in HEAVY if m == h or m.startswith(h + ".")})]))
"""


def _loaded_by(argv: list[str], database_url: str) -> tuple[int, list[str]]:
    """(exit status, heavy modules imported) of ``exchange ARGV`` run in a fresh interpreter."""
    code = f"HEAVY = {_HEAVY!r}\n" + _PROBE
    done = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, check=True,
                          env={**os.environ, "EXCHANGE_DATABASE_URL": database_url})
    status, modules = json.loads(done.stdout.strip().splitlines()[-1])
    return status or 0, modules


def test_import_loads_neither_the_web_stack_nor_stix2(settings: Settings, tmp_path: Path) -> None:
    objects = [indicator() for _ in range(3)]
    f = tmp_path / "three.json"
    f.write_bytes(orjson.dumps(bundle(*objects)))
    assert _loaded_by(["import", str(f)], settings.database_url) == (0, [])
    engine = create_engine(settings.database_url)
    with engine.connect() as connection:  # the import did its work: it is not an import that stopped early
        assert connection.scalar(select(func.count()).select_from(StixObject)) == 3
    engine.dispose()
    assert _loaded_by(["--help"], settings.database_url) == (0, [])
    status, modules = _loaded_by(["bench", "--help"], settings.database_url)  # the probe sees heavy modules
    assert status == 0
    assert "exchange.cli.bench" in modules


def test_root_help_lines_are_the_commands_own() -> None:
    """``exchange --help`` shows COMMANDS' lines without loading the commands; each must be its command's
    own first paragraph, and each name must be what its module registers."""
    for name, (_, _, line) in COMMANDS.items():
        command = load(name)
        assert command.name == name
        own = (command.short_help or command.help or "").split("\n\n")[0]
        assert " ".join(own.split()) == line, name
    shown = " ".join(run("--help").output.split())
    assert all(f"{name} {line[:30]}" in shown for name, (_, _, line) in COMMANDS.items())


# Several batches: the helper processes prepare them in chunks (store.bulk), positions stay exact.

def test_rejections_across_batches_and_chunks_keep_their_positions(settings: Settings, tmp_path: Path) -> None:
    bad_at = {0, 999, 1000, 1199, 1200, 2399}  # 0-based: chunk and batch edges with --batch-size 1200
    objects = [indicator(confidence=500) if i in bad_at else indicator(pattern=f"[ipv4-addr:value = '10.0.{i // 256}"
                                                                              f".{i % 256}'] OR [domain-name:value = "
                                                                              f"'h{i}.example']")
               for i in range(2500)]
    f = tmp_path / "many.json"
    f.write_bytes(orjson.dumps(bundle(*objects)))
    r = run("import", str(f), "--batch-size", "1200")
    assert r.exit_code == 3, r.output
    shown = r.output.replace("\n", "")
    for i in sorted(bad_at):
        assert f"{f}, object {i + 1} ({objects[i]['id']}): " in shown
    assert f"│ {2500 - len(bad_at)}  │ 0          │ {len(bad_at)}        │" in r.output
    engine = create_engine(settings.database_url)
    with engine.connect() as connection:
        stored = set(connection.scalars(select(StixObject.stix_id)))
    engine.dispose()
    assert stored == {o["id"] for i, o in enumerate(objects) if i not in bad_at}


def test_a_chunk_orjson_cannot_write_goes_as_it_is() -> None:
    huge = [{"type": "indicator", "x_big": 2**70}]  # ijson reads such integers; orjson writes 64 bits at most
    assert list(_tasks(huge)) == [(huge, True)]
    small = [{"a": 1}] * (CHUNK + 1)
    assert [(orjson.loads(t) if isinstance(t, bytes) else t, c) for t, c in _tasks(small)] == [
        (small[:CHUNK], True), (small[CHUNK:], True)]
    assert list(_tasks(b"[]")) == [(b"[]", False)]
