"""A database that cannot be used, as an operator meets it (issue 14, items 13, 14 and 17).

The CLI runs as a real process (the console script), so what is checked is what a terminal shows:
one line on stderr and a non-zero exit, never a traceback. The server answers 503 with a reason.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from exchange.app import create_app
from exchange.core.settings import Settings
from tests.conftest import PG_URL, once

EXCHANGE = str(Path(sys.executable).with_name("exchange"))


def _refused_port() -> int:
    """A local port nobody listens on (bound, then released without listening)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# These run the hub on databases of their own (refused, misnamed, missing, empty), never on the test database.
ELSEWHERE = once("the hub runs on a database of its own, or on none")
REFUSED = f"postgresql+psycopg://postgres@127.0.0.1:{_refused_port()}/exchange"


def run(*args: str, url: str | None, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXCHANGE_")} | {"COLUMNS": "200"}
    if url is not None:
        env["EXCHANGE_DATABASE_URL"] = url
    return subprocess.run([EXCHANGE, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120)


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "listening" not in result.stderr + result.stdout
    return lines[0]


@ELSEWHERE
@pytest.mark.parametrize("command", [("org", "list"), ("db", "upgrade"), ("serve", "--port", "1")])
def test_refused_connection_is_one_line(tmp_path: Path, command: tuple[str, ...]) -> None:
    line = one_line(run(*command, url=REFUSED, cwd=tmp_path))
    if command[0] != "serve":  # serve finds port 1 unusable before it tries the database
        assert "cannot use the database postgresql+psycopg://postgres@127.0.0.1" in line


@ELSEWHERE
@pytest.mark.parametrize("command", [("org", "list"), ("db", "upgrade"), ("serve", "--port", "0")])
def test_postgres_scheme_is_one_line_that_names_the_right_one(tmp_path: Path, command: tuple[str, ...]) -> None:
    line = one_line(run(*command, url="postgres://u:secret@127.0.0.1/x", cwd=tmp_path))
    assert "unknown database scheme" in line
    assert "postgresql+psycopg://" in line
    assert "secret" not in line


@ELSEWHERE
def test_serve_with_the_database_down_fails_before_listening(tmp_path: Path) -> None:
    line = one_line(run("serve", "--port", str(_refused_port()), url=REFUSED, cwd=tmp_path))
    assert "cannot use the database" in line


@ELSEWHERE
def test_missing_directory_is_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'no' / 'such' / 'dir' / 'hub.db'}"
    assert "unable to open database file" in one_line(run("db", "upgrade", url=url, cwd=tmp_path))
    assert "no database at" in one_line(run("org", "list", url=url, cwd=tmp_path))


@ELSEWHERE
def test_read_only_command_from_another_folder_creates_no_database(tmp_path: Path) -> None:
    line = one_line(run("org", "list", url=None, cwd=tmp_path))
    assert f"no database at {tmp_path / 'exchange.core.db'}" in line
    assert not (tmp_path / "exchange.core.db").exists()


@ELSEWHERE
def test_default_database_is_named_once(tmp_path: Path) -> None:
    assert run("db", "upgrade", url=None, cwd=tmp_path).returncode == 0
    listed = run("org", "list", url=None, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert listed.stderr.count(str(tmp_path / "exchange.core.db")) == 1


@ELSEWHERE
def test_unmigrated_database_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    sqlite3.connect(path).close()
    line = one_line(run("org", "list", url=f"sqlite:///{path}", cwd=tmp_path))
    assert "run `exchange db upgrade`" in line


@ELSEWHERE
def test_serve_on_a_busy_port_fails_before_listening(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        line = one_line(run("serve", "--port", str(port), url=f"sqlite:///{tmp_path / 'hub.db'}", cwd=tmp_path))
    assert f"cannot listen on 127.0.0.1:{port}" in line


@pytest.mark.skipif(not PG_URL, reason="needs EXCHANGE_TEST_DATABASE_URL (PostgreSQL)")
def test_serve_refuses_an_unmigrated_postgresql(tmp_path: Path) -> None:
    from exchange.core import db

    assert PG_URL is not None
    with db.scratch_database(PG_URL, "unmigrated") as url:
        line = one_line(run("serve", "--port", str(_refused_port()), url=url, cwd=tmp_path))
    assert "migration none" in line
    assert "exchange db upgrade" in line


# --- the server ---------------------------------------------------------------------------------------

@ELSEWHERE
def test_server_answers_503_with_a_reason_when_the_database_is_down() -> None:
    app = create_app(Settings(database_url=REFUSED, rate_limit_per_ip="", rate_limit_per_key=""))
    client = TestClient(app, raise_server_exceptions=False)  # no lifespan: the ingester needs the database
    for path in ("/api/v1/objects", "/taxii2/"):
        r = client.get(path, headers={"Authorization": "Bearer exk_abc_def"})
        assert r.status_code == 503, r.text
        assert "database is unavailable" in r.json()["description"]
        assert r.headers["retry-after"]
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["status"] == "not ready"
    app.state.engine.dispose()


@ELSEWHERE
def test_readyz_is_not_ready_on_an_unmigrated_database(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    sqlite3.connect(path).close()
    app = create_app(Settings(database_url=f"sqlite:///{path}"))
    ready = TestClient(app).get("/readyz")
    assert ready.status_code == 503
    assert "exchange db upgrade" in ready.json()["description"]
    app.state.engine.dispose()


@pytest.mark.skipif(not PG_URL, reason="needs EXCHANGE_TEST_DATABASE_URL (PostgreSQL)")
def test_a_pooled_connection_the_server_ended_is_replaced_without_an_error() -> None:
    """A restart or an idle timeout ends the pool's connections; the next request must get a fresh one, not the
    error (``core.db._still_open``), and a healthy one must be used again, not reopened."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    from exchange.core import db

    assert PG_URL is not None
    engine, admin = db.make_engine(PG_URL), create_engine(PG_URL, poolclass=NullPool)
    pid = "select pg_backend_pid()"
    try:
        with engine.connect() as c:
            first = c.execute(text(pid)).scalar()
        with engine.connect() as c:
            assert c.execute(text(pid)).scalar() == first
        with admin.connect() as a:
            assert a.execute(text("select pg_terminate_backend(:p, 10000)"), {"p": first}).scalar()
        with engine.connect() as c:
            assert c.execute(text(pid)).scalar() != first
    finally:
        engine.dispose()
        admin.dispose()
