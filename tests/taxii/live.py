"""A live TAXII 2.1 server for the tests of this folder, and small helpers to talk to it.

One ``exchange serve`` process for the whole folder (a package-scoped fixture, so one per xdist
worker), on a free port, against the worker's test database. Tests create their own organisations and
collections; the ``sessions`` fixture empties the tables after each test. Server start-up is awaited by
reading its log (no sleeps); the log keeps being drained by a thread so the server never blocks on a
full pipe.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import re
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import orjson
from typer.testing import CliRunner

from exchange.bench.taxii_run import free_port
from exchange.cli import app as cli
from exchange.orgs.models import Role
from exchange.store.reads import DEFAULT_COLLECTION_ID
from tests.factories import indicator
from tests.orgs_factory import MakeOrg

EXCHANGE = str(Path(sys.executable).with_name("exchange"))

TAXII = "application/taxii+json;version=2.1"
STIX = "application/stix+json;version=2.1"
DEFAULT = DEFAULT_COLLECTION_ID

# Server settings of the live process; tests rely on these numbers.
MAX_PAGE_SIZE = 50
DEFAULT_PAGE_SIZE = 40
MAX_BODY_BYTES = 128 * 1024
QUEUE_FROM = 100  # envelopes this large are queued (the default, 500 objects, is over MAX_BODY_BYTES)

HEADER_TS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")
STIX_TS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z")
ERROR_KEYS = {"title", "description", "error_id", "error_code", "http_status", "external_details", "details"}


def ts(value: str) -> dt.datetime:
    """A STIX/TAXII timestamp as an aware datetime (compare instants, not spellings)."""
    assert STIX_TS.fullmatch(value), value
    return dt.datetime.fromisoformat(value)


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


class Log:
    """Collects a child's stderr in a thread; ``wait_for`` blocks on a condition, not a sleep."""

    def __init__(self, fd: int) -> None:
        self.data = b""
        self.closed = False
        self._cond = threading.Condition()
        self._fd = fd
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        while chunk := os.read(self._fd, 65536):
            with self._cond:
                self.data += chunk
                self._cond.notify_all()
        with self._cond:
            self.closed = True
            self._cond.notify_all()

    def wait_for(self, needle: bytes, timeout: float) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: needle in self.data or self.closed, timeout) and needle in self.data


@dataclass
class Server:
    base: str
    proc: subprocess.Popen[bytes]
    log: Log
    http: httpx.Client


@dataclass(frozen=True)
class Member:
    """An organisation and its key, as a client sees it."""

    slug: str
    key: str
    role: Role
    identity: str

    def sign(self, objects: list[Any]) -> list[Any]:
        """Name this org as the author of SDOs/SROs that name no one, in place, as the hub does when it
        stores them, so the test's copies stay equal to what the hub serves back."""
        if self.role != Role.admin:
            for o in objects:
                if isinstance(o, dict) and "created" in o and o.get("type") != "marking-definition":
                    o.setdefault("created_by_ref", self.identity)
        return objects

    @property
    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    @property
    def basic(self) -> dict[str, str]:
        return {"Authorization": "Basic " + base64.b64encode(f"{self.slug}:{self.key}".encode()).decode()}


