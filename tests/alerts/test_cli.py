"""``exchange alert match|list|answer`` as an operator runs them."""

from __future__ import annotations

import json

from typer.testing import CliRunner, Result

from exchange.assets.models import AssetKind
from exchange.cli import app
from exchange.orgs.models import Role
from tests.alerts.conftest import World
from tests.factories import indicator

runner = CliRunner()


def run(*args: str) -> Result:
    return runner.invoke(app, list(args))


def test_match_then_list_then_answer(world: World) -> None:
    sme = world.org().org
    csirt = world.org(Role.csirt).org
    world.asset(sme, AssetKind.domain, "bakery.test")
    world.publish(csirt, indicator("[domain-name:value = 'pay.bakery.test']"), indicator())
    matched = run("alert", "match", "--json")
    assert matched.exit_code == 0, matched.output
    assert json.loads(matched.stdout) | {"objects": 0} == {"objects": 0, "created": 1, "withheld": 0,
                                                           "escalated": 0, "cleared": 0}
    listed = json.loads(run("alert", "list", "--org", sme.slug, "--json").stdout)
    assert [(a["matched"], a["state"]) for a in listed] == [("pay.bakery.test", "new")]
    answered = run("alert", "answer", str(listed[0]["id"]), "fixed")
    assert answered.exit_code == 0, answered.output
    assert [a.state for a in world.alerts(sme)] == ["fixed"]
    assert run("alert", "answer", "999999999", "fixed").exit_code == 1
    assert run("alert", "answer", str(listed[0]["id"]), "cleared").exit_code == 1  # not an answer
