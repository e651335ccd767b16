"""``exchange bench taxii``: what a TAXII 2.1 client sees, measured the same way on any server.

Everything here talks plain TAXII 2.1 over HTTP (httpx, ``Accept: application/taxii+json;version=2.1``),
so the same functions measure Exchange, medallion and OpenTAXII and their figures can be set side
by side. Servers differ in how ``next`` behaves, and the walk adapts instead of assuming:

- a *stateless* cursor (Exchange's encrypted token, OpenTAXII's ``date_added|id``) can be requested
  again: the deep page is that same request repeated;
- a *consuming* cursor (medallion keeps the rest of the result in server memory and pops a page off
  it per use) can't: its deep-page samples are the consecutive pages that follow the middle, and
  the report says so. Objects those samples consumed still count towards "every object exactly once".

A server that refuses a cursor gets no deep-page figure, only a note saying why.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from itertools import islice
from typing import Any, Protocol

import httpx
import orjson

from exchange.bench.taxii_report import Ingest, Latency, Listing, TaxiiReport, peak_rss_mb
from exchange.store.bulk import batched

TAXII_JSON = "application/taxii+json;version=2.1"
MIN_SAMPLES = 3  # even on a server that takes minutes per request, enough for a median


class Phases(Protocol):
    """Progress reporting for the long phases: ``phases(description, total)`` returns ``advance(k)``."""

    def __call__(self, description: str, total: int | None) -> Callable[[int], None]: ...


def no_progress(description: str, total: int | None) -> Callable[[int], None]:
    return lambda k: None


class TaxiiError(RuntimeError):
    """The server answered a request the measurement can't do without with an error."""


@dataclass(frozen=True, slots=True)
class Target:
    """One running TAXII 2.1 server, as a client addresses it."""

    name: str
    discovery_url: str
    api_root_url: str  # ends with "/"
    collection_id: str
    authorization: str  # value of the Authorization header
    objects: int  # what the collection holds before the POST phase
    pid: int | None = None  # the serving process, for its peak RSS

    @property
    def objects_url(self) -> str:
        return f"{self.api_root_url}collections/{self.collection_id}/objects/"