def start_server(database_url: str, workdir: Path) -> Iterator[Server]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = os.environ | {
        "EXCHANGE_DATABASE_URL": database_url,
        "EXCHANGE_BASE_URL": base,
        "EXCHANGE_MAX_PAGE_SIZE": str(MAX_PAGE_SIZE),
        "EXCHANGE_DEFAULT_PAGE_SIZE": str(DEFAULT_PAGE_SIZE),
        "EXCHANGE_MAX_BODY_BYTES": str(MAX_BODY_BYTES),
        "EXCHANGE_INGEST_QUEUE_FROM": str(QUEUE_FROM),
        "EXCHANGE_LOG_LEVEL": "INFO",
        "EXCHANGE_RATE_LIMIT_PER_IP": "",  # the whole folder talks to one server from one address
        "EXCHANGE_RATE_LIMIT_PER_KEY": "",
        "COLUMNS": "200",
    }
    proc = subprocess.Popen([EXCHANGE, "serve", "--port", str(port)], env=env, cwd=workdir,
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
    assert proc.stderr is not None
    log = Log(proc.stderr.fileno())
    try:
        if not log.wait_for(b"Uvicorn running on", timeout=120):
            raise AssertionError(f"server did not start; its log:\n{log.data.decode(errors='replace')}")
        with httpx.Client(base_url=base, timeout=60) as http:
            yield Server(base, proc, log, http)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


# --- paths -------------------------------------------------------------------------------------------

COLLECTIONS = "/taxii2/default/collections/"


def root(api_root: str = "default") -> str:
    return f"/taxii2/{api_root}/"


def coll(cid: str = DEFAULT) -> str:
    return f"/taxii2/default/collections/{cid}/"


def objs(cid: str = DEFAULT) -> str:
    return coll(cid) + "objects/"


def obj(oid: str, cid: str = DEFAULT) -> str:
    return objs(cid) + f"{oid}/"


def versions(oid: str, cid: str = DEFAULT) -> str:
    return objs(cid) + f"{oid}/versions/"


def manifest(cid: str = DEFAULT) -> str:
    return coll(cid) + "manifest/"


def status(sid: str) -> str:
    return f"/taxii2/default/status/{sid}/"


def match(**filters: str) -> dict[str, str]:
    """Query parameters ``match[<name>]``."""
    return {f"match[{k}]": v for k, v in filters.items()}


# --- checks ------------------------------------------------------------------------------------------

def content_type(r: httpx.Response) -> str:
    return str(r.headers.get("content-type", "")).replace(" ", "").lower()


def check_error(r: httpx.Response, code: int) -> dict[str, Any]:
    """A TAXII error message (section 3.6.1) with the right status, media type and fields."""
    assert r.status_code == code, f"{r.request.method} {r.request.url} -> {r.status_code}: {r.text[:500]}"
    assert content_type(r) == TAXII, r.headers.get("content-type")
    body = r.json()
    assert isinstance(body, dict), body
    assert set(body) <= ERROR_KEYS, body
    assert {"title", "description", "error_id", "error_code", "http_status"} <= set(body), body
    for key in ("title", "description", "error_id", "error_code", "http_status"):
        assert isinstance(body[key], str), (key, body)
    assert body["title"], body
    assert body["http_status"] == str(code), body
    assert isinstance(body.get("details", {}), dict), body
    return body


def expect(r: httpx.Response, code: int = 200) -> Any:
    """The JSON body of a TAXII response with status ``code`` (error bodies are checked too)."""
    if code >= 400:
        return check_error(r, code)
    assert r.status_code == code, f"{r.request.method} {r.request.url} -> {r.status_code}: {r.text[:500]}"
    assert content_type(r) == TAXII, r.headers.get("content-type")
    return r.json()


def ids(envelope: dict[str, Any]) -> list[str]:
    return [o["id"] for o in envelope.get("objects", [])]


def flat(pages: list[list[Any]]) -> list[str]:
    return [item["id"] for page in pages for item in page]


def is_last_page(envelope: dict[str, Any]) -> bool:
    """``more`` false (or absent) and no ``next``; with ``more`` true a ``next`` is required."""
    if envelope.get("more", False):
        assert isinstance(envelope.get("next"), str), envelope
        assert envelope["next"], envelope
        return False
    assert not envelope.get("next"), envelope
    return True


# --- STIX objects ------------------------------------------------------------------------------------

def many(n: int, **extra: Any) -> list[dict[str, Any]]:
    tag = uuid.uuid4().hex[:8]
    return [indicator(f"[domain-name:value = 'd{i}-{tag}.example']", **extra) for i in range(n)]


def sdo(type_: str, **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "type": type_,
        "spec_version": "2.1",
        "id": f"{type_}--{uuid.uuid4()}",
        "created": "2024-01-01T00:00:00.000Z",
        "modified": "2024-01-01T00:00:00.000Z",
        "name": f"test {type_}",
    }
    if type_ == "malware":
        base["is_family"] = False
    return base | extra


def version_of(o: dict[str, Any], modified: str, **changes: Any) -> dict[str, Any]:
    return o | {"modified": modified} | changes


# --- the per-test handle -----------------------------------------------------------------------------

class Hub:
    """The live server plus the ways a test acts on it (HTTP as some member, CLI as the operator)."""

    def __init__(self, server: Server, make_org: MakeOrg) -> None:
        self.server = server
        self.base = server.base
        self.http = server.http
        self._make_org = make_org
        self._runner = CliRunner()

    def member(self, role: Role = Role.csirt) -> Member:
        org, key = self._make_org(role)
        return Member(org.slug, key, role, org.identity_id)

    def request(self, method: str, path: str, who: Member | None = None, *, accept: str | None = TAXII,
                headers: dict[str, str] | None = None, **kwargs: Any) -> httpx.Response:
        h: dict[str, str] = {}
        if accept is not None:
            h["Accept"] = accept
        if who is not None:
            h |= who.bearer
        h |= headers or {}
        return self.http.request(method, path, headers=h, **kwargs)

    def get(self, path: str, who: Member | None = None, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, who, **kwargs)

    def delete(self, path: str, who: Member | None = None, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", path, who, **kwargs)

    def post(self, path: str, who: Member | None, body: Any, *, content_type: str | None = TAXII,
             **kwargs: Any) -> httpx.Response:
        if who is not None and isinstance(body, dict) and isinstance(body.get("objects"), list):
            who.sign(body["objects"])
        content = body if isinstance(body, bytes) else orjson.dumps(body)
        headers = kwargs.pop("headers", {}) | ({"Content-Type": content_type} if content_type else {})
        return self.request("POST", path, who, content=content, headers=headers, **kwargs)

    def publish(self, who: Member, objects: list[dict[str, Any]], cid: str = DEFAULT) -> dict[str, Any]:
        """POST an envelope; every object must be accepted. Returns the status resource."""
        body = expect(self.post(objs(cid), who, {"objects": objects}), 202)
        if body["status"] == "pending":  # a large envelope: queued, stored in the background
            body = self.completed(who, body["id"])
        assert body["failure_count"] == 0, body
        assert body["status"] == "complete", body
        completed: dict[str, Any] = body
        return completed

    def completed(self, who: Member, status_id: str, timeout: float = 60) -> dict[str, Any]:
        """The status resource once it is final, polled as a TAXII client would."""
        deadline = time.monotonic() + timeout
        while True:
            body: dict[str, Any] = expect(self.get(status(status_id), who))
            if body["status"] == "complete" or time.monotonic() > deadline:
                return body
            time.sleep(0.02)

    def page(self, path: str, who: Member | None, **params: Any) -> tuple[dict[str, Any], httpx.Response]:
        """One 200 response of a listing endpoint: its body and the response (for headers)."""
        r = self.get(path, who, params=params)
        return expect(r), r

    def pages(self, path: str, who: Member | None, *, key: str = "objects", **params: Any) -> list[list[Any]]:
        """Follow ``next`` (repeating the other parameters) until ``more`` is false; the items per page."""
        found: list[list[Any]] = []
        token = None
        while True:
            body, _ = self.page(path, who, **params, **({"next": token} if token else {}))
            found.append(body.get(key, []))
            if is_last_page(body):
                return found
            token = body["next"]
            assert len(found) < 1000, "paging does not end"

    def cli(self, *args: str) -> str:
        result = self._runner.invoke(cli, list(args))
        assert result.exit_code == 0, (args, result.output, result.exception)
        return result.stdout

    def create_collection(self, *flags: str, title: str | None = None) -> str:
        out = self.cli("collection", "create", "--title", title or f"c {uuid.uuid4().hex[:6]}", *flags, "--json")
        cid = json.loads(out)["id"]
        assert isinstance(cid, str)
        return cid

    def grant(self, cid: str, member: Member, *flags: str) -> None:
        self.cli("collection", "grant", cid, member.slug, *flags)

    def with_scopes(self, member: Member, scopes: str) -> Member:
        """The same organisation holding another key, with only these scopes (e.g. "read,write")."""
        issued = json.loads(self.cli("key", "create", "--org", member.slug, "--scopes", scopes, "--json"))
        return replace(member, key=issued["api_key"])
