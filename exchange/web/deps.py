"""What every page needs, as FastAPI dependencies: who is signed in, the language, the CSRF check.

``web_context`` runs for every page: it resumes the session from its cookie, picks the language and
the CSRF token the page's forms carry. Visitors who are not signed in get a random pre-session
cookie the token is derived from (double submit, bound by HMAC), so the sign-in forms are protected
too (login CSRF). Pages that need a person use ``SignedInDep``; every POST route adds ``CsrfChecked``.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from exchange.alerts.wording import LANGUAGES
from exchange.core.deps import SessionDep, get_settings
from exchange.core.errors import ExchangeError, Forbidden
from exchange.web import sessions
from exchange.web.cookies import LANGUAGE_COOKIE, PRESESSION_COOKIE, SESSION_COOKIE, finish
from exchange.web.render import negotiate
from exchange.web.sessions import SignedIn


class SignInRequired(ExchangeError):
    """Raised by ``signed_in``; the web's handler answers with a redirect to the sign-in page."""

    status = 401
    title = "Sign-in required"


def see_other(request: Request, url: str) -> Response:
    """The answer to a form: a redirect the browser follows with GET (303)."""
    return finish(request, RedirectResponse(url, status_code=303))


def safe_next(target: str | None) -> str:
    """Where to go after sign-in: a path on this site only (no open redirect to ``//evil`` or ``/\\evil``)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")) or any(
            c in target for c in "\r\n\t\\"):
        return "/inbox"
    return target


def language_for(request: Request, me: SignedIn | None, preference: str | None) -> str:
    if preference in LANGUAGES:
        return str(preference)
    cookie = request.cookies.get(LANGUAGE_COOKIE, "")
    if cookie in LANGUAGES:
        return cookie
    return negotiate(request.headers.get("accept-language", ""))


def web_context(request: Request, session: SessionDep) -> SignedIn | None:
    me = sessions.resume(session, request.cookies.get(SESSION_COOKIE, ""), settings=get_settings(request))
    if session.dirty or session.deleted:
        # The touch (once a minute) or an ended session, committed now: on SQLite a write held for the whole
        # page queued 20 readers' touches behind each other until they failed (503, benchmarks/web_pages.py).
        session.commit()
    request.state.web = me
    request.state.language = language_for(request, me, me.language if me is not None else None)
    if me is not None:
        request.state.csrf = me.csrf
    else:
        pre = request.cookies.get(PRESESSION_COOKIE, "")
        if not pre or len(pre) > 100:
            pre = secrets.token_urlsafe(32)
            request.state.new_presession = pre
        request.state.csrf = sessions.csrf_token(pre)
    return me


WebContext = Annotated[SignedIn | None, Depends(web_context)]


async def signed_in(request: Request, me: WebContext) -> SignedIn:
    if me is None:
        raise SignInRequired("sign in to see this page")
    return me


SignedInDep = Annotated[SignedIn, Depends(signed_in)]


async def check_csrf(request: Request, _me: WebContext, csrf: Annotated[str, Form(max_length=200)] = "") -> None:
    """Every form carries the token of its page; a POST without the right one is refused (403)."""
    expected = request.state.csrf
    if getattr(request.state, "new_presession", None) or not hmac.compare_digest(csrf.encode(), expected.encode()):
        raise Forbidden("this form has expired or did not come from this site; reload the page and try again")


CsrfChecked = Depends(check_csrf)


def sign_in_redirect(request: Request) -> Response:
    return see_other(request, f"/signin?next={quote(safe_next(request.url.path), safe='/')}")
