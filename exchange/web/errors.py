"""Error pages for people: a browser asking for a page gets HTML in its language; API and TAXII clients keep
the JSON errors of ``exchange.core.handlers`` (which calls ``html_error`` first, through ``app.state``)."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from exchange.web.cookies import finish
from exchange.web.deps import safe_next
from exchange.web.render import environment, negotiate, translations


def N_(text: str) -> str:  # noqa: N802 - gettext's name for "translate later", known to pybabel extract
    return text


TITLES = {400: N_("Bad request"), 401: N_("Please sign in"), 403: N_("Refused"), 404: N_("Not found"),
          405: N_("Not allowed"), 409: N_("Already there"), 413: N_("Too large"), 422: N_("Check the form"),
          429: N_("Too many attempts"), 500: N_("Something went wrong"), 503: N_("Try again later")}
# Paths that belong to machines, whatever their Accept header says.
MACHINE_PATHS = ("/api/", "/taxii2", "/healthz", "/readyz", "/metrics", "/openapi.json", "/docs", "/redoc", "/a/")


def wants_html(request: Request) -> bool:
    return (not request.url.path.startswith(MACHINE_PATHS)
            and "text/html" in request.headers.get("accept", ""))


def html_error(request: Request, status: int, title: str, description: str,
               headers: Mapping[str, str] | None) -> Response | None:
    """The page for an error, or None when the client is not a browser asking for a page."""
    if not wants_html(request):
        return None
    if status == 401 and request.method == "GET":  # a page that needs a person: sign in, then come back
        return RedirectResponse(f"/signin?next={quote(safe_next(request.url.path), safe='/')}", status_code=303)
    language = getattr(request.state, "language", None) or negotiate(request.headers.get("accept-language", ""))
    _ = translations(language).gettext
    messages = {
        401: _("Please sign in again."),
        403: _("This action was refused. If you used a form, reload the page and try again."),
        404: _("There is no such page, or it is not yours to see."),
        429: _("Too many attempts. Wait a little and try again."),
    }
    message = messages.get(status) or (_("Something in the form was not right.") if status < 500
                                       else _("Something went wrong on our side. It has been logged."))
    detail = description if status in (400, 409, 422, 429) else ""
    body = environment(language).get_template("error.html").render(
        title=_(TITLES.get(status, title)), message=message, detail=detail, path=request.url.path,
        me=getattr(request.state, "web", None), csrf=getattr(request.state, "csrf", ""))
    return finish(request, Response(body, status_code=status, headers=dict(headers or {}), media_type="text/html"))
