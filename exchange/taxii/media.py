"""TAXII content negotiation and error documents (TAXII 2.1, sections 1.6.8, 3.3, 3.6); types in core.media."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response

from exchange.core.errors import NotAcceptable, UnsupportedMediaType
from exchange.core.media import TAXII, content_type, media_ranges

_ERROR_SCHEMA = {"type": "object", "required": ["title", "http_status"], "properties": {
    "title": {"type": "string"}, "description": {"type": "string"}, "error_id": {"type": "string"},
    "error_code": {"type": "string"}, "http_status": {"type": "string"}, "details": {"type": "object"}}}
# TAXII 2.1, section 3.6: every error answers with this body, documented for every endpoint.
TAXII_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"description": text, "content": {TAXII: {"schema": _ERROR_SCHEMA}}}
    for code, text in {
        400: "Malformed parameter, cursor or body", 401: "No or wrong credentials", 403: "Not allowed",
        404: "Not found, or not readable by this organisation", 406: "The Accept header allows no TAXII 2.1 JSON",
        413: "Body over max_content_length", 415: "The body is not TAXII 2.1 JSON",
        422: "The body is JSON but not a TAXII envelope, or a parameter is invalid",
    }.items()
}


_SPECIFICITY = {"*/*": 0, "application/*": 1}


def _is_taxii(media: str, version: str | None) -> bool:
    return media == "application/taxii+json" and version in (None, "2.1")


def negotiate(request: Request) -> None:
    """Refuse (406) clients that cannot take TAXII 2.1 JSON; no Accept header means anything goes."""
    header = request.headers.get("accept")
    if not header:
        return
    # RFC 9110, 12.5.1: the most specific range that matches decides, so "taxii;q=0, */*" refuses.
    best: tuple[int, float] = (-1, 0.0)
    for media, version, quality in media_ranges(header):
        specificity = _SPECIFICITY.get(media, -1) if media != "application/taxii+json" else (
            3 if version == "2.1" else 2 if version is None else -1)
        if specificity > best[0]:
            best = (specificity, quality)
    if best[1] > 0:
        return
    raise NotAcceptable(f"this server only answers with {TAXII}; the Accept header allows none of it")


def require_taxii_body(request: Request) -> None:
    header = request.headers.get("content-type", "")
    media, version = content_type(request)
    if not _is_taxii(media, version):
        raise UnsupportedMediaType(f"send the envelope as {TAXII}, not {header or 'no content type'!r}")


class TaxiiResponse(Response):
    media_type = TAXII

    def __init__(self, content: bytes, status_code: int = 200, headers: dict[str, str] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(content, status_code=status_code, headers=headers, media_type=TAXII, **kwargs)
