"""``serve --demo`` delivers in its own process: a mail as an .eml file, a signed webhook as a logged line."""

from __future__ import annotations

import json
import time
from email import message_from_bytes, policy
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from exchange.cli.demo import load_demo, start_delivery
from exchange.core import db
from exchange.core.settings import Settings
from exchange.demo import DEMO_SMES
from exchange.orgs import service as orgs
from tests.alerts.delivery.conftest import make_alert, plain_text


def _wait_for(path: Path, pattern: str) -> list[Path]:
    deadline = time.monotonic() + 20
    while not (found := sorted(path.glob(pattern))) or not all(p.stat().st_size for p in found):
        assert time.monotonic() < deadline, f"nothing at {path / pattern}"
        time.sleep(0.05)  # polling for the in-process worker's file, not waiting for an outcome
    return found


def test_demo_delivers_to_files(database_url: str, sessions: sessionmaker[Session], settings: Settings,
                                tmp_path: Path) -> None:
    demo = Settings(database_url=database_url, delivery_dispatch_seconds=0.2)
    load_demo(demo)
    demo, jobs, sink = start_delivery(demo, tmp_path)
    try:
        with db.transaction(sessions) as s:
            bakery, dental = (orgs.get_by_slug(s, orgs.slugify(name)) for name in DEMO_SMES)
            csirt = orgs.get_by_slug(s, "demo-national-csirt")
            make_alert(s, bakery, csirt, tlp="green", name="Fake bakery login")
            make_alert(s, dental, csirt, tlp="green", name="Fake dental login", asset="dental.example")
        [eml] = _wait_for(tmp_path / "mail", "*.eml")
        _wait_for(tmp_path, "webhooks.jsonl")
    finally:
        jobs.shutdown(wait=True)
        sink.stop()
    mail = message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert mail["To"] == "it@bakery-example.test"
    assert "Fake bakery login" in plain_text(mail)
    [line] = (tmp_path / "webhooks.jsonl").read_text().splitlines()
    logged = json.loads(line)
    assert logged["signature_verified"] is True
    assert logged["event"]["data"]["title"] == "Fake dental login"
