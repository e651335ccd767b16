"""What the feed and connector tests share: running the ``exchange feed`` commands in-process and
reading back what a feed stored."""

from __future__ import annotations

import json
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner, Result

from exchange.cli import app
from exchange.core.db import transaction
from exchange.store.models import StixObject

runner = CliRunner()


def cli(*args: str) -> Result:
    return runner.invoke(app, list(args))


def add(name: str, kind: str, url: str, *extra: str) -> None:
    result = cli("feed", "add", "--name", name, "--kind", kind, "--url", url, *extra)
    assert result.exit_code == 0, result.output


def run(name: str, *, ok: bool = True) -> dict[str, Any]:
    """``exchange feed run NAME --json``'s counts."""
    result = cli("feed", "run", name, "--json")
    assert (result.exit_code == 0) is ok, result.output
    counts: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return counts


def current(sessions: sessionmaker[Session], type_: str) -> dict[str, dict[str, Any]]:
    """The current version of every stored object of a type, by id."""
    with transaction(sessions) as session:
        rows = session.scalars(select(StixObject.raw).where(StixObject.type == type_, StixObject.is_latest))
        return {o["id"]: o for o in map(orjson.loads, rows)}
