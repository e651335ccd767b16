"""Hardening of the HTTP edge besides rate limits: CORS, what errors and logs give away, the media
types a publish accepts, who reads /metrics, and absolute URLs from the configured base URL."""

from __future__ import annotations

import json
import logging

import orjson
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from exchange.app import create_app
from exchange.core.media import TAXII
from exchange.core.settings import Settings
from exchange.orgs.models import Role
from exchange.store.reads import DEFAULT_COLLECTION_ID
from tests.factories import bundle, indicator
from tests.orgs_factory import MakeOrg, auth, basic
from tests.serving import NO_LIMITS, serving

# --- CORS ---------------------------------------------------------------------------------------------

PORTAL = "https://portal.example"
PREFLIGHT = {"Origin": PORTAL, "Access-Control-Request-Method": "POST",
             "Access-Control-Request-Headers": "authorization, content-type"}


def test_cross_origin_access_is_off_by_default(settings: Settings) -> None:
    with serving(settings) as client:
        simple = client.get("/healthz", headers={"Origin": PORTAL})
        preflight = client.options("/api/v1/objects", headers=PREFLIGHT)
    for r in (simple, preflight):
        assert not any(name.startswith("access-control-") for name in r.headers), r.headers


def test_configured_origins_may_call_the_api_and_others_may_not(settings: Settings) -> None:
    with serving(settings, cors_origins=[PORTAL], rate_limit_per_ip="1/minute") as client:
        preflight = client.options("/api/v1/objects", headers=PREFLIGHT)
        other = client.options("/api/v1/objects", headers=PREFLIGHT | {"Origin": "https://evil.example"})
        simple = client.get("/api/v1/objects", headers={"Origin": PORTAL})
        throttled = client.get("/api/v1/objects", headers={"Origin": PORTAL})  # preflights are not counted
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == PORTAL
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
    assert "access-control-allow-credentials" not in preflight.headers
    assert "access-control-allow-origin" not in other.headers
    assert simple.headers["access-control-allow-origin"] == PORTAL
    # a script must be able to read a 429 and its Retry-After, or it cannot back off
    assert throttled.status_code == 429
    assert throttled.headers["access-control-allow-origin"] == PORTAL
    assert "retry-after" in throttled.headers["access-control-expose-headers"].lower()


def test_cors_origins_are_read_from_the_environment_as_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXCHANGE_CORS_ORIGINS", json.dumps([PORTAL, "http://127.0.0.1:3000"]))
    assert Settings().cors_origins == [PORTAL, "http://127.0.0.1:3000"]


# --- what errors and logs give away -------------------------------------------------------------------


def test_an_unexpected_error_is_a_generic_500(settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    app = create_app(Settings(**(settings.model_dump() | NO_LIMITS)))

    def explode() -> None:
        raise RuntimeError("db password is hunter2, see /srv/exchange/secrets.py")

    app.add_api_route("/explode", explode)
    app.add_api_route("/taxii2/boom/explode", explode)  # under /taxii2/, but matching no TAXII route
    with TestClient(app, raise_server_exceptions=False) as client:
        answers = [client.get("/explode"), client.get("/taxii2/boom/explode")]
    app.state.engine.dispose()
    for r in answers:
        assert r.status_code == 500
        assert r.json()["http_status"] == "500"
        for leak in ("hunter2", "secrets.py", "RuntimeError", "Traceback", "explode"):
            assert leak not in r.text
    assert answers[0].headers["content-type"] == "application/json"
    assert answers[1].headers["content-type"].replace(" ", "") == TAXII
    assert "hunter2" in caplog.text  # the operator gets the traceback, in the log


def test_a_failed_authentication_never_logs_the_presented_key(
    settings: Settings, make_org: MakeOrg, caplog: pytest.LogCaptureFixture
) -> None:
    org, key = make_org(Role.csirt)
    wrong = key[:-6] + "AAAAAA"
    secret = wrong.split("_", 2)[2]
    caplog.set_level(logging.DEBUG)
    with serving(settings) as client:
        answers = [client.get("/api/v1/objects", headers=auth(wrong)),
                   client.get("/api/v1/objects", headers=basic(org.slug, wrong)),
                   client.get("/taxii2/", headers=basic(org.slug, wrong)),
                   client.get("/api/v1/objects", headers=basic("someone-else", key))]
    assert {r.status_code for r in answers} == {401}
    assert caplog.records  # the requests were logged at all, so the check below means something
    for presented in (wrong, secret, key, key.split("_", 2)[2]):
        assert presented not in caplog.text
        assert all(presented not in r.text for r in answers)


# --- media types of publish bodies (issue 14, item 6) ---------------------------------------------------

_BODY = orjson.dumps(bundle(indicator()))


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x", "application/stix+json;version=2.0"])
def test_rest_publish_refuses_bodies_a_cross_site_form_could_send(client: TestClient, make_org: MakeOrg,
                                                                  content_type: str | None) -> None:
    _, key = make_org(Role.csirt)
    headers = auth(key) | ({"Content-Type": content_type} if content_type else {})
    r = client.post("/api/v1/objects", content=_BODY, headers=headers)
    assert r.status_code == 415, r.text
    assert r.json()["title"] == "Unsupported media type"
    assert client.get("/api/v1/objects", headers=auth(key)).json()["objects"] == []


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8",
                                          "application/stix+json;version=2.1", "application/taxii+json"])
