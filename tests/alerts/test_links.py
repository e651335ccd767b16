"""One-click answer links take any text a mail client or a person may mangle them into, and answer with a
404, never a 500: a non-ASCII signature once reached ``hmac.compare_digest`` and raised."""

from __future__ import annotations

from urllib.parse import quote

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import select

from exchange.alerts import links
from exchange.alerts.models import Alert, AlertState
from exchange.assets.models import AssetKind
from exchange.orgs.models import Role
from tests.alerts.conftest import World
from tests.factories import indicator


def _real_token(world: World) -> str:
    sme, csirt = world.org(), world.org(Role.csirt)
    world.asset(sme.org, AssetKind.domain, "bakery.test")
    world.publish(csirt.org, indicator("[domain-name:value = 'a.bakery.test']"))
    world.match()
    with world.sessions() as s:
        alert = s.scalars(select(Alert).where(Alert.org_pk == sme.org.pk)).one()
        return links.token(s, alert.pk, AlertState.fixed)


def test_mangled_real_tokens_are_404(world: World, client: TestClient) -> None:
    token = _real_token(world)
    pk, answer, expires, signature = token.split(".")
    mangled = [
        f"{pk}.{answer}.{expires}.{signature[:-1]}é",  # non-ASCII in the signature: was a 500
        f"{pk}.{answer}.{expires}.{signature[:-1]}\u0663",  # an Arabic-Indic digit
        f"\u00b2.{answer}.{expires}.{signature}",  # "²" passes str.isdigit, not int()
        f"{pk}.{answer}.\u0661\u0662.{signature}",
        f"{pk}.{answer}.{expires}.{signature}.",
        f"{pk}.{answer}.{expires}.{signature}=",
        f"0{pk}.{answer}.{expires}.{signature}",  # same number, other text: the signature covers the text
    ]
    for text in mangled:
        assert client.post(f"/a/{quote(text, safe='')}").status_code == 404, text
        assert client.get(f"/a/{quote(text, safe='')}").status_code == 404, text
    assert client.get(f"/a/{token}").status_code == 200  # the real one still works


@hypothesis_settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(min_size=1, max_size=120) | st.from_regex(r"[0-9]{1,20}\.[a-z-]{1,12}\.[0-9]{1,12}\.\S{0,50}",
                                                            fullmatch=True))
def test_any_text_is_a_4xx_never_a_500(client: TestClient, text: str) -> None:
    for method in ("GET", "POST"):
        status = client.request(method, f"/a/{quote(text, safe='')}").status_code
        assert 400 <= status < 500, (method, text, status)
