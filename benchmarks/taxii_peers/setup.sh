#!/usr/bin/env bash
# Create (once) the virtual environment a peer TAXII server runs in, outside the repository, and
# print its path.   usage: setup.sh opentaxii|medallion
#
# The peers never share Exchange's venv: OpenTAXII 0.9.3 needs SQLAlchemy 1.x (Exchange uses 2.1),
# and neither is a dependency of Exchange. Idempotent: a marker file records the pins a venv was
# built with; running again with the same pins only prints the path.
#   EXCHANGE_BENCH_CACHE  where the venvs live [default: ~/.cache/exchange-bench]
#   PYTHON                interpreter to build them with [default: python3]
set -euo pipefail
peer=${1:?usage: setup.sh opentaxii|medallion}
case $peer in
  # Pinned to what the harness was validated with; later Flask or marshmallow releases may not run 0.9.3.
  opentaxii) pins=(opentaxii==0.9.3 "sqlalchemy>=1.4,<2" "flask>=3.1,<3.2" "werkzeug>=3.1,<3.2" "marshmallow>=3.10,<5") ;;
  medallion) pins=(medallion==3.0.0 "flask>=3.1,<3.2" "werkzeug>=3.1,<3.2") ;;
  *) echo "unknown peer: $peer (opentaxii or medallion)" >&2; exit 2 ;;
esac
cache=${EXCHANGE_BENCH_CACHE:-$HOME/.cache/exchange-bench}
venv=$cache/$peer-venv
marker=$venv/.exchange-bench-pins
if [[ -x $venv/bin/python && -f $marker && "$(cat "$marker")" == "${pins[*]}" ]]; then
  echo "$venv"
  exit 0
fi
mkdir -p "$cache"
"${PYTHON:-python3}" -m venv --clear "$venv" >&2
"$venv/bin/pip" install --quiet --disable-pip-version-check "${pins[@]}" >&2
printf '%s' "${pins[*]}" > "$marker"
echo "$venv"
