"""The shared base of every connector: what a connector is given (``Source``), what it yields
(``Page``), how it fetches over HTTP (``Http``: timeouts, retries with backoff, ``Retry-After``), and
how it fails (``FeedError``, with a message that says what to fix).

A connector is a fetch step and a pure convert step: it yields pages of STIX objects, each with the
bookmark that holds once that page is stored. The hub's runner (``exchange.feeds.service``) stores
each page and its bookmark in one transaction, so a run that fails half-way resumes after the last
stored page and never leaves half a page behind. Connectors import nothing of the hub but pure STIX
(``exchange.stix``, which has no database).
"""

from __future__ import annotations

import codecs
import tempfile
import time
import uuid
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

import httpx

from exchange.stix import tlp

# Namespace of the ids a connector derives (identities of sources, indicators of blocklists).
NAMESPACE = uuid.UUID("0e6f9d2c-58a4-4b8e-9c7d-0f6a1b5c3e21")
TRANSIENT = frozenset({408, 425, 429, 500, 502, 503, 504})
# The TLP 2.0 marking definition of each level.
TLP2_MARKING = {level: ref for ref, level in tlp.MARKING_LEVELS.items() if ref in tlp.TLP2_DEFINITIONS}


class FeedError(Exception):
    """A run cannot go on: the source is unreachable, refuses us, or changed its format."""


@dataclass(frozen=True, slots=True)
class Retry:
    """Transient failures (connection errors, timeouts, ``TRANSIENT`` statuses) are retried
    ``attempts - 1`` times, waiting ``base_seconds * 2**n`` or what ``Retry-After`` asks, never more
    than ``max_seconds`` (a server asking for an hour ends the run; the next window tries again)."""

    attempts: int = 4
    base_seconds: float = 1.0
    max_seconds: float = 60.0
    sleep: Callable[[float], None] = time.sleep

    def wait(self, attempt: int, retry_after: str | None) -> float:
        asked = _retry_after_seconds(retry_after)
        wanted = asked if asked is not None else self.base_seconds * 2**attempt
        if wanted > self.max_seconds:
            raise FeedError(f"the source asks to wait {wanted:.0f} s (Retry-After), more than {self.max_seconds:.0f} s")
        return wanted

    def call(self, what: str, fetch: Callable[[], Any], status_of: Callable[[Exception], tuple[int, str | None] | None],
             ) -> Any:
        """``fetch()``, retried on transient failures; ``status_of`` reads an exception's HTTP status and
        ``Retry-After`` (None: a transport error, always transient)."""
        for attempt in range(self.attempts):
            try:
                return fetch()
            except Exception as exc:  # noqa: BLE001 - sorted below: transient ones retried, others re-raised
                found = status_of(exc)
                if found is not None and found[0] not in TRANSIENT:
                    raise FeedError(f"{what}: HTTP {found[0]}") from exc
                if attempt == self.attempts - 1:
                    reason = f"HTTP {found[0]}" if found else f"{type(exc).__name__}: {exc}"
                    raise FeedError(f"{what}: {reason} (after {self.attempts} attempts)") from exc
                self.sleep(self.wait(attempt, found[1] if found else None))
        raise AssertionError("unreachable")


def _retry_after_seconds(value: str | None) -> float | None:
    """RFC 9110 10.2.3: delay-seconds or an HTTP date."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True, slots=True)
class Source:
    """What a connector knows of its feed. ``secret`` is read from the environment variable the feed
    names, at run time: with ``username`` it is a Basic password, alone a Bearer token."""

    name: str
    url: str
    username: str | None = None
    secret: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    retry: Retry = Retry()
    timeout_seconds: float = 30.0
    since: str = "2020-01-01T00:00:00.000Z"  # when the feed was configured: the version of derived objects

    @property
    def identity(self) -> dict[str, Any]:
        """The STIX identity the source's objects are attributed to when they name no author."""
        return {"type": "identity", "spec_version": "2.1", "id": f"identity--{uuid.uuid5(NAMESPACE, self.url)}",
                "created": "2020-01-01T00:00:00.000Z", "modified": "2020-01-01T00:00:00.000Z",
                "name": f"feed {self.name}", "identity_class": "system"}

    def derived_id(self, kind: str, value: str) -> str:
        """A deterministic id (UUIDv5 of the feed and the value): a repeated run re-sends the same ids."""
        return f"{kind}--{uuid.uuid5(NAMESPACE, self.url + ' ' + value)}"

    def option(self, name: str, default: Any = None) -> Any:
        return self.options.get(name, default)


@dataclass(slots=True)
class Page:
    """Objects to store together, and the bookmark that holds once they are stored. ``fetched``
    counts what the source sent (rows, entries, objects); ``problems`` are source items that could
    not be converted, with why."""

    objects: list[dict[str, Any]]
    bookmark: dict[str, Any]
    fetched: int
    problems: list[str] = field(default_factory=list)


class Connector(Protocol):
    """One feed kind. A connector yields at least one page (maybe empty) for every listing it
    reads, and none when the source says nothing changed (HTTP 304)."""

    def snapshot(self, source: Source) -> bool:
        """Whether every run lists the whole current feed, so that an object missing from a complete
        run has left it (``exchange.feeds.service`` then ends its validity)."""
        ...

    def pages(self, source: Source, bookmark: Mapping[str, Any]) -> Iterator[Page]: ...


