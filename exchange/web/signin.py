"""Sign-in and sign-out pages: e-mail and password, or a one-time link by e-mail.

Both forms count attempts per e-mail address and per client address with the ``limits`` package (the
API's rate limiter's), ``web_signin_limit``: password guessing costs the guesser, not argon2's CPU for
everyone. Wrong e-mail and wrong password get the same answer, and the link form says the same
whether the address has an account or not.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import Response
from limits import parse, strategies
from limits.storage import storage_from_string

from exchange.alerts.wording import LANGUAGES
from exchange.core.deps import SessionDep, get_settings
from exchange.core.errors import TooManyRequests
from exchange.core.settings import Settings
from exchange.core.timestamps import now_micros
from exchange.orgs import audit
from exchange.orgs.models import Org, User
from exchange.web import sessions
from exchange.web.cookies import LANGUAGE_COOKIE, SESSION_COOKIE, set_cookie
from exchange.web.deps import CsrfChecked, WebContext, safe_next, see_other
from exchange.web.models import WebPreference
from exchange.web.render import gettext, page

log = logging.getLogger(__name__)
router = APIRouter()
Email = Annotated[str, Form(max_length=320)]
Next = Annotated[str, Form(alias="next", max_length=500)]
Token = Annotated[str, Path(max_length=100)]


class _Limiter:
    def __init__(self, limit: str, storage: str) -> None:
        self.item = parse(limit)
        self.strategy = strategies.MovingWindowRateLimiter(storage_from_string(storage))

    def hit(self, *keys: str) -> None:
        """Count one attempt for each key; 429 with Retry-After when any is over its limit."""
        for key in keys:
            if not self.strategy.hit(self.item, "web-signin", key):
                reset = self.strategy.get_window_stats(self.item, "web-signin", key).reset_time
                wait = max(1, math.ceil(reset - time.time()))
                raise TooManyRequests(f"too many sign-in attempts; try again in {wait} seconds", retry_after=wait)


def limiter_for(settings: Settings) -> _Limiter:
    """Made when the app is: a typo in the limit or the storage URL stops the start, not the first sign-in."""
    return _Limiter(settings.web_signin_limit, settings.web_signin_storage)


def _limiter(request: Request) -> _Limiter:
    limiter: _Limiter = request.app.state.web_limiter
    return limiter


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.get("/signin")
def signin_page(request: Request, me: WebContext,
                next_page: Annotated[str, Query(alias="next", max_length=500)] = "/inbox") -> Response:
    if me is not None:
        return see_other(request, safe_next(next_page))
    return page(request, "signin.html", {"next": safe_next(next_page), "error": None, "sent": False})


@router.post("/signin", dependencies=[CsrfChecked])
def signin(request: Request, session: SessionDep, email: Email, password: Annotated[str, Form(max_length=1000)],
           next_page: Annotated[str, Form(alias="next", max_length=500)] = "/inbox") -> Response:
    _limiter(request).hit(f"ip:{_client(request)}", f"email:{email.strip().lower()}")
    user = sessions.by_password(session, email, password)
    if user is None:
        return page(request, "signin.html", {"next": safe_next(next_page), "sent": False,
                                             "error": gettext(request, "Wrong e-mail address or password.")},
                    status=401)
    return _start(request, session, user, safe_next(next_page), "password")


def _start(request: Request, session: SessionDep, user: User, target: str, how: str) -> Response:
    token = sessions.start(session, user, settings=get_settings(request))
    org = session.get_one(Org, user.org_pk)
    audit.record(session, org=org, action="web.signin", target=user.email, detail=how, actor=f"{org.slug}:{user.email}",
                 remote_addr=audit.client_address(request))
    response = see_other(request, target)
    set_cookie(request, response, SESSION_COOKIE, token)
    return response


@router.post("/signin/link", dependencies=[CsrfChecked])
def request_link(request: Request, session: SessionDep, email: Email) -> Response:
    _limiter(request).hit(f"ip:{_client(request)}", f"email:{email.strip().lower()}")
    settings = get_settings(request)
    sent = sessions.mail_link(
        session, email, settings=settings, subject=gettext(request, "Your sign-in link"),
        body=gettext(request, "Someone asked to sign in to the threat-information exchange at %(site)s with this "
                     "address. If it was you, open this link (valid %(minutes)s minutes, once):",
                     site=settings.base_url, minutes=settings.web_link_minutes)
        + "\n\n{link}\n\n" + gettext(request, "If it was not you, ignore this message."))
    log.info("web sign-in link requested for an address that %s an account", "has" if sent else "has no")
    return page(request, "signin.html", {"next": "/inbox", "error": None, "sent": True})


@router.get("/signin/link/{token}")
def link_page(request: Request, session: SessionDep, _me: WebContext, token: Token) -> Response:
    """A button, not a sign-in: mail scanners follow links, and must not spend them."""
    sessions.pending_link(session, token)
    return page(request, "link.html", {"token": token})


@router.post("/signin/link/{token}", dependencies=[CsrfChecked])
def use_link(request: Request, session: SessionDep, token: Token) -> Response:
    return _start(request, session, sessions.redeem_link(session, token), "/inbox", "link")


@router.post("/signout", dependencies=[CsrfChecked])
def signout(request: Request, session: SessionDep) -> Response:
    sessions.end(session, request.cookies.get(SESSION_COOKIE, ""))
    response = see_other(request, "/signin")
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    return response


@router.post("/language", dependencies=[CsrfChecked])
def choose_language(request: Request, session: SessionDep, me: WebContext,
                    language: Annotated[str, Form(max_length=8)], next_page: Next = "/inbox") -> Response:
    """Signed in: kept as the person's preference; otherwise in a cookie of this browser."""
    if language not in LANGUAGES:
        return see_other(request, safe_next(next_page))
    response = see_other(request, safe_next(next_page))
    if me is None:
        set_cookie(request, response, LANGUAGE_COOKIE, language, max_age=365 * 86400)
        return response
    row = session.get(WebPreference, me.user.pk)
    if row is None:
        session.add(WebPreference(user_pk=me.user.pk, language=language, updated_at=now_micros()))
    else:
        row.language, row.updated_at = language, now_micros()
    return response
