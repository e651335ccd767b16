"""Sign-in attempts are counted per e-mail address and per client address (``web_signin_limit``)."""

from __future__ import annotations

import httpx
import pytest

from exchange.core.settings import Settings
from tests.web.conftest import PASSWORD, Portal
from tests.web.test_signin import form_token


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"web_signin_limit": "3/minute"})


def test_sign_in_attempts_are_rate_limited(portal: Portal) -> None:
    _, email = portal.person()
    with httpx.Client(timeout=60, base_url=portal.url, headers={"Accept": "text/html"}) as http:
        token = form_token(http)
        answers = [http.post("/signin", data={"csrf": token, "email": email, "password": f"guess {i} xxxxxxx"})
                   for i in range(4)]
        assert [a.status_code for a in answers] == [401, 401, 401, 429]
        assert int(answers[-1].headers["retry-after"]) > 0
        assert "Too many attempts" in answers[-1].text
        # the right password does not get through either, until the window passes
        late = http.post("/signin", data={"csrf": token, "email": email, "password": PASSWORD})
        assert late.status_code == 429
