"""What keeps pages fast on a big hub, checked for what it shows: the dashboard's "published this week" is
ingest's hourly tally, not a count of every object of the week; and the query plans
that keep a page's cost with the page, not with the store (SQLite, which has no statistics to plan from)."""

from __future__ import annotations

import re
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import anyio.to_thread
import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect
from sqlalchemy import event, select
from sqlalchemy.orm import Session
from starlette.requests import Request

from exchange.alerts import service as alerts
from exchange.alerts.models import Alert, AlertKind, Severity, SourceGrade
from exchange.app import create_app
from exchange.core import db
from exchange.core.db import transaction
from exchange.core.settings import Settings
from exchange.core.timestamps import HOUR, now_micros
from exchange.orgs import users
from exchange.orgs.models import Org, Role, UserRole
from exchange.store.models import StixObject
from exchange.web import dashboard, inbox
from exchange.web.advisory_feedback import REPORTS
from tests.factories import indicator
from tests.orgs_factory import MakeOrg
from tests.web.conftest import PASSWORD, Portal, sign_in


def _sqlite_only(session: Session) -> None:
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("PostgreSQL plans from the statistics it keeps (tests/stix/test_maintenance.py)")


def _statements(session: Session, work: Callable[[], object]) -> list[tuple[str, Any]]:
    """The (SQL, parameters) ``work`` sends."""
    sent: list[tuple[str, Any]] = []

    def listener(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        sent.append((statement, parameters))

    event.listen(session.get_bind(), "before_cursor_execute", listener)
    try:
        work()
    finally:
        event.remove(session.get_bind(), "before_cursor_execute", listener)
    return sent


def _plan(session: Session, statement: str, parameters: Any) -> str:
    return " ".join(map(str, session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + statement,
                                                                  parameters).all()))


def test_published_this_week_is_the_publishers_hourly_tally(portal: Portal, page: Page) -> None:
    """Every version counts, an ingest that stores nothing counts nothing, and the week starts at the start of
    the hour a week ago: the figure is a sum of the hours ingest tallied, never a count of the week's objects."""
    csirt, analyst = portal.person(Role.csirt)
    first = indicator("[domain-name:value = 'bad0.test']")
    portal.publish(csirt, first, *(indicator(f"[domain-name:value = 'bad{i}.test']") for i in (1, 2)))
    portal.publish(csirt, {**first, "modified": "2024-02-01T00:00:00.000Z"})  # a new version
    sign_in(page, analyst)
    page.goto("/dashboard")
    expect(page.locator("#published")).to_have_text("4")
    portal.publish(csirt, first)  # a duplicate: a success that adds nothing
    page.reload()
    expect(page.locator("#published")).to_have_text("4")
    now = now_micros()
    with portal.sessions() as s:
        org = s.get_one(Org, csirt.org.pk)
        assert dashboard.figures(s, org, since=now - dashboard.WEEK).published == 4
        assert dashboard.figures(s, org, since=now + HOUR).published == 0  # from the next hour on


def test_the_alert_figures_are_a_range_of_the_publishers_alerts(portal: Portal) -> None:
    """The producer's alerts of the week are found by the alerts' (publisher, created) index, never through the
    object table: probing it once per alert of the hub cost 17 ms a page at 5,000 alerts, and SQLite, without
    planner statistics, once answered it through the publisher's object index (73 s at 100,000 objects)."""
    csirt, _ = portal.person(Role.csirt)
    with portal.sessions() as s:
        _sqlite_only(s)
        org = s.get_one(Org, csirt.org.pk)
        statements = _statements(s, lambda: dashboard.figures(s, org, since=0))
        asked = [(q, p) for q, p in statements if "FROM alert" in q or "JOIN alert" in q]
        assert len(asked) == 2, "the alert figures: counts, then deliveries by status"
        for query, parameters in asked:
            plan = _plan(s, query, parameters)
            assert "ix_alert_publisher_created" in plan, plan
            assert "stix_object" not in plan, plan


def test_a_producers_reports_are_read_from_their_own_index(portal: Portal) -> None:
    """The advisories page lists the producer's reports newest first; without the partial index of reports it
    read every object the producer ever published to find them (21 ms at 100,000 indicators)."""
    csirt, _ = portal.person(Role.csirt)
    with portal.sessions() as s:
        _sqlite_only(s)
        query = (select(StixObject.pk).where(StixObject.publisher_org_pk == csirt.org.pk, REPORTS)
                 .order_by(StixObject.pk.desc()).limit(26))
        compiled = query.compile(s.get_bind(), compile_kwargs={"render_postcompile": True})
        plan = _plan(s, str(compiled), tuple(compiled.params.values()))
    assert "ix_stix_object_reports" in plan, plan


