"""Hardening of the HTTP edge: rate limits, CORS, what errors and logs give away, and the JSON
limits of submitted bodies (exchange.stix.jsonlimits)."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from limits.errors import StorageError
from limits.strategies import MovingWindowRateLimiter
from pydantic import ValidationError

from exchange.app import create_app
from exchange.core.errors import BadRequest, PayloadTooLarge
from exchange.core.ratelimit import key_digest
from exchange.core.settings import Settings
from exchange.orgs.models import Role
from exchange.stix import jsonlimits
from exchange.store.service import DEFAULT_COLLECTION_ID
from exchange.taxii.media import TAXII
from tests.factories import bundle, indicator
from tests.orgs_factory import MakeOrg, auth

NO_LIMITS = {"rate_limit_per_ip": "", "rate_limit_per_key": ""}


@contextmanager
def serving(settings: Settings, **overrides: Any) -> Iterator[TestClient]:
    """The test database's hub with other settings (validated, as they would be from the environment)."""
    app = create_app(Settings(**(settings.model_dump() | overrides)))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client
    app.state.engine.dispose()


def basic(slug: str, key: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{slug}:{key}".encode()).decode()}


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
    assert key_digest(header) == counted_as


def test_knowing_a_keys_prefix_does_not_spend_its_budget() -> None:
    real = b"Bearer exk_0a1b2c3d4e5f_the-real-secret"
    guessed = b"Bearer exk_0a1b2c3d4e5f_a-guessed-secret"
    assert key_digest(real) != key_digest(guessed)
    assert b"the-real-secret" not in (key_digest(real) or "").encode()


def test_a_malformed_rate_limit_fails_at_start_up() -> None:
    with pytest.raises(ValidationError, match="rate_limit_per_ip"):
        Settings(rate_limit_per_ip="lots")


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


# --- JSON limits ----------------------------------------------------------------------------------------


def nested(depth: int, *, innermost: str = "1", kinds: str = "[{") -> str:
    """JSON text nesting ``depth`` arrays/objects around ``innermost``, alternating as ``kinds`` says."""
    opening = ["[" if kinds[level % len(kinds)] == "[" else '{"k":' for level in range(depth)]
    closing = ["]" if o == "[" else "}" for o in reversed(opening)]
    return "".join(opening) + innermost + "".join(closing)


def check(text: str | bytes, **limits: int) -> None:
    jsonlimits.check(text, orjson.loads(text), **limits)


@pytest.mark.parametrize("kinds", ["[", "{", "[{", "{["])
@pytest.mark.parametrize("limit", [2, 5, jsonlimits.MAX_DEPTH, jsonlimits.DEEPEST])
def test_nesting_up_to_max_depth_passes_and_one_more_is_refused(kinds: str, limit: int) -> None:
    check(nested(limit, kinds=kinds), max_depth=limit)
    with pytest.raises(BadRequest, match=f"more than {limit} levels"):
        check(nested(limit + 1, kinds=kinds), max_depth=limit)


@pytest.mark.parametrize("innermost", ["[]", "{}"])
def test_an_empty_container_counts_as_a_level(innermost: str) -> None:
    text = nested(4, innermost=innermost, kinds="[")  # [[[[ [] ]]]]: five levels
    check(text, max_depth=5)
    with pytest.raises(BadRequest):
        check(text, max_depth=4)


def test_brackets_inside_strings_are_not_nesting() -> None:
    check(json.dumps({"pattern": "[" * 500 + "{" * 500, "x": ['\\"[[[[', "\\\\[[[["]}), max_depth=2)


def test_the_default_depth_refuses_depth_65_under_a_bundle() -> None:
    body = '{"type":"bundle","objects":[' + nested(63) + "]}"  # bundle, objects: 2 levels, then 63
    with pytest.raises(BadRequest, match="64 levels"):
        check(body)
    check('{"type":"bundle","objects":[' + nested(62) + "]}")


def test_depth_hidden_in_a_dropped_duplicate_is_still_too_deep() -> None:
    text = '{"a": ' + "[" * 1000 + "]" * 1000 + ', "a": 1}'  # parsed, it is {"a": 1}
    with pytest.raises(BadRequest, match="64 levels"):
        check(text)


@pytest.mark.parametrize(("text", "name"), [
    ('{"a": 1, "a": 2}', "a"),
    ('{"objects": [{"id": "x", "type": "indicator", "id": "y"}]}', "id"),
    ('[{"k": {"deep": [1, {"n": 1, "m": 2, "n": 3}]}}]', "n"),
    ('{"a": 1, "\\u0061": 2}', "a"),  # the same name, spelled differently
    ('{"a\\"b": 1, "a\\u0022b": 2}', 'a"b'),
    ('{"a\\\\": 1, "a\\u005c": 2}', "a\\"),
    ('{"a" : "x" , "a" : "y"}', "a"),
    ('{"x": "", "x": ""}', "x"),
])
def test_a_member_name_repeated_in_one_object_is_refused(text: str, name: str) -> None:
    with pytest.raises(BadRequest, match="more than once") as refused:
        check(text)
    assert refused.value.status == 400
    assert repr(name) in refused.value.description


@pytest.mark.parametrize("text", [
    '{"a": 1, "b": {"a": 2}, "c": [{"a": 3}, {"a": 4}]}',  # the same name in different objects
    '{"a": "a", "b": "a"}',
    '{"a\\"": 1, "a\\\\": 2, "a": 3}',
    '{"a\\\\\\"": 1, "a\\\\\\\\": 2}',
    '{"\\\\": "\\\\\\\\\\"", "\\"": "\\\\"}',
    '["a", "a", {"a": "a"}]',
    '"just a string"',
])
def test_distinct_names_pass(text: str) -> None:
    check(text)
    check(text.encode())


def test_more_objects_than_allowed_is_413_however_they_are_sent() -> None:
    objects = [{"type": "indicator"}] * 4
    for body in (objects, {"objects": objects}, {"type": "bundle", "id": "b", "objects": objects}):
        text = orjson.dumps(body)
        jsonlimits.check(text, orjson.loads(text), max_objects=4)
        with pytest.raises(PayloadTooLarge, match="several requests") as refused:
            jsonlimits.check(text, orjson.loads(text), max_objects=3)
        assert refused.value.status == 413
    jsonlimits.check(b'{"type": "indicator"}', {"type": "indicator"}, max_objects=1)


# Random JSON texts: names from a tiny alphabet (so they repeat), spelled with every kind of escape,
# strings full of quotes, backslashes and brackets, random whitespace. The reference: the standard
# parser reporting every name, and the depth of the tree the text was made from.
_CHARS = st.sampled_from(['a', '"', "\\", "[", "]", "{", "}", ":", ",", "\n", "\u00e9", "\U0001f600"])


def _spell(text: str, escapes: list[bool]) -> str:
    """``text`` as a JSON string, escaping the characters ``escapes`` flags (and those that must be)."""
    out = []
    for i, ch in enumerate(text):
        if i < len(escapes) and escapes[i]:
            out.append(json.dumps(ch)[1:-1] if ord(ch) > 0xFFFF else f"\\u{ord(ch):04x}")
        else:
            out.append(json.dumps(ch, ensure_ascii=False)[1:-1])
    return '"' + "".join(out) + '"'


_strings = st.builds(_spell, st.text(_CHARS, max_size=6), st.lists(st.booleans(), max_size=6))
_names = st.builds(_spell, st.text(st.sampled_from(["a", "b", '"', "\\"]), max_size=2),
                   st.lists(st.booleans(), max_size=2))
_space = st.sampled_from(["", " ", "\n  ", "\t"])


def _tree() -> st.SearchStrategy[tuple[str, int]]:
    """(JSON text, depth)."""
    scalars = st.one_of(_strings, st.sampled_from(["1", "-2.5e3", "true", "null"])).map(lambda s: (s, 0))

    def containers(children: st.SearchStrategy[tuple[str, int]]) -> st.SearchStrategy[tuple[str, int]]:
        arrays = st.tuples(st.lists(children, max_size=4), _space).map(
            lambda t: ("[" + t[1] + ",".join(c for c, _ in t[0]) + "]", 1 + max((d for _, d in t[0]), default=0)))
        members = st.lists(st.tuples(_names, _space, children), max_size=4)
        objects = members.map(lambda ms: ("{" + ",".join(f"{n}{s}:{s}{c}" for n, s, (c, _) in ms) + "}",
                                          1 + max((d for _, _, (_, d) in ms), default=0)))
        return arrays | objects

    return st.recursive(scalars, containers, max_leaves=12)


def _has_repeats(text: str) -> bool:
    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        names = [name for name, _ in items]
        if len(set(names)) != len(names):
            raise KeyError(names)
        return dict(items)

    try:
        json.loads(text, object_pairs_hook=pairs)
    except KeyError:
        return True
    return False


def _refusal(text: bytes, value: Any, max_depth: int) -> str | None:
    try:
        jsonlimits.check(text, value, max_depth=max_depth)
    except BadRequest as refused:
        return refused.description
    return None


@hypothesis_settings(max_examples=600, deadline=None)
@given(tree=_tree(), max_depth=st.integers(2, 5))
def test_the_checks_agree_with_a_parser_that_reports_every_name(tree: tuple[str, int], max_depth: int) -> None:
    text, depth = tree
    refusal = _refusal(text.encode(), orjson.loads(text), max_depth)
    if depth > max_depth:
        assert refusal is not None
        assert "levels" in refusal
    elif _has_repeats(text):
        assert refusal is not None
        assert "more than once" in refusal
    else:
        assert refusal is None



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
