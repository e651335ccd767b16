"""Load STIX objects straight into OpenTAXII 0.9.3's SQL tables, as a pre-built database.

Loading a million objects through OpenTAXII's own POST would take hours (it runs ``stix2.parse``
and one existence query per object), and the figures we want are about reading, so this writes
the rows its own ``add_objects`` would write (same columns, same ``serialized_data`` shape) with
executemany. It also creates what a TAXII 2.1 client needs: an admin account, a default API root
and one collection. Prints ``progress N`` lines while loading, then one JSON line with the ids.

Run with the OpenTAXII venv's interpreter, OPENTAXII_* variables set as for the server:
    python opentaxii_load.py --objects objects.jsonl --username bench --password secret
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import uuid
from collections.abc import Iterator
from typing import Any

from opentaxii.config import ServerConfig
from opentaxii.persistence.sqldb import taxii2models
from opentaxii.server import TAXIIServer
from opentaxii.taxii2.utils import DATETIMEFORMAT
from opentaxii.utils import configure_logging
from sqlalchemy import event

CHUNK = 10_000
UTC = dt.timezone.utc  # noqa: UP017 - the peer venv may be built with a Python older than 3.11
_BASE = dt.datetime(2025, 1, 1, tzinfo=UTC)


def _date_added(i: int) -> dt.datetime:
    # One millisecond apart, never on a whole second: 0.9.3's ``next`` token parser fails when a
    # date_added has no microseconds (isoformat then drops the fraction), a 1-in-a-million case
    # with real POSTs that a synthetic load would otherwise hit on every 1,000th object.
    return _BASE + dt.timedelta(microseconds=i * 1000 + 1)


def _rows(path: str, collection_id: uuid.UUID) -> Iterator[dict[str, Any]]:
    with open(path, encoding="utf-8") as lines:
        for i, line in enumerate(lines):
            obj = json.loads(line)
            yield {
                "pk": uuid.uuid4(),
                "id": obj["id"],
                "collection_id": collection_id,
                "type": obj["id"].split("--")[0],
                "spec_version": obj["spec_version"],
                "date_added": _date_added(i),
                "version": dt.datetime.strptime(obj["modified"], DATETIMEFORMAT).replace(tzinfo=UTC),
                "serialized_data": {k: v for k, v in obj.items() if k not in ("id", "type", "spec_version")},
            }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", required=True, help="JSON lines, one STIX object each")
    parser.add_argument("--username", required=True)
    parser.add_argument("--password", required=True)
    args = parser.parse_args()

    config = ServerConfig()
    configure_logging(config.get("logging", {"": "warning"}))
    server = TAXIIServer(config)
    server.auth.api.create_account(args.username, args.password, is_admin=True)
    api = server.servers.taxii2.persistence.api
    root = api.add_api_root(title="bench", description="Exchange benchmark", default=True, is_public=False)
    collection = api.add_collection(api_root_id=root.id, title="bench", description="Exchange benchmark")

    engine = api.db.engine
    event.listen(engine, "connect", lambda conn, _: conn.execute("PRAGMA synchronous=OFF"))
    table = taxii2models.STIXObject.__table__
    loaded = 0
    with engine.begin() as conn:
        chunk: list[dict[str, Any]] = []
        for row in _rows(args.objects, collection.id):
            chunk.append(row)
            if len(chunk) == CHUNK:
                conn.execute(table.insert(), chunk)
                loaded += len(chunk)
                chunk = []
                print(f"progress {loaded}", flush=True)
        if chunk:
            conn.execute(table.insert(), chunk)
            loaded += len(chunk)
    print(json.dumps({"api_root_id": str(root.id), "collection_id": str(collection.id), "objects": loaded}), flush=True)


if __name__ == "__main__":
    main()
