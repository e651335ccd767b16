"""``serve --demo`` delivers in its own process: the demo's own alerts, a mail as an .eml file for the bakery
and a signed webhook as a logged line for the dental practice, with no second command."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from email import message_from_bytes, policy
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from exchange.alerts.models import Alert
from exchange.cli.demo import load_demo, start_delivery
from exchange.core.settings import Settings
from exchange.demo import DEMO_SME_DOMAINS, DEMO_SMES, DEMO_STEPS
from exchange.orgs import service as orgs
from tests.alerts.delivery.conftest import plain_text


def _until(done: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 30
    while not done():
        assert time.monotonic() < deadline, f"not done in 30 s: {what}"
        time.sleep(0.05)  # polling the in-process worker's output, not waiting for an outcome


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_demo_alerts_and_delivers_to_files(database_url: str, sessions: sessionmaker[Session], settings: Settings,
                                           tmp_path: Path) -> None:
    demo = Settings(database_url=database_url, delivery_dispatch_seconds=0.2)
    load_demo(demo)
    demo, jobs, sink = start_delivery(demo, tmp_path)
    with sessions() as s:
        bakery, dental = (orgs.get_by_slug(s, orgs.slugify(name)).pk for name in DEMO_SMES)

    def count(org_pk: int) -> int:
        with sessions() as s:
            return s.scalar(select(func.count()).select_from(Alert).where(Alert.org_pk == org_pk)) or 0

    mails, hooks = tmp_path / "mail", tmp_path / "webhooks.jsonl"
    try:
        _until(lambda: count(bakery) >= 3 and count(dental) >= 1, "the demo's alerts")
        _until(lambda: len([p for p in mails.glob("*.eml") if p.stat().st_size]) == count(bakery)
               and len(_lines(hooks)) == count(dental), "one mail per bakery alert, one webhook per dental alert")
    finally:
        jobs.shutdown(wait=True)
        sink.stop()
    received = [message_from_bytes(p.read_bytes(), policy=policy.default) for p in sorted(mails.glob("*.eml"))]
    assert {m["To"] for m in received} == {"it@bakery-example.test"}
    [login] = [plain_text(m) for m in received if f"login.{DEMO_SME_DOMAINS[0]}" in str(m["Subject"])]
    assert DEMO_STEPS[0] in login, "the demo CSIRT's own course of action"
    logged = [json.loads(line) for line in _lines(hooks)]
    assert all(line["signature_verified"] is True for line in logged)
    assert {line["event"]["data"]["organisation"] for line in logged} == {orgs.slugify(DEMO_SMES[1])}
