"""`exchange serve --demo` prints a web sign-in for the demo SME, CSIRT and ISAC, and each one works."""

from __future__ import annotations

import re

import httpx

from tests.test_serve import demo_server  # noqa: F401 - the real `serve --demo` process
from tests.web.test_signin import form_token


def test_serve_demo_prints_working_web_sign_ins(demo_server: tuple[str, dict[str, str], bytes]) -> None:  # noqa: F811
    base, _, log = demo_server
    text = log.decode()
    signins = re.findall(r"  (.+) \((sme|csirt|isac)\)\n    e-mail:   (\S+)\n    password: (\S+)", text)
    assert {role for _, role, _, _ in signins} == {"sme", "csirt", "isac"}, text
    for organisation, _, email, password in signins:
        with httpx.Client(timeout=60, base_url=base) as http:
            signed = http.post("/signin", data={"csrf": form_token(http), "email": email, "password": password})
            assert (signed.status_code, signed.headers["location"]) == (303, "/inbox")
            inbox = http.get("/inbox")
            assert inbox.status_code == 200
            assert organisation in inbox.text
            assert email in inbox.text
