#!/usr/bin/env bash
# Ingest benchmark on SQLite and PostgreSQL, several runs each (the median is the figure to quote).
set -euo pipefail
n=${1:-100000}
runs=${2:-3}
pg=${EXCHANGE_BENCH_PG_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test}
cpu_reference() {
  python3 -c 'import time; s=time.perf_counter(); sum(range(5_000_000)); print(f"cpu reference loop: {time.perf_counter()-s:.3f}s")'
}
for run in $(seq "$runs"); do
  cpu_reference
  exchange bench ingest -n "$n" --json
  exchange bench ingest -n "$n" --json --database-url "$pg"
done