class Http:
    """An HTTP client for one run: the feed's credentials, a timeout on every request, retries."""

    def __init__(self, source: Source) -> None:
        self.source = source
        auth: httpx.Auth | None = None
        headers = {"User-Agent": "exchange-connector"}
        if source.username is not None and source.secret is not None:
            auth = httpx.BasicAuth(source.username, source.secret)
        elif source.secret is not None:
            headers["Authorization"] = f"Bearer {source.secret}"
        self.client = httpx.Client(auth=auth, headers=headers, timeout=source.timeout_seconds, follow_redirects=True)

    def __enter__(self) -> Http:
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()

    def get(self, url: str, headers: Mapping[str, str] | None = None) -> httpx.Response:
        """The whole response (for small documents: catalogues, manifests); 304 is an answer too."""

        def fetch() -> httpx.Response:
            response = self.client.get(url, headers=dict(headers or {}))
            if response.status_code != 304:
                response.raise_for_status()
            return response

        result: httpx.Response = self.source.retry.call(f"GET {url}", fetch, _httpx_status)
        return result

    @contextmanager
    def open(self, url: str, headers: Mapping[str, str] | None = None) -> Iterator[httpx.Response]:
        """A streamed response (200, or 304 to a conditional request), its body read with ``lines``.
        Retries cover getting the response; a connection lost mid-body fails the run."""

        def fetch() -> httpx.Response:
            response = self.client.send(self.client.build_request("GET", url, headers=dict(headers or {})),
                                        stream=True)
            if response.is_error:
                response.read()
                response.close()
                response.raise_for_status()
            return response

        response: httpx.Response = self.source.retry.call(f"GET {url}", fetch, _httpx_status)
        try:
            yield response
        except httpx.HTTPError as exc:
            raise FeedError(f"GET {url}: {type(exc).__name__}: {exc}") from exc
        finally:
            response.close()


def lines(response: httpx.Response) -> Iterator[str]:
    """The body's text lines (newlines kept, for ``csv``) as they arrive: a gzip body is inflated on
    the fly; a zip (its index is at the end) is spooled to disk first."""
    return _lines(_inflated(response.iter_bytes(), str(response.url)))


def conditional(bookmark: Mapping[str, Any]) -> dict[str, str]:
    """Request headers that let the server answer 304 when nothing changed since the bookmark."""
    headers = {}
    if bookmark.get("etag"):
        headers["If-None-Match"] = str(bookmark["etag"])
    if bookmark.get("last_modified"):
        headers["If-Modified-Since"] = str(bookmark["last_modified"])
    return headers


def validators(response: httpx.Response) -> dict[str, str]:
    """The bookmark a response leaves: its ETag and Last-Modified."""
    found = {"etag": response.headers.get("ETag"), "last_modified": response.headers.get("Last-Modified")}
    return {k: v for k, v in found.items() if v}


def _httpx_status(exc: Exception) -> tuple[int, str | None] | None:
    if isinstance(exc, httpx.HTTPStatusError):
        return exc.response.status_code, exc.response.headers.get("Retry-After")
    if isinstance(exc, httpx.TransportError):
        return None
    raise exc


def _inflated(chunks: Iterator[bytes], url: str) -> Iterator[bytes]:
    """Chunks of the body, gzip inflated and a single-file zip unpacked (told by their magic numbers)."""
    first = next((c for c in chunks if c), b"")
    if first[:2] == b"\x1f\x8b":
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        yield inflater.decompress(first)
        for chunk in chunks:
            yield inflater.decompress(chunk)
        yield inflater.flush()
    elif first[:4] == b"PK\x03\x04":
        with tempfile.TemporaryFile() as spool:
            spool.write(first)
            for chunk in chunks:
                spool.write(chunk)
            archive = zipfile.ZipFile(spool)
            names = [n for n in archive.namelist() if not n.endswith("/")]
            if len(names) != 1:
                raise FeedError(f"{url}: a zip body must hold exactly one file, it holds {len(names)}")
            with archive.open(names[0]) as member:
                yield from iter(lambda: member.read(1 << 16), b"")
    else:
        yield first
        yield from chunks


def _lines(chunks: Iterator[bytes]) -> Iterator[str]:
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    rest = ""
    for chunk in chunks:
        rest += decoder.decode(chunk)
        *complete, rest = rest.split("\n")
        for line in complete:
            yield line + "\n"
    rest += decoder.decode(b"", final=True)
    if rest:
        yield rest


def required(record: Mapping[str, Any], names: tuple[str, ...], where: str) -> None:
    """Fail the run, naming the field, when the source's format lost one this connector needs
    (added fields are fine: formats grow)."""
    missing = [n for n in names if n not in record]
    if missing:
        raise FeedError(f"{where}: the source no longer has the field(s) {', '.join(missing)}; "
                        "its format changed and this connector must be updated")


def mark_unmarked(objects: list[dict[str, Any]], level: tlp.Tlp | None) -> list[dict[str, Any]]:
    """Mark with ``level`` (TLP 2.0) every object the source left without a TLP of its own: the level
    a source gives a whole document (a MISP event, a CSAF advisory) holds for all that it holds."""
    if level is not None:
        for obj in objects:
            if obj.get("type") != "marking-definition" and tlp.marked_level(obj) is None:
                obj["object_marking_refs"] = [*obj.get("object_marking_refs", []), TLP2_MARKING[level]]
    return objects
