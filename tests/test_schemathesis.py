"""Schemathesis fuzzes every operation of /openapi.json against a real server process.

Checks: no 5xx, responses match the documented schema, status codes and content types are
documented, 405s name the allowed methods. A fixed seed keeps runs reproducible.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from exchange.bench.taxii_run import free_port
from exchange.orgs.models import Role
from tests.orgs_factory import MakeOrg
from tests.test_serve import EXCHANGE, _wait_for_line

SCHEMATHESIS = str(Path(EXCHANGE).with_name("schemathesis"))
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"


def test_the_api_keeps_its_contract_under_fuzzing(database_url: str, make_org: MakeOrg, tmp_path: Path) -> None:
    _, key = make_org(Role.admin)  # an admin reaches every operation, the hub-admin ones too
    port = free_port()
    env = os.environ | {"EXCHANGE_DATABASE_URL": database_url,  # the fuzzer's pace must not meet rate limits
                        "EXCHANGE_RATE_LIMIT_PER_IP": "", "EXCHANGE_RATE_LIMIT_PER_KEY": ""}
    server = subprocess.Popen([EXCHANGE, "serve", "--port", str(port)], env=env, cwd=tmp_path,
                              stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
    try:
        _wait_for_line(server, b"Uvicorn running on", timeout=120)
        run = subprocess.run(
            [SCHEMATHESIS, "run", f"http://127.0.0.1:{port}/openapi.json", "-H", f"Authorization: Bearer {key}",
             "--checks", CHECKS, "--max-examples", "15", "--seed", "1", "--phases", "examples,coverage,fuzzing"],
            capture_output=True, text=True, timeout=300, cwd=tmp_path, check=False,
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
