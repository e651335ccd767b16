"""The two media types the hub speaks and the parsing of media-type headers (TAXII 2.1, section 1.6.8).

Here, below every layer, because the error handlers answer under ``/taxii2/`` with the TAXII type
and the REST API takes STIX JSON too; TAXII's content negotiation itself is in ``exchange.taxii.media``.
"""

from __future__ import annotations

from fastapi import Request

TAXII = "application/taxii+json;version=2.1"
STIX = "application/stix+json;version=2.1"


def media_ranges(header: str) -> list[tuple[str, str | None, float]]:
    """Each range of an Accept or Content-Type header: (media type in lower case, version, quality)."""
    ranges = []
    for part in header.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        version, quality = None, 1.0
        for param in params:
            name, _, value = param.partition("=")
            name, value = name.strip().lower(), value.strip().strip('"')
            if name == "version":
                version = value
            elif name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        ranges.append((media.lower(), version, quality))
    return ranges


def content_type(request: Request) -> tuple[str, str | None]:
    """The body's media type (lower case) and its ``version`` parameter; ``("", None)`` when absent."""
    media, version, _ = media_ranges(request.headers.get("content-type", ""))[0]
    return media, version
