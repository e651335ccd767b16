"""The pattern engine against stix2-patterns and ``stix2.parse``, per pattern shape, in one run
(issue 16, decision 0009):

    python benchmarks/patterns_compare.py [-n 30000] [--sample 3000] [--json]

- engine: ``patterns.validate.checked`` + ``patterns.observables.terms`` (cache cleared, every
  pattern distinct) against stix2-patterns' ``validate`` + ``Pattern(...).inspect()`` (what ingest
  did before: ANTLR twice), on the same patterns;
- import: ``exchange import`` of n generated indicators of the realistic mix into a fresh SQLite
  database, timed as a user sees it (process start-up included) and without start-up (the
  command's own figure of its work is not printed, so start-up is measured as ``exchange --help``),
  against ``stix2.parse(obj, allow_custom=True)`` on the same objects in this process;
- and the import per shape (``--shape`` of the generator), 10,000 objects each.

Lives here, not in the wheel: it needs stix2-patterns, which Exchange itself never imports.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
import stix2
from stix2patterns.pattern import Pattern
from stix2patterns.validator import validate as oracle_validate

from exchange.bench.data import indicators
from exchange.stix.patterns.observables import terms
from exchange.stix.patterns.validate import checked

SHAPES = ("simple", "single", "and", "or", "qualified", "mixed")


def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds else 0.0


def engine_rate(patterns: list[str]) -> float:
    checked.cache_clear()
    start = time.perf_counter()
    for p in patterns:
        for _ in terms(checked(p)):
            pass
    return _rate(len(patterns), time.perf_counter() - start)


def oracle_rate(patterns: list[str]) -> float:
    start = time.perf_counter()
    for p in patterns:
        oracle_validate(p, "2.1")
        Pattern(p).inspect()
    return _rate(len(patterns), time.perf_counter() - start)


def stix2_rate(objects: list[dict[str, Any]]) -> float:
    start = time.perf_counter()
    for obj in objects:
        stix2.parse(obj, allow_custom=True)
    return _rate(len(objects), time.perf_counter() - start)


def _exchange(args: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "from exchange.cli import main; main()", *args], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def import_seconds(objects: list[dict[str, Any]]) -> tuple[float, float]:
    """(wall seconds of ``exchange import``, of ``exchange --help``) on a fresh SQLite database."""
    with tempfile.TemporaryDirectory(prefix="exchange-patterns-bench-") as tmp:
        bundle = Path(tmp, "bundle.json")
        bundle.write_bytes(orjson.dumps({"type": "bundle", "id": "bundle--6ef6ab0f-5d4f-4c8e-9a3d-4c1b6d2b2f11",
                                         "objects": objects}))
        env = {**os.environ, "EXCHANGE_DATABASE_URL": f"sqlite:///{tmp}/x.db"}
        _exchange(["db", "upgrade"], env)
        return _exchange(["import", str(bundle)], env), _exchange(["--help"], env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=30_000, help="indicators of the mixed import")
    parser.add_argument("--per-shape", type=int, default=10_000, help="indicators of each per-shape import")
    parser.add_argument("--sample", type=int, default=3_000, help="patterns per shape for the ANTLR side")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = []
    for shape in SHAPES:
        objects = list(indicators(args.n if shape == "mixed" else args.per_shape, seed=16, shape=shape))
        patterns = [o["pattern"] for o in objects]
        sample = objects[: args.sample]
        ours, theirs = engine_rate(patterns), oracle_rate(patterns[: args.sample])
        parse = stix2_rate(sample)
        seconds, startup = import_seconds(objects)
        rows.append({"shape": shape, "objects": len(objects), "engine_per_s": round(ours),
                     "stix2patterns_per_s": round(theirs), "engine_x": round(ours / theirs, 1),
                     "import_per_s": round(_rate(len(objects), seconds)),
                     "import_per_s_without_startup": round(_rate(len(objects), seconds - startup)),
                     "stix2_parse_per_s": round(parse), "import_x": round(_rate(len(objects), seconds) / parse, 1),
                     "import_x_without_startup": round(_rate(len(objects), seconds - startup) / parse, 1)})
    if args.json:
        print(json.dumps(rows))
        return
    keys = list(rows[0])
    print(" | ".join(keys))
    for row in rows:
        print(" | ".join(str(row[k]) for k in keys))


if __name__ == "__main__":
    main()
