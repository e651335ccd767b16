"""``exchange import`` against ``stix2.parse(obj, allow_custom=True)`` per pattern shape, side by side
in one run (issue 16: at least 15x on the mix, no shape under 5,000 objects/s):

    python benchmarks/import_compare.py [-n 30000] [--sample 3000] [--shapes mixed,or] [--before PYTHON] [--json]

For each shape of the generator (``exchange/bench/data.py``): n indicators written as one bundle
file; ``stix2.parse`` timed in this process on the first ``--sample`` of them; then a real
``exchange import FILE`` subprocess into a fresh SQLite database (``exchange db upgrade`` first,
untimed), timed as a user sees it, process start-up included. Start-up alone is the same command on
an empty bundle, so the figure "without start-up" is the difference. The machine's load average
(``os.getloadavg``) is printed with each row: on a shared machine the absolute numbers move, the
ratios measured side by side move less, and CPU seconds (the import's and its helpers', against
``stix2.parse``'s) least: ``cpu_x`` is the figure to compare across runs. ``--before PYTHON``
also times, in the same row, the import of another installation (e.g. an interpreter whose
``exchange`` is an older checkout), so before and after are measured under the same load.

Lives here, not in the wheel: it needs stix2, which the import itself never calls on these objects.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
import stix2

from exchange.bench.data import indicators

SHAPES = ("simple", "single", "and", "or", "qualified", "mixed")
_BUNDLE = "bundle--6ef6ab0f-5d4f-4c8e-9a3d-4c1b6d2b2f11"


def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else 0.0


def stix2_rate(objects: list[dict[str, Any]]) -> tuple[float, float]:
    """(objects per wall second, per CPU second) of ``stix2.parse``."""
    start, cpu = time.perf_counter(), time.process_time()
    for obj in objects:
        stix2.parse(obj, allow_custom=True)
    return _rate(len(objects), time.perf_counter() - start), _rate(len(objects), time.process_time() - cpu)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _exchange(python: str, args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall, CPU) seconds of one ``exchange`` command, as the console script runs it; the CPU time is
    the command's and its helper processes' (each reaped by its parent)."""
    start, cpu = time.perf_counter(), _children_cpu()
    subprocess.run([python, "-c", "from exchange.cli import main; main()", *args], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start, _children_cpu() - cpu


def import_seconds(objects: list[dict[str, Any]], python: str = sys.executable) -> tuple[float, float, float]:
    """(wall seconds of ``exchange import`` of ``objects``, of ``exchange import`` of an empty bundle, CPU
    seconds of the first), each into a fresh SQLite database, with the ``exchange`` of ``python``."""
    with tempfile.TemporaryDirectory(prefix="exchange-import-bench-") as tmp:
        bundle, empty = Path(tmp, "bundle.json"), Path(tmp, "empty.json")
        bundle.write_bytes(orjson.dumps({"type": "bundle", "id": _BUNDLE, "objects": objects}))
        empty.write_bytes(orjson.dumps({"type": "bundle", "id": _BUNDLE, "objects": []}))
        timed = []
        for name, source in (("full", bundle), ("empty", empty)):
            env = {**os.environ, "EXCHANGE_DATABASE_URL": f"sqlite:///{tmp}/{name}.db"}
            _exchange(python, ["db", "upgrade"], env)
            timed.append(_exchange(python, ["import", str(source)], env))
        return timed[0][0], timed[1][0], timed[0][1]


def _figures(n: int, parse: tuple[float, float], seconds: float, startup: float, cpu: float,
             prefix: str = "") -> dict[str, Any]:
    """Wall figures, and the CPU one: objects per CPU second of the import and its helpers against
    stix2.parse's per CPU second, which a loaded machine moves much less than wall time."""
    work = max(seconds - startup, 1e-9)
    return {f"{prefix}import_per_s": round(_rate(n, seconds)),
            f"{prefix}import_x": round(_rate(n, seconds) / parse[0], 1),
            f"{prefix}startup_s": round(startup, 2), f"{prefix}import_per_s_without_startup": round(_rate(n, work)),
            f"{prefix}import_x_without_startup": round(_rate(n, work) / parse[0], 1),
            f"{prefix}import_per_cpu_s": round(_rate(n, cpu)), f"{prefix}cpu_x": round(_rate(n, cpu) / parse[1], 1)}


def measure(shape: str, n: int, sample: int, before: str | None = None) -> dict[str, Any]:
    objects = list(indicators(n, seed=16, shape=shape))
    load_before = os.getloadavg()[0]
    parse = stix2_rate(objects[:sample])
    row = {"shape": shape, "objects": n, "stix2_parse_per_s": round(parse[0]), "stix2_parse_per_cpu_s": round(parse[1])}
    if before is not None:
        row.update(_figures(n, parse, *import_seconds(objects, before), prefix="before_"))
    row.update(_figures(n, parse, *import_seconds(objects)))
    row["load_1min"] = f"{load_before:.1f}-{os.getloadavg()[0]:.1f}"
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("-n", type=int, default=30_000, help="indicators per shape")
    parser.add_argument("--sample", type=int, default=3_000, help="objects given to stix2.parse per shape")
    parser.add_argument("--shapes", default=",".join(SHAPES), help="comma-separated, of " + ", ".join(SHAPES))
    parser.add_argument("--before", metavar="PYTHON", help="also time the exchange of this interpreter")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = [measure(shape, args.n, args.sample, args.before) for shape in args.shapes.split(",")]
    if args.json:
        print(json.dumps(rows))
        return
    keys = list(rows[0])
    print(f"{os.cpu_count()} CPUs; load average (1 min) before and after each row")
    print(" | ".join(keys))
    for row in rows:
        print(" | ".join(str(row[k]) for k in keys))


if __name__ == "__main__":
    main()