def test_rest_publish_takes_json_and_the_stix_media_types(client: TestClient, make_org: MakeOrg,
                                                          content_type: str) -> None:
    _, key = make_org(Role.csirt)
    r = client.post("/api/v1/objects", content=orjson.dumps(bundle(indicator())),
                    headers=auth(key) | {"Content-Type": content_type})
    assert r.status_code == 200, r.text
    assert r.json()["added"] == 1


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/json", "application/x-www-form-urlencoded",
                                          "application/taxii+json;version=2.0"])
def test_taxii_post_refuses_other_media_types(client: TestClient, make_org: MakeOrg,
                                              content_type: str | None) -> None:
    _, key = make_org(Role.csirt)
    headers = auth(key) | {"Accept": TAXII} | ({"Content-Type": content_type} if content_type else {})
    r = client.post(f"/taxii2/default/collections/{DEFAULT_COLLECTION_ID}/objects/",
                    content=orjson.dumps({"objects": [indicator()]}), headers=headers)
    assert r.status_code == 415, r.text
    assert r.json()["error_code"] == "UNSUPPORTED_MEDIA_TYPE"


# --- /metrics (issue 14, item 7) --------------------------------------------------------------------------

def test_metrics_only_for_loopback_or_the_token(settings: Settings) -> None:
    app = create_app(Settings(**(settings.model_dump() | {"metrics_token": "scrape-secret"})))
    outsider = TestClient(app, client=("203.0.113.7", 40000))
    assert outsider.get("/metrics").status_code == 404
    assert outsider.get("/metrics", headers={"Authorization": "Bearer guess"}).status_code == 403
    scraped = outsider.get("/metrics", headers={"Authorization": "Bearer scrape-secret"})
    assert scraped.status_code == 200
    assert "exchange_http_requests_total" in scraped.text
    assert TestClient(app, client=("127.0.0.1", 40000)).get("/metrics").status_code == 200
    assert TestClient(app, client=("::1", 40000)).get("/metrics").status_code == 200
    app.state.engine.dispose()


def test_metrics_networks_replace_loopback(settings: Settings) -> None:
    app = create_app(Settings(**(settings.model_dump() | {"metrics_allow": ["10.1.0.0/16"]})))
    assert TestClient(app, client=("10.1.2.3", 40000)).get("/metrics").status_code == 200
    assert TestClient(app, client=("127.0.0.1", 40000)).get("/metrics").status_code == 404
    assert TestClient(app, client=("10.2.0.1", 40000)).get("/metrics", headers={
        "Authorization": "Bearer anything"}).status_code == 403  # no token configured: none is right
    app.state.engine.dispose()


def test_a_malformed_metrics_network_fails_at_start() -> None:
    with pytest.raises(ValidationError):
        Settings(metrics_allow=["10.0.0.0/33"])


# --- absolute URLs (issue 14, item 9) ----------------------------------------------------------------------

def test_urls_come_from_the_base_url_never_the_host_header(settings: Settings, make_org: MakeOrg) -> None:
    _, key = make_org(Role.admin)
    with serving(settings, base_url="https://hub.example.org") as client:
        discovery = client.get("/taxii2/", headers=auth(key) | {"Accept": TAXII, "Host": "evil.example"})
        roots = client.get("/api/v1/api-roots", headers=auth(key) | {"Host": "evil.example"})
    assert discovery.status_code == 200, discovery.text
    assert roots.status_code == 200, roots.text
    for r in (discovery, roots):
        assert "evil.example" not in r.text
    assert discovery.json()["api_roots"] == ["https://hub.example.org/taxii2/default/"]
    assert "https://hub.example.org/taxii2/default/" in roots.text
