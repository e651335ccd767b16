"""Slow and large request bodies against a real uvicorn server (issue 14, items 5 and 9).

Slow writers are raw sockets that send their headers with ``Expect: 100-continue``: uvicorn answers
``100 Continue`` only when the endpoint starts reading the body, that is after authentication. So
the test knows, without sleeping, that every writer is authenticated and has its body being read
before it checks that others are still served.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from exchange.orgs.models import Role
from tests.factories import bundle, indicator
from tests.orgs_factory import MakeOrg
from tests.taxii.live import Server, start_server

BODY_TIMEOUT = 20  # long enough for the reader's requests on a busy machine, short for the test
BUDGET = 200_000  # bytes of bodies in flight: one 100 kB body fits, two do not


@pytest.fixture
def server(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    monkeypatch.setenv("EXCHANGE_BODY_TIMEOUT_SECONDS", str(BODY_TIMEOUT))
    monkeypatch.setenv("EXCHANGE_MAX_BODY_BYTES_IN_FLIGHT", str(BUDGET))
    yield from start_server(database_url, tmp_path)


def _send_head(server: Server, key: str, length: int) -> socket.socket:
    host, port = server.base.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=BODY_TIMEOUT * 2)
    sock.sendall(f"POST /api/v1/objects HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {key}\r\n"
                 f"Content-Type: application/json\r\nContent-Length: {length}\r\nExpect: 100-continue\r\n\r\n"
                 .encode())
    return sock


def _start_post(server: Server, key: str, length: int) -> socket.socket:
    """A POST whose headers are sent and whose body the hub has started to read (100 Continue seen)."""
    sock = _send_head(server, key, length)
    answer = _read_head(sock)
    assert answer.startswith(b"HTTP/1.1 100"), answer
    return sock


def _read_head(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def test_fifty_slow_writers_do_not_stop_a_reader_and_get_408(server: Server, make_org: MakeOrg) -> None:
    _, writer_key = make_org(Role.csirt)
    _, reader_key = make_org(Role.isac)
    slow = [_start_post(server, writer_key, 1000) for _ in range(50)]
    for sock in slow:
        sock.sendall(b"{")  # one byte of the promised thousand, then nothing

    with httpx.Client(base_url=server.base, timeout=10) as http:
        assert http.get("/readyz").status_code == 200
        listing = http.get("/api/v1/objects", headers={"Authorization": f"Bearer {reader_key}"})
        assert listing.status_code == 200, listing.text
        posted = http.post("/api/v1/objects", content=orjson.dumps(bundle(indicator())),
                           headers={"Authorization": f"Bearer {writer_key}", "Content-Type": "application/json"})
        assert posted.status_code == 200, posted.text
        assert posted.json()["added"] == 1

    for sock in slow:
        status, data = _response(sock)
        assert status == 408, data[:300]
        assert b'"http_status":"408"' in data


def test_bodies_over_the_bytes_in_flight_get_503_with_retry_after(server: Server, make_org: MakeOrg) -> None:
    _, key = make_org(Role.csirt)
    big = orjson.dumps(bundle(indicator(description="x" * 110_000)))
    assert BUDGET // 2 < len(big) < BUDGET

    first = _start_post(server, key, len(big))  # its declared length is reserved
    first.sendall(big[:100_000])
    status, data = _response(_send_head(server, key, len(big)))  # refused before any of its body is read
    assert status == 503, data[:300]
    assert b"retry-after: 5" in data.lower()

    first.sendall(big[100_000:])  # the first body completes and is stored
    status, data = _response(first)
    assert status == 200, data[:300]
    assert b'"added":1' in data


def _response(sock: socket.socket) -> tuple[int, bytes]:
    """The hub's complete answer (headers, then Content-Length bytes of body); closes the socket."""
    data = _read_head(sock)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length"))
    while len(body) < length:
        body += sock.recv(65536)
    sock.close()
    return int(head.split(b" ", 2)[1]), head + b"\r\n\r\n" + body
