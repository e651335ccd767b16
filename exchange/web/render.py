"""Pages in the reader's language: Jinja2 templates with the web gettext catalogue, dates and numbers by babel.

The language is the person's choice on the settings page, else the best match of ``Accept-Language``
among the alert languages (the catalogues the alerts use), else English. One Jinja environment per
language, as in ``exchange.alerts.wording``: gettext is installed on the environment, so sharing one
would let two threads swap catalogues mid-render.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.core import negotiate_locale
from babel.dates import DateTimePattern, get_datetime_format, parse_pattern
from babel.numbers import format_decimal
from babel.support import Translations
from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from exchange.alerts.wording import LANGUAGES
from exchange.web.cookies import finish

_HERE = Path(__file__).resolve().parent
TRANSLATIONS_DIR = _HERE / "translations"
TEMPLATES_DIR = _HERE / "templates"
DOMAIN = "web"
LANGUAGE_NAMES = {code: str(Locale.parse(code).get_display_name(code)).capitalize() for code in LANGUAGES}


@functools.cache
def translations(language: str) -> Translations:
    if language not in LANGUAGES:
        raise ValueError(f"no catalogue for language {language!r}")
    found = Translations.load(str(TRANSLATIONS_DIR), [language], DOMAIN)
    if not isinstance(found, Translations):  # load() falls back to NullTranslations silently
        raise RuntimeError(f"the compiled web catalogue for {language!r} is missing from {TRANSLATIONS_DIR}")
    return found


@functools.cache
def _medium(language: str) -> tuple[str, DateTimePattern, DateTimePattern, Locale]:
    """What babel's ``format_datetime(…, "medium")`` looks up and parses on every call: the way the language
    joins date and time, its date and time patterns, its locale (a third of the cost, kept once per language)."""
    locale = Locale.parse(language)
    joined = str(get_datetime_format("medium", locale=locale)).replace("'", "")
    return joined, parse_pattern(locale.date_formats["medium"]), parse_pattern(locale.time_formats["medium"]), locale


def moment(micros: int | None, language: str) -> str:
    """A stored timestamp (µs, UTC) as the reader writes dates, medium length, in UTC: what babel's
    ``format_datetime(…, "medium", tzinfo=UTC)`` writes (the test compares the two), without parsing its
    patterns again for each of a list's rows."""
    return "" if micros is None else _moment(micros // 1_000_000, language)


@functools.lru_cache(maxsize=4096)
def _moment(seconds: int, language: str) -> str:
    """``moment`` to the second, which is all it shows: a list's rows often share their second (a batch stored,
    a batch of alerts matched), and each second is written once."""
    joined, date, time, locale = _medium(language)
    when = datetime.fromtimestamp(seconds, tz=UTC)
    return joined.replace("{0}", time.apply(when, locale)).replace("{1}", date.apply(when, locale)) + " UTC"


@functools.cache
def environment(language: str) -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES_DIR), autoescape=select_autoescape(default=True),
                      extensions=["jinja2.ext.i18n"], undefined=StrictUndefined, trim_blocks=True,
                      lstrip_blocks=True)
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(language=language, language_names=LANGUAGE_NAMES)
    env.filters["number"] = functools.partial(format_decimal, locale=language)
    env.filters["moment"] = functools.partial(moment, language=language)
    return env


def negotiate(accept_language: str) -> str:
    """The best of our languages for an ``Accept-Language`` header (quality values honoured)."""
    wanted: list[tuple[float, str]] = []
    for part in accept_language.split(",")[:20]:
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if tag and quality > 0:
            wanted.append((quality, tag.replace("_", "-")))
    tags = [tag for _, tag in sorted(wanted, key=lambda w: -w[0])]
    try:
        found = negotiate_locale(tags, list(LANGUAGES), sep="-")
    except UnknownLocaleError:
        found = None
    if found is None:  # "fr-CH" against "fr": babel matches exact tags or aliases only
        found = next((t.split("-")[0].lower() for t in tags if t.split("-")[0].lower() in LANGUAGES), None)
    return found or "en"


def gettext(request: Request, text: str, **values: Any) -> str:
    """One message of the web catalogue in the request's language (flash messages, error pages)."""
    result = translations(request.state.language).gettext(text)
    return result % values if values else result


def page(request: Request, template: str, context: dict[str, Any] | None = None, *,
         status: int = 200) -> Response:
    """Render a page; the base template reads who is signed in, the CSRF token and the language."""
    env = environment(request.state.language)
    body = env.get_template(template).render(
        me=request.state.web, csrf=request.state.csrf, path=request.url.path, **(context or {}))
    return finish(request, HTMLResponse(body, status_code=status))
