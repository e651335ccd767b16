"""CSV and plain-text blocklists (IP, domain, URL and hash lists): each row → a STIX indicator.

Options: ``type`` (ipv4, ipv6, domain, url, md5, sha1, sha256, or ``auto``, the default, which tells
each value by its shape), ``delimiter`` (default ``,``), ``column`` (the value's column: a 0-based
index, or a header name, which implies a header row), ``first_seen_column`` (same forms; its
timestamps become ``valid_from``), ``header`` (the first row names the columns), ``snapshot``
(default true: the list is the current state, so rows that vanish get ``valid_until``),
``page_size``. Lines starting with ``#`` or ``;`` are comments; gzip and single-file zip bodies are
read too.

Ids are UUIDv5 of the feed and the value, and the version is the feed's creation time (or the row's
first-seen time), so a repeated run re-sends identical objects and stores nothing new. Bookmark: the
ETag and Last-Modified of the last complete read (an unchanged list is not read again).
"""

from __future__ import annotations

import csv
import datetime as dt
import ipaddress
import re
from collections.abc import Iterator, Mapping
from typing import Any

from connectors.base import FeedError, Http, Page, Source, conditional, lines, validators

DEFAULT_PAGE_SIZE = 5000
_HEX = re.compile(r"[0-9a-fA-F]+")
_DOMAIN = re.compile(r"(?=.{1,253}$)(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}",
                     re.IGNORECASE)
_HASHES = {32: "MD5", 40: "SHA-1", 64: "SHA-256"}
_TYPES = ("auto", "ipv4", "ipv6", "domain", "url", "md5", "sha1", "sha256")


def _escaped(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


def pattern(kind: str, value: str) -> str | None:
    """The STIX pattern for a value of ``kind`` (``auto``: told by its shape), None when it is not one."""
    value = value.strip()
    if kind in ("auto", "ipv4", "ipv6"):
        try:
            network = ipaddress.ip_network(value, strict=False)
        except ValueError:
            network = None
        if network is not None and kind in ("auto", f"ipv{network.version}"):
            shown = value if "/" in value else str(network.network_address)
            return f"[ipv{network.version}-addr:value = '{shown}']"
        if kind != "auto":
            return None
    if kind in ("auto", "url") and "://" in value and " " not in value:
        return f"[url:value = '{_escaped(value)}']"
    if kind in ("auto", "md5", "sha1", "sha256") and _HEX.fullmatch(value) and len(value) in _HASHES:
        name = _HASHES[len(value)]
        if kind == "auto" or name.replace("-", "").lower() == kind:
            return f"[file:hashes.'{name}' = '{value.lower()}']"
        return None
    if kind in ("auto", "domain") and _DOMAIN.fullmatch(value.rstrip(".")):
        return f"[domain-name:value = '{value.rstrip('.').lower()}']"
    return None


def _column(spec: Any, header: list[str] | None, what: str) -> int:
    if isinstance(spec, int) or (isinstance(spec, str) and spec.isdigit()):
        return int(spec)
    if header is None or spec not in header:
        raise FeedError(f"the list has no column {spec!r} ({what}); its columns are {header}")
    return header.index(spec)


def _timestamp(text: str) -> str | None:
    try:
        when = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class Blocklist:
    def snapshot(self, source: Source) -> bool:
        return bool(source.option("snapshot", True))

    def pages(self, source: Source, bookmark: Mapping[str, Any]) -> Iterator[Page]:
        kind = str(source.option("type", "auto"))
        if kind not in _TYPES:
            raise FeedError(f"option type: one of {', '.join(_TYPES)}")
        with Http(source) as http, http.open(source.url, conditional(bookmark)) as response:
            if response.status_code == 304:
                return
            rows = csv.reader((line for line in lines(response) if line.strip() and line.lstrip()[:1] not in "#;"),
                              delimiter=str(source.option("delimiter", ",")))
            value_spec, seen_spec = source.option("column", 0), source.option("first_seen_column")
            header = next(rows, None) if source.option("header") or isinstance(value_spec, str) and not \
                value_spec.isdigit() else None
            value_at = _column(value_spec, header, "column")
            seen_at = _column(seen_spec, header, "first_seen_column") if seen_spec is not None else None
            page = Page([], {}, 0)
            for number, row in enumerate(rows, start=2 if header else 1):
                page.fetched += 1
                indicator = self._indicator(source, kind, row, value_at, seen_at)
                if isinstance(indicator, str):
                    page.problems.append(f"row {number}: {indicator}")
                else:
                    page.objects.append(indicator)
                if page.fetched >= int(source.option("page_size", DEFAULT_PAGE_SIZE)):
                    yield page
                    page = Page([], {}, 0)
            page.bookmark = validators(response)  # only once the whole list is stored
            yield page

    @staticmethod
    def _indicator(source: Source, kind: str, row: list[str], value_at: int, seen_at: int | None
                   ) -> dict[str, Any] | str:
        if value_at >= len(row):
            return f"no column {value_at}"
        value = row[value_at].strip()
        found = pattern(kind, value)
        if found is None:
            return f"{value[:100]!r} is not {'a known indicator value' if kind == 'auto' else f'a {kind} value'}"
        since = source.since
        if seen_at is not None and seen_at < len(row):
            since = _timestamp(row[seen_at]) or since
        return {"type": "indicator", "spec_version": "2.1", "id": source.derived_id("indicator", found),
                "created": since, "modified": since, "name": value[:200], "pattern": found, "pattern_type": "stix",
                "valid_from": since, "indicator_types": ["malicious-activity"]}
