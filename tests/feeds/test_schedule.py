"""Cron schedules: a feed with a cron is due once the first time its expression names after its last
run has come (not once per missed time), checked by the worker's job against a real feed."""

from __future__ import annotations

import datetime as dt
import json

from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from exchange.core.db import transaction
from exchange.core.settings import Settings
from exchange.feeds import jobs
from exchange.feeds.models import Feed
from exchange.feeds.schedule import MIN_EVERY_SECONDS, format_every, is_due, parse_every
from exchange.orgs.models import Role
from tests.feeds.helpers import add, cli
from tests.orgs_factory import MakeOrg, auth

DAILY = "0 6 * * *"


def at(text: str) -> int:
    return int(dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC).timestamp() * 1_000_000)


def test_a_cron_feed_is_due_once_after_its_last_run() -> None:
    last = at("2024-01-01T06:00:00.250")  # the 06:00 run itself
    assert not is_due(last, 3600, DAILY, at("2024-01-01T07:30:00"))  # an interval of 1 h would say due
    assert not is_due(last, 3600, DAILY, at("2024-01-02T05:59:59"))
    assert is_due(last, 3600, DAILY, at("2024-01-02T06:00:00"))
    assert is_due(last, 3600, DAILY, at("2024-01-09T10:00:00"))  # a week down: due (once: the run moves last)
    assert not is_due(at("2024-01-09T10:00:01"), 3600, DAILY, at("2024-01-09T23:00:00"))
    assert is_due(None, 3600, DAILY, at("2024-01-01T00:00:00"))  # never ran
    assert is_due(last, 3600, None, at("2024-01-01T07:00:00.250"))  # without a cron: the interval


def test_the_worker_runs_a_cron_feed_when_its_time_has_come(settings: Settings, sessions: sessionmaker[Session],
                                                             httpserver: HTTPServer) -> None:
    httpserver.expect_request("/ips.txt").respond_with_data("192.0.2.9\n")
    add("yearly", "csv", httpserver.url_for("/ips.txt"), "--cron", "0 6 1 1 *", "--every", "1m")
    for _ in range(2):
        with transaction(sessions) as session:
            jobs.run_due_feeds(session)
    assert len(httpserver.log) == 1  # it never ran: due; then not before next 1 January, whatever --every says
    year = dt.datetime.now(dt.UTC).year
    with transaction(sessions) as session:
        session.execute(update(Feed).where(Feed.name == "yearly").values(last_run_at=at(f"{year - 1}-12-31T00:00:00")))
    with transaction(sessions) as session:
        jobs.run_due_feeds(session)
    assert len(httpserver.log) == 2
    assert json.loads(cli("feed", "show", "yearly", "--json").output)["feed"]["cron"] == "0 6 1 1 *"


def test_bad_cron_expressions_are_refused(settings: Settings, client: TestClient, make_org: MakeOrg) -> None:
    refused = cli("feed", "add", "--name", "x", "--kind", "csv", "--url", "http://a.example/", "--cron", "0 25 * * *")
    assert refused.exit_code != 0
    assert "cron" in refused.output
    _, admin = make_org(Role.admin)
    body = {"name": "kev", "kind": "kev", "url": "http://a.example/kev.json"}
    for bad in ("0 6 * *", "61 * * * *", "every day"):
        answer = client.post("/api/v1/feeds", json=body | {"cron": bad}, headers=auth(admin))
        assert answer.status_code in (400, 422), (bad, answer.text)
    created = client.post("/api/v1/feeds", json=body | {"cron": "30  6 * * 1-5"}, headers=auth(admin))
    assert created.status_code == 201, created.text
    assert created.json()["cron"] == "30 6 * * 1-5"


@given(seconds=st.integers(min_value=MIN_EVERY_SECONDS, max_value=400 * 86400))
def test_an_interval_is_shown_as_it_is_typed(seconds: int) -> None:
    """The feed page shows the interval the way the form takes it, and reading it back gives the same seconds."""
    shown = format_every(seconds)
    assert parse_every(shown) == seconds
    assert shown[-1] in "smhd"


def test_an_interval_is_shown_in_its_largest_whole_unit() -> None:
    assert [format_every(s) for s in (90, 1800, 3600, 5400, 86400, 172800)] == ["90s", "30m", "1h", "90m", "1d",
                                                                             "2d"]
