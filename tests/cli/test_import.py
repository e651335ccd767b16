"""`exchange import` tells the user what went wrong, where, and says so in its exit status."""

from __future__ import annotations

from pathlib import Path

import orjson
from typer.testing import CliRunner, Result

from exchange.cli import app
from exchange.core.settings import Settings
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
