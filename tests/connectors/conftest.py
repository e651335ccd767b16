"""A real medallion TAXII 2.1 server (memory backend) in the test process, on a free port, seeded
with objects the test makes; in front of it a WSGI layer that can fail chosen requests the way a
troubled server does (an HTTP error with ``Retry-After``, or a stall past the client's timeout)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import medallion
import pytest
from werkzeug.serving import make_server

from exchange.core import db
from tests.taxii.live import Server, start_server

ROOT = "api1"
COLLECTION = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"
USER, PASSWORD = "reader", "s3cret"
_registered = threading.Lock()


def indicator(n: int) -> dict[str, Any]:
    return {"type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}",
            "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
            "name": f"bad {n}", "pattern": f"[ipv4-addr:value = '198.51.100.{n % 250}']", "pattern_type": "stix",
            "valid_from": "2024-01-01T00:00:00Z"}


@dataclass
class Medallion:
    base: str = ""
    # What to do to the next requests for objects, in order: an HTTP status (answered with
    # Retry-After: 0), or a float (stall that many seconds, then let medallion answer).
    faults: list[int | float] = field(default_factory=list)
    objects_requests: int = 0

    @property
    def discovery(self) -> str:
        return f"{self.base}/taxii2/"

    @property
    def collection(self) -> str:
        return f"{self.base}/{ROOT}/collections/{COLLECTION}/"

    def seed(self, directory: Path, objects: list[dict[str, Any]]) -> None:
        """A fresh backend holding ``objects``, each with its own date_added, oldest first."""
        manifest = [{"id": o["id"], "date_added": f"2024-02-01T00:00:{i // 1000:02d}.{i % 1000:03d}000Z",
                     "version": o["modified"], "media_type": "application/stix+json;version=2.1"}
                    for i, o in enumerate(objects)]
        root = f"{self.base}/{ROOT}/"
        data = {"/discovery": {"title": "peer", "default": root, "api_roots": [root]},
                ROOT: {"information": {"title": "peer", "versions": ["application/taxii+json;version=2.1"],
                                       "max_content_length": 10 * 2**20},
                       "status": [],
                       "collections": [{"id": COLLECTION, "title": "peer", "can_read": True, "can_write": True,
                                        "media_types": ["application/stix+json;version=2.1"],
                                        "objects": objects, "manifest": manifest}]}}
        (directory / "data.json").write_text(json.dumps(data))
        config = {"backend": {"module": "medallion.backends.memory_backend", "module_class": "MemoryBackend",
                              "filename": str(directory / "data.json"), "session_timeout": 600},
                  "users": {USER: PASSWORD}, "taxii": {"max_page_size": 100}}
        app = medallion.application_instance
        with _registered:
            if not app.blueprints:
                medallion.register_blueprints(app)
            medallion.set_config(app, "users", config)
            medallion.set_config(app, "taxii", config)
            medallion.set_config(app, "backend", config)


@pytest.fixture(scope="module")
def second_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A second Exchange's database (SQLite, its own file: the suite's database is this hub's)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('second') / 'second.db'}"
    db.upgrade(url)
    return url


@pytest.fixture(scope="module")
def second_hub(second_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A real ``exchange serve`` on ``second_url``, one per test module."""
    yield from start_server(second_url, tmp_path_factory.mktemp("second-hub"))


@pytest.fixture
def peer(tmp_path: Path) -> Iterator[Medallion]:
    state = Medallion()
    app = medallion.application_instance

    def faulty(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if "/objects/" in environ.get("PATH_INFO", ""):
            state.objects_requests += 1
            if state.faults:
                fault = state.faults.pop(0)
                if isinstance(fault, float):
                    time.sleep(fault)  # a stalled server: the client's timeout is what the test is about
                else:
                    start_response(f"{fault} Unavailable", [("Retry-After", "0"), ("Content-Type", "text/plain")])
                    return [b"try later"]
        return app.wsgi_app(environ, start_response)

    server = make_server("127.0.0.1", 0, faulty, threaded=True)
    state.base = f"http://127.0.0.1:{server.server_port}"
    state.seed(tmp_path, [])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
