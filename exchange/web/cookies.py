"""The portal's cookies: all HttpOnly and SameSite=Lax, Secure when the hub's base URL is https."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from exchange.core.deps import get_settings

SESSION_COOKIE = "exchange_session"
PRESESSION_COOKIE = "exchange_presession"
LANGUAGE_COOKIE = "exchange_language"


def set_cookie(request: Request, response: Response, name: str, value: str, *, max_age: int | None = None) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", httponly=True, samesite="lax",
                        secure=get_settings(request).base_url.startswith("https://"))


def finish(request: Request, response: Response) -> Response:
    """Add the cookies a page decided on (a new pre-session id, for the CSRF token) to its response."""
    fresh = getattr(request.state, "new_presession", None)
    if fresh:
        set_cookie(request, response, PRESESSION_COOKIE, fresh)
    return response
