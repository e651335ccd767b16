"""Start OpenTAXII 0.9.3 (TAXII 2.1) with the UUID serialisation fix it needs to answer at all.

0.9.3 builds TAXII 2.1 responses with ``json.dumps`` on dicts holding ``uuid.UUID`` values
(API root, collection and job ids), so discovery, collections and POST status all fail with
"Object of type UUID is not JSON serializable" (upstream issue #243; fixed upstream after 0.9.3).
This wrapper swaps the ``json`` module seen by ``opentaxii.taxii2.http`` for one whose ``dumps``
writes UUIDs as strings, then serves the app with Werkzeug's threaded server, the one
``opentaxii-run-dev`` uses. Configuration comes from OPENTAXII_CONFIG and OPENTAXII_* variables.

Run with the OpenTAXII venv's interpreter:  python opentaxii_serve.py --port 9000
"""

from __future__ import annotations

import argparse
import json
import types
import uuid
from typing import Any

import opentaxii.taxii2.http as taxii2_http


class _UuidEncoder(json.JSONEncoder):
    def default(self, o: Any) -> Any:
        if isinstance(o, uuid.UUID):
            return str(o)
        return super().default(o)


def _dumps(obj: Any, **kwargs: Any) -> str:
    return json.dumps(obj, cls=_UuidEncoder, **kwargs)


taxii2_http.json = types.SimpleNamespace(dumps=_dumps, loads=json.loads)  # the #243 fix


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()

    from opentaxii.config import ServerConfig
    from opentaxii.middleware import create_app
    from opentaxii.server import TAXIIServer
    from opentaxii.utils import configure_logging
    from werkzeug.serving import make_server

    config = ServerConfig()
    configure_logging(config.get("logging", {"": "warning"}))
    app = create_app(TAXIIServer(config))
    server = make_server(args.host, args.port, app, threaded=True)
    print(f"OpenTAXII serving on http://{args.host}:{args.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