def basic_auth(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def bearer_auth(token: str) -> str:
    return f"Bearer {token}"


@dataclass(frozen=True, slots=True)
class Budget:
    """How much to measure. Time caps keep a slow peer from taking hours; minimums keep figures real."""

    page_limit: int = 100  # first and deep page size
    listing_limit: int = 1000  # page size of the full listing
    samples: int = 50
    warmup: int = 1
    phase_seconds: float = 60.0  # stop sampling a latency after this (at least MIN_SAMPLES taken)
    listing_seconds: float = 900.0  # stop the listing after this, once past the middle
    envelope_size: int = 1000
    envelopes: int = 20
    post_seconds: float = 180.0  # stop posting after this (at least one envelope sent)
    request_timeout: float = 1800.0


def client(target: Target, budget: Budget = Budget()) -> httpx.Client:
    return httpx.Client(
        headers={"Accept": TAXII_JSON, "Authorization": target.authorization},
        timeout=httpx.Timeout(budget.request_timeout, connect=10.0),
    )


def _get(http: httpx.Client, url: str, params: Mapping[str, str | int]) -> tuple[float, int, dict[str, Any]]:
    """One timed GET: until the body is read and parsed, as a client consuming it would."""
    start = time.perf_counter()
    response = http.get(url, params=params)
    body = orjson.loads(response.content) if response.content else {}
    return time.perf_counter() - start, response.status_code, body if isinstance(body, dict) else {}


def _check(status: int, body: dict[str, Any], what: str) -> None:
    if status != 200:
        raise TaxiiError(f"{what}: HTTP {status} {orjson.dumps(body)[:300].decode(errors='replace')}")


def discover(http: httpx.Client, target: Target) -> dict[str, Any]:
    """Discovery, then the collection: fails early and clearly on a wrong URL or credentials."""
    _, status, body = _get(http, target.discovery_url, {})
    _check(status, body, f"discovery {target.discovery_url}")
    url = f"{target.api_root_url}collections/{target.collection_id}/"
    _, status, collection = _get(http, url, {})
    _check(status, collection, f"collection {url}")
    return collection


def _sample(request: Callable[[], float], budget: Budget) -> list[float]:
    for _ in range(budget.warmup):
        request()
    taken: list[float] = []
    start = time.perf_counter()
    while len(taken) < budget.samples and (
        len(taken) < MIN_SAMPLES or time.perf_counter() - start < budget.phase_seconds
    ):
        taken.append(request())
    return taken


def first_page(http: httpx.Client, target: Target, budget: Budget) -> Latency:
    """GET objects with limit=page_limit and no cursor: what every poll and every new client does."""

    def once() -> float:
        seconds, status, body = _get(http, target.objects_url, {"limit": budget.page_limit})
        _check(status, body, "first page")
        return seconds

    return Latency(tuple(_sample(once, budget)))


def _ids(page: Iterable[dict[str, Any]]) -> list[str]:
    return [f"{obj.get('id')}|{obj.get('modified', '')}" for obj in page]


class _Walk:
    """The state of one pass over the collection: ids seen once, ids seen again."""

    def __init__(self) -> None:
        self.seen: set[str] = set()
        self.duplicates = 0

    def count(self, page: list[dict[str, Any]]) -> None:
        for key in _ids(page):
            if key in self.seen:
                self.duplicates += 1
            else:
                self.seen.add(key)


def _deep(http: httpx.Client, target: Target, token: str, walk: _Walk,
          budget: Budget) -> tuple[Latency, str | None]:
    """Deep-page samples from a cursor taken mid-collection; returns them and the cursor to go on from
    (None when consuming the samples reached the end of the collection)."""
    params: dict[str, str | int] = {"limit": budget.page_limit, "next": token}
    t1, s1, b1 = _get(http, target.objects_url, params)
    if s1 != 200:
        return Latency(note=f"deep page: cursor refused (HTTP {s1}); no figure"), token
    t2, s2, b2 = _get(http, target.objects_url, params)
    first, second = b1.get("objects", []), b2.get("objects", [])
    if s2 == 200 and _ids(first[:1]) == _ids(second[:1]):  # same page again: a stateless cursor

        def again() -> float:
            seconds, status, body = _get(http, target.objects_url, params)
            _check(status, body, "deep page")
            return seconds

        return Latency(tuple(_sample(again, budget))), token
    # Each use moved the cursor on: those pages are consumed, so they count as listed objects.
    walk.count(first)
    if s2 != 200:
        note = f"deep page: cursor is single-use (second use: HTTP {s2}); one sample only"
        return Latency((t1,), note), str(b1["next"]) if b1.get("more") and b1.get("next") else None
    walk.count(second)
    taken, latest = [t1, t2], b2
    start = time.perf_counter()
    while latest.get("more") and latest.get("next") and len(taken) < budget.samples and (
        len(taken) < MIN_SAMPLES or time.perf_counter() - start < budget.phase_seconds
    ):
        seconds, status, latest = _get(http, target.objects_url, {"limit": budget.page_limit,
                                                                   "next": str(latest["next"])})
        _check(status, latest, "deep page")
        walk.count(latest.get("objects", []))
        taken.append(seconds)
    note = ("deep page: the cursor is server-side state consumed by each use, so the samples are "
            "consecutive pages after the middle, not one page requested again")
    return Latency(tuple(taken), note), str(latest["next"]) if latest.get("more") and latest.get("next") else None


def listing(http: httpx.Client, target: Target, budget: Budget,
            phases: Phases = no_progress) -> tuple[Listing, Latency]:
    """Walk the collection with ``next`` at listing_limit a page; sample the deep page at the middle."""
    walk = _Walk()
    advance = phases(f"{target.name}: listing", target.objects)
    deep: Latency | None = None
    token: str | None = None
    timed = pages = 0
    seconds = 0.0
    complete = False
    note = ""
    start = time.perf_counter()
    while True:
        params: dict[str, str | int] = {"limit": budget.listing_limit}
        if token is not None:
            params["next"] = token
        took, status, body = _get(http, target.objects_url, params)
        if status != 200:  # keep what was measured; say where and why it stopped
            note = f"listing: stopped at page {pages + 1}, HTTP {status} {orjson.dumps(body)[:200].decode()}"
            break
        page = body.get("objects", [])
        seconds += took
        pages += 1
        timed += len(page)
        walk.count(page)
        advance(len(page))
        if not body.get("more"):
            complete = True
            break
        if not body.get("next"):
            deep = deep or Latency(note="listing: server said more=true but gave no next")
            break
        token = str(body["next"])
        if deep is None and len(walk.seen) >= target.objects // 2:
            before = len(walk.seen)
            deep, after = _deep(http, target, token, walk, budget)
            advance(len(walk.seen) - before)
            if after is None:
                complete = True
                break
            token = after
        if deep is not None and time.perf_counter() - start > budget.listing_seconds:
            break
    if deep is None:
        deep = Latency(note="deep page: the collection fits in one listing page, no cursor in the middle")
    result = Listing(timed, seconds, pages, len(walk.seen), walk.duplicates, target.objects, complete, note)
    return result, deep


def _status_url(target: Target, status_id: str) -> str:
    return f"{target.api_root_url}status/{status_id}/"


def _completed(http: httpx.Client, target: Target, status: dict[str, Any], budget: Budget,
               start: float) -> dict[str, Any]:
    """The status resource once complete: asked at once (the server may have finished long ago; a
    client that slept first measured its own sleep), then every 50 ms while still pending."""
    polls = 0
    while status.get("status") != "complete" and status.get("id"):
        if time.perf_counter() - start > budget.request_timeout:
            raise TaxiiError(f"POST: status {status['id']} still {status.get('status')!r}")
        if polls:
            time.sleep(0.05)
        polls += 1
        _, code, status = _get(http, _status_url(target, str(status["id"])), {})
        _check(code, status, "status")
    return status


def post(http: httpx.Client, target: Target, objects: Iterable[dict[str, Any]], budget: Budget,
         phases: Phases = no_progress) -> Ingest:
    """POST envelopes of envelope_size new objects, one after the other, then wait for every status
    resource to say complete: a server that accepts now and stores later is timed to the storing.

    The client keeps no more of the answers than it needs (ids, counts): it shares the machine with
    the server, and its collector walking thousands of kept status entries was timed too."""
    envelopes = [(orjson.dumps({"objects": batch}), len(batch))  # made before the clock starts
                 for batch in islice(batched(objects, budget.envelope_size), budget.envelopes)]
    advance = phases(f"{target.name}: POST", sum(size for _, size in envelopes))
    statuses: list[dict[str, Any]] = []
    sent = succeeded = failed = 0
    start = time.perf_counter()
    for envelope, size in envelopes:
        response = http.post(target.objects_url, content=envelope, headers={"Content-Type": TAXII_JSON})
        body = orjson.loads(response.content) if response.content else {}
        if response.status_code not in (200, 201, 202):
            raise TaxiiError(f"POST: HTTP {response.status_code} {response.text[:300]}")
        statuses.append({key: body[key] for key in ("id", "status", "success_count", "failure_count") if key in body})
        sent += size
        advance(size)
        if time.perf_counter() - start > budget.post_seconds:
            break
    for status in statuses:
        final = _completed(http, target, status, budget, start)
        succeeded += int(final.get("success_count", 0))
        failed += int(final.get("failure_count", 0))
    elapsed = time.perf_counter() - start
    return Ingest(sent, len(statuses), succeeded, failed, elapsed)


def measure(target: Target, post_objects: Iterable[dict[str, Any]], *, budget: Budget = Budget(),
            phases: Phases = no_progress, load_seconds: float = 0.0, notes: Iterable[str] = ()) -> TaxiiReport:
    """Every figure, in an order where each read sees exactly the loaded collection: first page,
    listing (with the deep page at its middle), then the POSTs, then the server's peak RSS."""
    with client(target, budget) as http:
        discover(http, target)
        first = first_page(http, target, budget)
        walked, deep = listing(http, target, budget, phases)
        try:
            ingested = post(http, target, post_objects, budget, phases)
        except (TaxiiError, httpx.HTTPError) as exc:  # the read figures stand without it
            ingested = Ingest(0, 0, 0, 0, 0.0, f"POST failed: {exc}")
    return TaxiiReport(target.name, target.objects, load_seconds, first, deep, walked, ingested,
                       peak_rss_mb(target.pid), tuple(notes))
