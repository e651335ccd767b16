"""CSAF 2.0 advisories, from a CSAF provider (OASIS CSAF 2.0, section 7): the URL is the provider's
``provider-metadata.json``, one of its ROLIE feeds, or a directory that holds a ``changes.csv``.

Listings: the provider metadata's ROLIE feeds (``distributions[].rolie.feeds[].url``); a provider
that offers none is read through its directories (``distributions[].directory_url`` +
``changes.csv``, lines of ``"path","date-time"``). A provider offering both is read through ROLIE
only: the two list the same documents.

Each listing has its own bookmark, the ``updated`` time of the newest advisory stored from it: a
run reads only what changed since, oldest first, one advisory a page, and moves the bookmark past a
time only once every advisory carrying it is stored. Every advisory is validated against the CSAF 2.0
JSON schema (``connectors.csaf_stix``); one that is not valid JSON or not valid CSAF is rejected,
with the schema's reason, and the run goes on. Where a ROLIE entry links the advisory's SHA-512 or
SHA-256 (``rel="hash"``), the advisory is checked against it first, and rejected if it differs.
A listing that lost a field this connector needs (``updated``, the document's link) fails the run
naming it.

TLP: the document's ``distribution.tlp``, else the ROLIE feed's ``tlp_label``, else the feed's.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import orjson

from connectors.base import FeedError, Http, Page, Source, lines, required
from connectors.csaf_stix import convert, invalid, stix_time
from exchange.stix import tlp


@dataclass(frozen=True, slots=True)
class Listing:
    url: str
    rolie: bool  # a ROLIE feed (JSON) or a directory's changes.csv
    level: tlp.Tlp | None = None


@dataclass(frozen=True, slots=True, order=True)
class Entry:
    updated: str  # a STIX timestamp, UTC: ordered as text
    url: str
    digest_url: str | None = field(default=None, compare=False)  # the ROLIE entry's rel="hash" link


def _json(body: bytes, what: str) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise FeedError(f"{what}: not JSON ({exc})") from None


def _time(text: Any, where: str) -> str:
    try:
        return stix_time(str(text))
    except ValueError:
        raise FeedError(f"{where}: {str(text)[:40]!r} is not a date-time") from None


def _level(label: Any) -> tlp.Tlp | None:
    try:
        return tlp.parse(label) if isinstance(label, str) else None
    except ValueError:
        return None


def listings(http: Http, url: str) -> list[Listing]:
    """The listings a provider URL leads to."""
    if not urlsplit(url).path.endswith(".json"):
        return [Listing(urljoin(url if url.endswith("/") else f"{url}/", "changes.csv"), rolie=False)]
    found = _json(http.get(url).content, url)
    if isinstance(found, dict) and "feed" in found:
        return [Listing(url, rolie=True)]
    if not isinstance(found, dict):
        raise FeedError(f"{url}: expected provider metadata or a ROLIE feed (a JSON object)")
    required(found, ("distributions",), "provider-metadata.json")
    rolie, directories = [], []
    for distribution in found["distributions"] or ():
        for feed in (distribution.get("rolie") or {}).get("feeds") or ():
            required(feed, ("url",), "provider-metadata.json ROLIE feed")
            rolie.append(Listing(urljoin(url, feed["url"]), rolie=True, level=_level(feed.get("tlp_label"))))
        if distribution.get("directory_url"):
            base = urljoin(url, distribution["directory_url"])
            directories.append(Listing(urljoin(base if base.endswith("/") else f"{base}/", "changes.csv"), rolie=False))
    if not rolie and not directories:
        raise FeedError(f"{url}: the provider metadata names neither a ROLIE feed nor a directory")
    return rolie or directories


def entries(http: Http, listing: Listing) -> Iterator[Entry]:
    """The advisories a listing names, with when each last changed."""
    if listing.rolie:
        feed = _json(http.get(listing.url).content, listing.url)
        required(feed if isinstance(feed, dict) else {}, ("feed",), f"ROLIE feed {listing.url}")
        for n, entry in enumerate(feed["feed"].get("entry") or ()):
            where = f"ROLIE feed {listing.url} entry {n}"
            required(entry, ("updated",), where)
            link = (entry.get("content") or {}).get("src") or next(
                (k.get("href") for k in entry.get("link") or () if k.get("rel") == "self"), None)
            if not link:
                raise FeedError(f"{where}: the source no longer has the field(s) content.src or link rel=self; "
                                "its format changed and this connector must be updated")
            digests = [k["href"] for k in entry.get("link") or ()
                       if k.get("rel") == "hash" and str(k.get("href", "")).endswith(_DIGESTS)]
            yield Entry(_time(entry["updated"], where), urljoin(listing.url, link),
                        urljoin(listing.url, digests[0]) if digests else None)
        return
    with http.open(listing.url) as response:
        for n, row in enumerate(csv.reader(lines(response)), start=1):
            if not row:
                continue
            if len(row) < 2:
                raise FeedError(f"{listing.url} line {n}: expected \"path\",\"date-time\"")
            yield Entry(_time(row[1], f"{listing.url} line {n}"), urljoin(listing.url, row[0].strip()))


_DIGESTS = (".sha512", ".sha256")


def digest_problem(http: Http, entry: Entry, body: bytes) -> str | None:
    """Why ``body`` does not match the hash the provider published for it (CSAF 2.0, 7.1.18), or None."""
    if entry.digest_url is None:
        return None
    expected = http.get(entry.digest_url).text.split()
    algorithm = "sha512" if entry.digest_url.endswith(".sha512") else "sha256"
    if not expected or hashlib.new(algorithm, body).hexdigest() != expected[0].lower():
        return f"{entry.url}: its {algorithm} is not the one the provider published ({entry.digest_url})"
    return None


class Csaf:
    def snapshot(self, source: Source) -> bool:
        return False

    def pages(self, source: Source, bookmark: Mapping[str, Any]) -> Iterator[Page]:
        marks: dict[str, str] = dict(bookmark.get("listings") or {})
        with Http(source) as http:
            for listing in listings(http, source.url):
                since = marks.get(listing.url)
                new = sorted(e for e in entries(http, listing) if since is None or e.updated > since)
                if not new:
                    yield Page([], {"listings": dict(marks)}, 0)
                for i, entry in enumerate(new):
                    objects, problems = self._advisory(http, source, entry, listing)
                    if i + 1 == len(new) or new[i + 1].updated > entry.updated:  # past it once all of it is stored
                        marks[listing.url] = entry.updated
                    yield Page(objects, {"listings": dict(marks)}, 1, problems)

    @staticmethod
    def _advisory(http: Http, source: Source, entry: Entry, listing: Listing) -> tuple[list[dict[str, Any]], list[str]]:
        body = http.get(entry.url).content
        if (mismatch := digest_problem(http, entry, body)) is not None:
            return [], [mismatch]
        try:
            advisory = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            return [], [f"{entry.url}: not JSON ({exc})"]
        why = invalid(advisory)
        if why is not None:
            return [], [f"{entry.url}: not a valid CSAF 2.0 document: {why}"]
        try:
            return convert(source, advisory, entry.url, fallback=listing.level), []
        except ValueError as exc:  # what the schema does not check (it leaves formats to the reader): dates
            return [], [f"{entry.url}: not a valid CSAF 2.0 document: {exc}"]
