"""Rate limits at the HTTP edge: per address and per key, never on health and metrics, and a
limiter that fails lets requests through rather than locking everyone out."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest
from limits.errors import StorageError
from limits.strategies import MovingWindowRateLimiter
from pydantic import ValidationError

from exchange.core.media import TAXII
from exchange.core.ratelimit import key_digest
from exchange.core.settings import Settings
from exchange.orgs.models import Role
from exchange.orgs.service import KEY_SCHEME
from tests.orgs_factory import MakeOrg, auth, basic
from tests.serving import serving

# --- rate limits --------------------------------------------------------------------------------------


def test_the_fourth_request_from_an_address_gets_429_with_retry_after(settings: Settings) -> None:
    with serving(settings, rate_limit_per_ip="3/minute", rate_limit_per_key="") as client:
        answers = [client.get("/api/v1/objects") for _ in range(4)]
    assert [r.status_code for r in answers] == [401, 401, 401, 429]
    refused = answers[-1]
    assert refused.headers["content-type"] == "application/json"
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    body = refused.json()
    assert body["http_status"] == "429"
    assert body["title"] == "Too many requests"
    assert "address" in body["description"]


def test_a_key_over_its_limit_does_not_throttle_another_key(settings: Settings, make_org: MakeOrg) -> None:
    first, first_key = make_org(Role.csirt)
    _, second_key = make_org(Role.sme)
    with serving(settings, rate_limit_per_ip="", rate_limit_per_key="3/minute") as client:
        own = [client.get("/api/v1/objects", headers=auth(first_key)) for _ in range(3)]
        over_bearer = client.get("/api/v1/objects", headers=auth(first_key))
        over_basic = client.get("/api/v1/objects", headers=basic(first.slug, first_key))
        other = client.get("/api/v1/objects", headers=auth(second_key))
    assert [r.status_code for r in own] == [200, 200, 200]
    assert over_bearer.status_code == 429
    assert int(over_bearer.headers["retry-after"]) >= 1
    assert "API key" in over_bearer.json()["description"]
    assert over_basic.status_code == 429  # the same key as the HTTP Basic password: the same budget
    assert other.status_code == 200


def test_health_and_metrics_are_never_throttled_nor_counted(settings: Settings) -> None:
    with serving(settings, rate_limit_per_ip="1/minute", metrics_token="scraper-token") as client:
        scraper = {"Authorization": "Bearer scraper-token"}
        probes = [client.get(path, headers=scraper) for _ in range(5) for path in ("/healthz", "/readyz", "/metrics")]
        first, second = client.get("/api/v1/objects"), client.get("/api/v1/objects")
    assert {r.status_code for r in probes} == {200}
    assert (first.status_code, second.status_code) == (401, 429)


def test_a_429_under_taxii2_is_a_taxii_error(settings: Settings) -> None:
    with serving(settings, rate_limit_per_ip="1/minute") as client:
        client.get("/taxii2/")
        refused = client.get("/taxii2/", headers={"Accept": TAXII})
    assert refused.status_code == 429
    assert refused.headers["content-type"].replace(" ", "") == TAXII
    body = refused.json()
    assert body["error_code"] == "TOO_MANY_REQUESTS"
    assert body["http_status"] == "429"
    assert body["error_id"]
    assert int(refused.headers["retry-after"]) >= 1


def test_an_empty_limit_is_no_limit_and_keyless_requests_have_no_key_limit(settings: Settings) -> None:
    with serving(settings, rate_limit_per_ip="", rate_limit_per_key="1/minute") as client:
        statuses = {client.get("/api/v1/objects").status_code for _ in range(5)}
    assert statuses == {401}


def test_a_failing_limiter_storage_lets_requests_through(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def unavailable(*args: Any, **kwargs: Any) -> bool:
        raise StorageError(ConnectionError("redis is down"))

    monkeypatch.setattr(MovingWindowRateLimiter, "hit", unavailable)
    with serving(settings, rate_limit_per_ip="1/minute") as client:
        statuses = [client.get("/healthz").status_code, client.get("/api/v1/objects").status_code,
                    client.get("/api/v1/objects").status_code]
    assert statuses == [200, 401, 401]
    assert "rate-limit storage unavailable (redis is down)" in caplog.text


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:32]


@pytest.mark.parametrize(("header", "counted_as"), [
    (b"Bearer exk_0a1b2c3d4e5f_secretpart", _digest("exk_0a1b2c3d4e5f_secretpart")),
    (b"bearer   exk_0a1b2c3d4e5f_secret_with_underscores ", _digest("exk_0a1b2c3d4e5f_secret_with_underscores")),
    (b"Basic " + base64.b64encode(b"some-org:exk_abc123_secret"), _digest("exk_abc123_secret")),
    (b"Basic " + base64.b64encode(b"exk_abc123_secret"), None),  # no colon: no password
    (b"Basic not-base64!", None),
    (b"Basic " + base64.b64encode(b"org:\xff\xfe"), None),
    (b"Bearer exk__secret", None),
    (b"Bearer exk_abc123", None),  # no secret part: not a key
    (b"Bearer other_abc123_secret", None),
    (b"Digest exk_abc123_secret", None),
    (b"Bearer exk_" + b"a" * 33 + b"_secret", None),  # longer than any prefix: not one of our keys
])
def test_the_per_key_limit_counts_a_digest_of_the_whole_key(header: bytes, counted_as: str | None) -> None:
    assert key_digest(header, KEY_SCHEME) == counted_as


def test_knowing_a_keys_prefix_does_not_spend_its_budget() -> None:
    real = b"Bearer exk_0a1b2c3d4e5f_the-real-secret"
    guessed = b"Bearer exk_0a1b2c3d4e5f_a-guessed-secret"
    assert key_digest(real, KEY_SCHEME) != key_digest(guessed, KEY_SCHEME)
    assert b"the-real-secret" not in (key_digest(real, KEY_SCHEME) or "").encode()


def test_a_malformed_rate_limit_fails_at_start_up() -> None:
    with pytest.raises(ValidationError, match="rate_limit_per_ip"):
        Settings(rate_limit_per_ip="lots")
