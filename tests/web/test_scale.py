"""What keeps pages fast on a big hub, checked for what it shows: the dashboard's "published this week" is
a count bounded at ``COUNT_UPTO`` (shown "N+"), not a count of every object of the week."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from exchange.orgs.models import Role
from exchange.web import dashboard
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
