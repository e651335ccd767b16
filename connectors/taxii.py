"""TAXII 2.1 pull with taxii2-client: a collection's objects, page by page, from where the last run
stopped.

The URL is a collection's (``…/collections/<id>/``) or a discovery URL; with discovery, option
``collection`` names the collection, or the server must offer exactly one readable one. Option
``types`` (a list, or comma-separated) becomes ``match[type]``; ``page_size`` the ``limit``.

Bookmark: ``added_after`` = the ``X-TAXII-Date-Added-Last`` of the last stored page (TAXII 2.1,
section 3.4.2). A listing that breaks off mid-way restarts there on the next run, so nothing is
skipped, and nothing already stored is fetched again. A server that sends no such header gets the
whole collection every run (ingest answers "duplicate" for what it has).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from taxii2client.common import TAXIIServiceException, _HTTPConnection
from taxii2client.exceptions import AccessError
from taxii2client.v21 import ApiRoot, Collection, Server

from connectors.base import FeedError, Page, Source

_COLLECTION_URL = re.compile(r".*/collections/[^/]+/?")
DEFAULT_PAGE_SIZE = 1000


class _Timeouts(HTTPAdapter):
    """requests has no default timeout, and taxii2-client sets none: a stalled server would hang the run."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        kwargs["timeout"] = kwargs.get("timeout") or self.seconds
        return super().send(request, **kwargs)


class _Bearer(requests.auth.AuthBase):
    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request


def status_of(exc: Exception) -> tuple[int, str | None] | None:
    """An exception of requests/taxii2-client as ``Retry.call`` reads it (HTTP status, Retry-After)."""
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return exc.response.status_code, exc.response.headers.get("Retry-After")
    if isinstance(exc, requests.ConnectionError | requests.Timeout):
        return None
    if isinstance(exc, TAXIIServiceException | AccessError | ValueError):
        raise FeedError(f"the server's answer is not TAXII 2.1: {exc}") from exc
    raise exc


def connect(source: Source) -> _HTTPConnection:
    """A taxii2-client connection with the feed's credentials and a timeout on every request."""
    auth = _Bearer(source.secret) if source.secret is not None and source.username is None else None
    connection = _HTTPConnection(user=source.username, password=source.secret, version="2.1", auth=auth)
    adapter = _Timeouts(source.timeout_seconds)
    connection.session.mount("http://", adapter)
    connection.session.mount("https://", adapter)
    return connection


def find_collection(source: Source, connection: _HTTPConnection, *, write: bool = False) -> Collection:
    """The feed's collection: its URL, or the one discovery finds (option ``collection``, else the only
    one the credentials may read, or write to with ``write``)."""
    if _COLLECTION_URL.fullmatch(source.url):
        return Collection(source.url if source.url.endswith("/") else f"{source.url}/", conn=connection)
    wanted = source.option("collection")
    # The server's ApiRoot objects open connections of their own (without our timeouts): re-made on ours.
    roots = [ApiRoot(root.url, conn=connection) for root in Server(source.url, conn=connection).api_roots]
    usable = [c for root in roots for c in root.collections
              if (c.can_write if write else c.can_read) and (wanted is None or c.id == wanted)]
    if len(usable) != 1:
        what = "writable" if write else "readable"
        named = f"collection {wanted}" if wanted else f"one {what} collection (set option collection)"
        raise FeedError(f"{source.url}: expected {named}, found {len(usable)}")
    return usable[0]


class TaxiiPull:
    def snapshot(self, source: Source) -> bool:
        return False

    def pages(self, source: Source, bookmark: Mapping[str, Any]) -> Iterator[Page]:
        connection = connect(source)
        last_headers: dict[str, str] = {}  # names in lower case: HTTP/2 and ASGI servers send them so

        def keep_headers(response: requests.Response, *args: Any, **kwargs: Any) -> None:
            last_headers.clear()
            last_headers.update((k.lower(), v) for k, v in response.headers.items())

        connection.session.hooks["response"].append(keep_headers)
        try:
            collection = source.retry.call("TAXII discovery", lambda: find_collection(source, connection), status_of)
            filters: dict[str, Any] = {"limit": int(source.option("page_size", DEFAULT_PAGE_SIZE))}
            added_after = bookmark.get("added_after")
            if added_after:
                filters["added_after"] = added_after
            types = source.option("types")
            if types:
                filters["type"] = types.split(",") if isinstance(types, str) else list(types)
            following: str | None = None
            while True:
                wanted = filters | ({"next": following} if following else {})
                envelope = source.retry.call(f"GET objects of {collection.url}",
                                             lambda w=wanted: collection.get_objects(**w), status_of)  # type: ignore[misc]
                objects = envelope.get("objects") or []
                if not isinstance(objects, list):
                    raise FeedError("the server's envelope has no list of objects")
                added_after = last_headers.get("x-taxii-date-added-last") or added_after
                yield Page(objects, {"added_after": added_after} if added_after else {}, len(objects))
                following = envelope.get("next")
                if not envelope.get("more") or not following:
                    return
        finally:
            connection.close()

