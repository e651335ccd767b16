"""What keeps pages fast on a big hub, checked for what it shows: the dashboard's "published this week" is
a count bounded at ``COUNT_UPTO`` (shown "N+"), not a count of every object of the week; and the query plans
that keep a page's cost with the page, not with the store (SQLite, which has no statistics to plan from)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import event, select

from exchange.alerts import service as alerts
from exchange.orgs.models import Org, Role
from exchange.store.models import StixObject
from exchange.web import dashboard, inbox
from exchange.web.advisory_feedback import REPORTS
from tests.factories import indicator
from tests.web.conftest import Portal, sign_in


def test_published_this_week_is_counted_up_to_a_bound(portal: Portal, page: Page,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    csirt, analyst = portal.person(Role.csirt)
    portal.publish(csirt, *(indicator(f"[domain-name:value = 'bad{i}.test']") for i in range(3)))
    sign_in(page, analyst)
    page.goto("/dashboard")
    expect(page.locator("#published")).to_have_text("3")
    monkeypatch.setattr(dashboard, "COUNT_UPTO", 2)
    page.goto("/dashboard")
    expect(page.locator("#published")).to_have_text("2+")


def test_the_alert_figures_are_a_range_of_the_publishers_alerts(portal: Portal) -> None:
    """The producer's alerts of the week are found by the alerts' (publisher, created) index, never through the
    object table: probing it once per alert of the hub cost 17 ms a page at 5,000 alerts, and SQLite, without
    planner statistics, once answered it through the publisher's object index (73 s at 100,000 objects)."""
    csirt, _ = portal.person(Role.csirt)
    with portal.sessions() as s:
        if s.get_bind().dialect.name != "sqlite":
            pytest.skip("PostgreSQL plans from the statistics it keeps (tests/stix/test_maintenance.py)")
        org = s.get_one(Org, csirt.org.pk)
        statements: list[tuple[str, Any]] = []

        def listener(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
            statements.append((statement, parameters))

        event.listen(s.get_bind(), "before_cursor_execute", listener)
        dashboard.figures(s, org, since=0)
        event.remove(s.get_bind(), "before_cursor_execute", listener)
        asked = [(q, p) for q, p in statements if "FROM alert" in q or "JOIN alert" in q]
        assert len(asked) == 2, "the alert figures: counts, then deliveries by status"
        for query, parameters in asked:
            plan = " ".join(map(str, s.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + query, parameters).all()))
            assert "ix_alert_publisher_created" in plan, plan
            assert "stix_object" not in plan, plan


def test_a_producers_reports_are_read_from_their_own_index(portal: Portal) -> None:
    """The advisories page lists the producer's reports newest first; without the partial index of reports it
    read every object the producer ever published to find them (21 ms at 100,000 indicators)."""
    csirt, _ = portal.person(Role.csirt)
    with portal.sessions() as s:
        if s.get_bind().dialect.name != "sqlite":
            pytest.skip("PostgreSQL plans from the statistics it keeps (tests/stix/test_maintenance.py)")
        query = (select(StixObject.pk).where(StixObject.publisher_org_pk == csirt.org.pk, REPORTS)
                 .order_by(StixObject.pk.desc()).limit(26))
        compiled = query.compile(s.get_bind(), compile_kwargs={"render_postcompile": True})
        plan = " ".join(map(str, s.connection().exec_driver_sql(
            f"EXPLAIN QUERY PLAN {compiled}", tuple(compiled.params.values())).all()))
    assert "ix_stix_object_reports" in plan, plan


def test_every_view_of_the_inbox_reads_one_page_of_an_index(portal: Portal) -> None:
    """An inbox of 5,000 alerts pages without loading them all: each view (open, fixed, all) is read from an
    index in its own order, so no page sorts the organisation's whole inbox first."""
    sme, _ = portal.person()
    with portal.sessions() as s:
        if s.get_bind().dialect.name != "sqlite":
            pytest.skip("PostgreSQL plans from the statistics it keeps (tests/stix/test_maintenance.py)")
        org = s.get_one(Org, sme.org.pk)
        statements: list[tuple[str, Any]] = []

        def listener(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
            statements.append((statement, parameters))

        event.listen(s.get_bind(), "before_cursor_execute", listener)
        for states in inbox.FILTERS.values():
            alerts.page(s, org, limit=inbox.PAGE_SIZE, after="1000", states=states)
        event.remove(s.get_bind(), "before_cursor_execute", listener)
        assert len(statements) == len(inbox.FILTERS)
        for query, parameters in statements:
            plan = " ".join(map(str, s.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + query, parameters).all()))
            assert "ix_alert_org" in plan, plan
            assert "TEMP B-TREE" not in plan, plan
