"""The body time limit bounds how long a request body takes to arrive, not how long a response takes to be
written: a streamed export listens for the client hanging up while it writes, and that wait is no slow body
(20 analysts exporting 100,000 objects at once had their downloads cut at the body timeout)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

from exchange.core.middleware import BodyBudget, BodyLimit

TIMEOUT = 1.0  # seconds a body may take to arrive (it arrives at once: in-process)
CHUNKS = 3  # a response written over more than twice that


async def _export(request: Request) -> StreamingResponse:
    await request.body()

    async def chunks() -> AsyncIterator[bytes]:
        for n in range(CHUNKS):
            await anyio.sleep(TIMEOUT * 0.75)  # the work of writing one part of a long export
            yield f"part {n}\n".encode()

    return StreamingResponse(chunks(), media_type="text/plain")


def _get(method: str, content: bytes = b"") -> httpx.Response:
    app = BodyLimit(Starlette(routes=[Route("/export", _export, methods=["GET", "POST"])]), max_bytes=1000,
                    timeout=TIMEOUT, budget=BodyBudget(10_000))

    async def call() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub.test") as client:
            return await client.request(method, "/export", content=content)

    return anyio.run(call)


def test_a_response_streamed_for_longer_than_the_body_timeout_is_written_whole() -> None:
    for method, body in (("GET", b""), ("POST", b"{}")):
        answer = _get(method, body)
        assert answer.status_code == 200
        assert answer.text == "".join(f"part {n}\n" for n in range(CHUNKS))
