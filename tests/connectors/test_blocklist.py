"""CSV and text blocklists, served by a real HTTP server (pytest-httpserver), run through
``exchange feed run`` into the test database."""

from __future__ import annotations

import gzip
import io
import zipfile

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy.orm import Session, sessionmaker
from werkzeug import Request, Response

from connectors.blocklist import pattern
from exchange.core.settings import Settings
from tests.feeds.helpers import add, current, run

IPS = "# a list of bad addresses\n192.0.2.1\n198.51.100.7\n\n; another comment\n203.0.113.0/24\nnot-an-address!\n"


def test_a_text_list_becomes_indicators_and_a_second_run_stores_nothing(
        settings: Settings, sessions: sessionmaker[Session], httpserver: HTTPServer) -> None:
    httpserver.expect_request("/ips.txt").respond_with_data(IPS, content_type="text/plain")
    add("ips", "csv", httpserver.url_for("/ips.txt"), "--option", "type=auto")
    assert run("ips", ok=True) == {"fetched": 4, "added": 4, "duplicates": 0, "rejected": 1}  # 3 + the source
    patterns = sorted(o["pattern"] for o in current(sessions, "indicator").values())
    assert patterns == ["[ipv4-addr:value = '192.0.2.1']", "[ipv4-addr:value = '198.51.100.7']",
                        "[ipv4-addr:value = '203.0.113.0/24']"]
    assert {o["created_by_ref"] for o in current(sessions, "indicator").values()} == set(current(sessions, "identity"))
    assert run("ips") == {"fetched": 4, "added": 0, "duplicates": 4, "rejected": 1}


def test_columns_by_header_delimiter_first_seen_and_gzip(
        settings: Settings, sessions: sessionmaker[Session], httpserver: HTTPServer) -> None:
    body = "first_seen;url;extra\n2024-03-01 10:00:00;http://bad.example/x?a='1';new column\n"
    httpserver.expect_request("/urls.csv.gz").respond_with_data(gzip.compress(body.encode()))
    add("urls", "csv", httpserver.url_for("/urls.csv.gz"), "--option", "column=url", "--option", "delimiter=;",
        "--option", "first_seen_column=first_seen", "--tlp", "amber")
    assert run("urls")["added"] == 2
    (indicator,) = current(sessions, "indicator").values()
    assert indicator["pattern"] == "[url:value = 'http://bad.example/x?a=\\'1\\'']"
    assert indicator["valid_from"] == "2024-03-01T10:00:00.000Z"
    assert indicator["object_marking_refs"] == ["marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"]


def test_a_zip_body_is_read(settings: Settings, sessions: sessionmaker[Session], httpserver: HTTPServer) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hashes.txt", "d41d8cd98f00b204e9800998ecf8427e\n" + "a" * 64 + "\n")
    httpserver.expect_request("/hashes.zip").respond_with_data(buffer.getvalue())
    add("hashes", "csv", httpserver.url_for("/hashes.zip"))
    assert run("hashes")["added"] == 3
    assert sorted(o["pattern"] for o in current(sessions, "indicator").values()) == [
        "[file:hashes.'MD5' = 'd41d8cd98f00b204e9800998ecf8427e']", f"[file:hashes.'SHA-256' = '{'a' * 64}']"]


def test_rows_that_leave_a_snapshot_get_valid_until_and_come_back(
        settings: Settings, sessions: sessionmaker[Session], httpserver: HTTPServer) -> None:
    listing = {"body": "bad.example\nworse.example\n"}
    def serve(request: Request) -> Response:
        return Response(listing["body"])

    httpserver.expect_request("/domains.txt").respond_with_handler(serve)
    add("domains", "csv", httpserver.url_for("/domains.txt"), "--option", "type=domain")
    run("domains")
    listing["body"] = "bad.example\n"
    assert run("domains") == {"fetched": 1, "added": 1, "duplicates": 2, "rejected": 0}  # the expiry is added
    by_value = {o["name"]: o for o in current(sessions, "indicator").values()}
    assert "valid_until" not in by_value["bad.example"]
    assert by_value["worse.example"]["valid_until"] == by_value["worse.example"]["modified"]
    listing["body"] = "bad.example\nworse.example\n"
    run("domains")
    assert "valid_until" not in {o["name"]: o for o in current(sessions, "indicator").values()}["worse.example"]


def test_an_unchanged_list_is_not_read_again(settings: Settings, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/ips.txt", headers={"If-None-Match": '"v1"'}).respond_with_data("", status=304)
    httpserver.expect_request("/ips.txt").respond_with_data("192.0.2.1\n", headers={"ETag": '"v1"'})
    add("ips", "csv", httpserver.url_for("/ips.txt"))
    assert run("ips")["added"] == 2
    assert run("ips") == {"fetched": 0, "added": 0, "duplicates": 0, "rejected": 0}


@pytest.mark.parametrize(("kind", "value", "expected"), [
    ("ipv4", "2001:db8::1", None),
    ("ipv6", "2001:db8::1", "[ipv6-addr:value = '2001:db8::1']"),
    ("domain", "Example.ORG.", "[domain-name:value = 'example.org']"),
    ("sha1", "a" * 40, "[file:hashes.'SHA-1' = '" + "a" * 40 + "']"),
    ("md5", "a" * 40, None),
    ("url", "no scheme", None),
])
def test_values_by_type(kind: str, value: str, expected: str | None) -> None:
    assert pattern(kind, value) == expected
