"""One error hierarchy for the whole hub, turned into HTTP responses in one place (``app.py``).

Services raise these; routers never build error responses themselves. The body carries ``title``
and ``description`` (plus TAXII's fields, so the same error serves REST and TAXII clients).
"""

from __future__ import annotations

from typing import Any, ClassVar


class ExchangeError(Exception):
    status = 400
    title = "Bad request"
    headers: ClassVar[dict[str, str]] = {}

    def __init__(self, description: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.description = description
        self.details = details or {}

    def response_headers(self) -> dict[str, str]:
        """Headers of the error response; errors whose headers depend on the instance override this."""
        return self.headers


class BadRequest(ExchangeError):
    pass


class Unauthenticated(ExchangeError):
    status = 401
    title = "Authentication required"
    headers: ClassVar[dict[str, str]] = {"WWW-Authenticate": 'Basic realm="exchange", Bearer realm="exchange"'}


class Forbidden(ExchangeError):
    status = 403
    title = "Forbidden"


class NotFound(ExchangeError):
    status = 404
    title = "Not found"


class Conflict(ExchangeError):
    status = 409
    title = "Conflict"


class NotAcceptable(ExchangeError):
    status = 406
    title = "Not acceptable"


class RequestTimeout(ExchangeError):
    status = 408
    title = "Request timeout"


class PayloadTooLarge(ExchangeError):
    status = 413
    title = "Payload too large"


class UnsupportedMediaType(ExchangeError):
    status = 415
    title = "Unsupported media type"


class UnprocessableEntity(ExchangeError):
    status = 422
    title = "Unprocessable entity"


class TooManyRequests(ExchangeError):
    status = 429
    title = "Too many requests"

    def __init__(self, description: str, *, retry_after: int) -> None:
        super().__init__(description)
        self.retry_after = retry_after

    def response_headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class ServiceUnavailable(ExchangeError):
    """The hub cannot serve now (database down, memory budget for bodies spent): retry later."""

    status = 503
    title = "Service unavailable"

    def __init__(self, description: str, *, retry_after: int = 5) -> None:
        super().__init__(description)
        self.retry_after = retry_after

    def response_headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}