def test_every_view_of_the_inbox_reads_one_page_of_an_index(portal: Portal) -> None:
    """An inbox of 5,000 alerts pages without loading them all: each view (open, fixed, all) is read from an
    index in its own order, so no page sorts the organisation's whole inbox first."""
    sme, _ = portal.person()
    with portal.sessions() as s:
        _sqlite_only(s)
        org = s.get_one(Org, sme.org.pk)
        statements = _statements(s, lambda: [alerts.page(s, org, limit=inbox.PAGE_SIZE, after="1000", states=states)
                                             for states in inbox.FILTERS.values()])
        assert len(statements) == len(inbox.FILTERS)
        for query, parameters in statements:
            plan = _plan(s, query, parameters)
            assert "ix_alert_org" in plan, plan
            assert "TEMP B-TREE" not in plan, plan


def test_a_page_of_the_inbox_reads_its_objects_by_id_and_asks_the_read_rule_of_those_versions_alone(
        portal: Portal, settings: Settings) -> None:
    """The inbox composes its subjects from the versions of the page's objects, read through the id index, and
    asks the read rule of those versions only (one statement over (organisation, version) pairs). The rule put
    inside the versions query was tried: at 1M objects SQLite scanned the object table (305 ms a page, against
    0.2 ms for the two statements), a plan a small database does not show. So the shape, two statements, is
    pinned here as well as their indexes."""
    sme, _ = portal.person()
    csirt, _ = portal.person(Role.csirt)
    published = [indicator(f"[domain-name:value = 'bad{i}.test']") for i in range(3)]
    portal.publish(csirt, *published)
    listed = [Alert(pk=n + 1, object_id=obj["id"], object_modified=0, asset_pk=None, match_key="shop.test",
                    kind=AlertKind.listed.value, severity=Severity.high.value, grade=SourceGrade.probable.value,
                    matched=f"bad{n}.test", withheld=False) for n, obj in enumerate(published)]
    with portal.sessions() as s:
        _sqlite_only(s)
        org = s.get_one(Org, sme.org.pk)
        request = Request({"type": "http", "app": SimpleNamespace(state=SimpleNamespace(settings=settings)),
                           "state": {"web": SimpleNamespace(org=org), "language": "en"}})
        statements = _statements(s, lambda: inbox.rows(request, s, alerts.Page(listed, None, {})))
        reads = [(q, p) for q, p in statements if "stix_object" in q]
        assert len(reads) == 2, "the versions, then the read rule over (organisation, version) pairs"
        for query, parameters in reads:
            plan = _plan(s, query, parameters)
            assert "SCAN stix_object" not in plan, plan
            assert "ix_stix_object_stix_id" in plan or "INTEGER PRIMARY KEY" in plan, plan


def test_a_page_hands_work_to_the_thread_pool_only_where_it_waits_for_the_database(
        settings: Settings, make_org: MakeOrg, monkeypatch: pytest.MonkeyPatch) -> None:
    """FastAPI runs each plain dependency and endpoint in a worker thread, and every hand-off waits for the
    interpreter lock behind the pages being computed. A signed-in page hands over four times (the session opened,
    the person's session resumed, the page, the session closed); every check that waits for nothing runs on the
    event loop (decision 0014, "Hand-offs")."""
    who = make_org(Role.csirt)
    with transaction(db.make_sessionmaker(db.make_engine(settings.database_url))) as s:
        users.create(s, s.get_one(Org, who.org.pk), email="analyst@hand-offs.test", role=UserRole.owner,
                     password=PASSWORD)
    handed: list[object] = []
    real = anyio.to_thread.run_sync

    async def counting(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        handed.append(func)
        return await real(func, *args, **kwargs)

    app = create_app(settings)
    with TestClient(app) as http:
        token = re.search(r'name="csrf" value="([^"]+)"', http.get("/signin").text)
        assert token is not None
        assert http.post("/signin", data={"csrf": token.group(1), "email": "analyst@hand-offs.test",
                                          "password": PASSWORD}, follow_redirects=False).status_code == 303
        monkeypatch.setattr(anyio.to_thread, "run_sync", counting)
        for path in ("/lookup", "/inbox", "/dashboard", "/roster", "/objects?type=indicator"):
            handed.clear()
            assert http.get(path).status_code == 200, path
            assert len(handed) == 4, (path, handed)
    app.state.engine.dispose()
