"""The feed records and the runner: REST under /api/v1/feeds, the CLI's refusals, relaying through a
feed a CSIRT owns, the worker's job."""

from __future__ import annotations

from fastapi.testclient import TestClient
from pytest_httpserver import HTTPServer
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from exchange.core.db import transaction
from exchange.core.settings import Settings
from exchange.feeds import jobs
from exchange.feeds.models import Feed
from exchange.orgs.models import Role
from exchange.store.models import StixObject
from tests.feeds.helpers import add, cli, current, run
from tests.orgs_factory import MakeOrg, auth

OASIS_AUTHOR = "identity--a463ffb3-1bd9-4d94-b02d-74e4f1658283"


def test_feeds_over_rest_are_for_admins(client: TestClient, make_org: MakeOrg, httpserver: HTTPServer) -> None:
    _, admin = make_org(Role.admin)
    _, csirt = make_org(Role.csirt)
    body = {"name": "kev", "kind": "kev", "url": httpserver.url_for("/kev.json"), "every": "1d", "tlp": "clear"}
    assert client.post("/api/v1/feeds", json=body, headers=auth(csirt)).status_code == 403
    created = client.post("/api/v1/feeds", json=body, headers=auth(admin))
    assert created.status_code == 201, created.text
    assert (created.json()["every_seconds"], created.json()["tlp"]) == (86400, "clear")
    assert client.post("/api/v1/feeds", json=body, headers=auth(admin)).status_code == 409
    for bad in ({"kind": "gopher"}, {"every": "5s"}, {"url": "ftp://x.example/"}, {"every": "soon"}):
        refused = client.post("/api/v1/feeds", json=body | {"name": "other"} | bad, headers=auth(admin))
        assert refused.status_code in (400, 422), (bad, refused.text)
    httpserver.expect_request("/kev.json").respond_with_json({"vulnerabilities": []})
    assert run("kev") == {"fetched": 0, "added": 1, "duplicates": 0, "rejected": 0}  # the source's identity
    runs = client.get("/api/v1/feeds/kev/runs", headers=auth(admin)).json()["runs"]
    assert [(r["added"], r["error"]) for r in runs] == [(1, None)]
    assert client.post("/api/v1/feeds/kev/run", headers=auth(admin)).status_code == 202
    assert client.get("/api/v1/feeds/kev", headers=auth(admin)).json()["last_run"] is None  # due again
    assert client.delete("/api/v1/feeds/kev", headers=auth(admin)).status_code == 204
    assert client.get("/api/v1/feeds/kev", headers=auth(admin)).status_code == 404


def test_a_feed_a_csirt_owns_relays_keeping_the_author(settings: Settings, sessions: sessionmaker[Session],
                                                       make_org: MakeOrg, httpserver: HTTPServer) -> None:
    csirt = make_org(Role.csirt).org
    sme = make_org(Role.sme).org
    assert "relays others' objects" in cli("feed", "add", "--name", "x", "--kind", "csv", "--url", "http://a.example/",
                                           "--owner", sme.slug).output
    httpserver.expect_request("/ips.txt").respond_with_data("192.0.2.9\n")
    add("relayed", "csv", httpserver.url_for("/ips.txt"), "--owner", csirt.slug)
    assert run("relayed")["added"] == 2
    (indicator,) = current(sessions, "indicator").values()
    (identity,) = current(sessions, "identity").values()
    assert indicator["created_by_ref"] == identity["id"] != csirt.identity_id  # the source wrote it
    with transaction(sessions) as session:
        producers = set(session.scalars(select(StixObject.publisher_org_pk)))
    assert producers == {csirt.pk}  # the CSIRT relayed it


def test_the_worker_job_runs_due_feeds_only(settings: Settings, sessions: sessionmaker[Session],
                                            httpserver: HTTPServer) -> None:
    httpserver.expect_request("/ips.txt").respond_with_data("192.0.2.9\n")
    add("a", "csv", httpserver.url_for("/ips.txt"), "--every", "1h")
    add("b", "csv", httpserver.url_for("/ips.txt"), "--every", "1h")
    assert cli("feed", "run", "b").exit_code == 0
    with transaction(sessions) as session:
        jobs.run_due_feeds(session)
    with transaction(sessions) as session:
        runs = dict(session.execute(select(Feed.name, Feed.last_run_at)).all())
    assert len(httpserver.log) == 2  # b ran from the command line, a from the job; b was not due
    assert all(runs.values())


def test_a_missing_password_variable_fails_the_run_clearly(settings: Settings) -> None:
    add("locked", "taxii", "http://127.0.0.1:9/taxii2/", "--password-env", "NO_SUCH_VARIABLE_HERE")
    failed = run("locked", ok=False)
    assert failed["error"] == "the environment variable NO_SUCH_VARIABLE_HERE (the feed's password) is not set"
    assert "locked" in cli("feed", "list").output
    assert cli("feed", "show", "locked", "--json").exit_code == 0
