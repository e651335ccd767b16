"""Plain words for alerts: one ``Message`` (or a digest of them) as a subject, a text body and an HTML
body in the reader's language, for someone who runs a bakery, not a security team.

The words live in Jinja2 templates (``templates/``) and their translations in gettext catalogues
(``translations/<lang>/LC_MESSAGES/messages.po`` and the compiled ``.mo``); docs/alert-wording.md says
how to update them. Each kind has one template of words (headline, what happened, why it matters,
steps) shared by the text and HTML layouts, so the two bodies cannot say different things.

TLP:RED content never reaches a template: the message is stripped to who sent it and where to read
it before rendering, so no template change can leak it. Jargon found in the final text (whether the
template's or the publisher's) gets a line in a "words used" list, so no term goes unexplained.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time, get_datetime_format, get_timezone_location
from babel.numbers import format_decimal
from babel.support import Translations
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from exchange.alerts.message import Message, Rendered
from exchange.alerts.models import SEVERITY_ORDER, AlertState
from exchange.stix.tlp import Tlp

LANGUAGES = ("en", "fr", "de", "it", "ja")
_SENTENCE_GAP = {"ja": ""}  # between two sentences kept apart in the catalogue; Japanese puts no space
PERIODS = ("daily", "weekly")
MAX_STEPS = 5  # more than this and a reader stops; the rest is in the full alert
MAX_DESCRIPTION = 1500  # characters of the publisher's words in a mail; the full text is a click away
MAX_SUBJECT = 120  # characters; mail programs show fewer, and a listed URL can be a thousand

_HERE = Path(__file__).resolve().parent
TRANSLATIONS_DIR = _HERE / "translations"
TEMPLATES_DIR = _HERE / "templates"
DOMAIN = "messages"

# Terms a non-specialist may not know, as they appear in text (in any language); the explanations are in
# templates/_words.j2 (``glossary``), translated with the rest.
JARGON: dict[str, str] = {
    "TLP": r"\bTLP\b",
    "CVE": r"\bCVE\b",
    "CVSS": r"\bCVSS\b",
    "IOC": r"\bIoCs?\b|\bindicators? of compromise\b",
    "STIX": r"\bSTIX\b",
    "TAXII": r"\bTAXII\b",
    "TTP": r"\bTTPs?\b",
    "C2": r"\bC2\b|\bC&C\b|\bcommand[- ]and[- ]control\b",
    "phishing": r"\bphishing\b",
    "malware": r"\bmalware\b",
    "ransomware": r"\bransomware\b",
    "botnet": r"\bbotnets?\b",
    "DDoS": r"\bDDoS\b",
    "zero-day": r"\bzero[- ]day\b|\b0-day\b",
    "exploit": r"\bexploit(?:s|ed)?\b",
    "RDP": r"\bRDP\b",
    "SMB": r"\bSMB\b",
    "VPN": r"\bVPN\b",
    "port": r"\bports?\b",
}


def _hints(pattern: str) -> tuple[str, ...]:
    """The literal words each alternative of a term's pattern starts with, lower-cased ("ioc" for
    ``\\bIoCs?\\b``): a text without any of them cannot match, which a substring search tells at C speed."""
    alternatives, depth, start = [], 0, 0
    for i, char in enumerate(pattern):
        depth += (char == "(") - (char == ")")
        if char == "|" and depth == 0:
            alternatives.append(pattern[start:i])
            start = i + 1
    alternatives.append(pattern[start:])
    hints = []
    for alternative in alternatives:
        body = alternative.removeprefix(r"\b")
        literal = re.match(r"[\w&-]+", body)
        if literal is None:
            raise ValueError(f"jargon pattern {pattern!r}: each alternative must start with a literal word")
        word = literal.group()
        if body[len(word):len(word) + 1] in ("?", "*", "{"):  # the last character is optional
            word = word[:-1]
        hints.append(word.lower())
    return tuple(hints)


# Per term: its compiled pattern and the literal words that must be present for it to match. Scanning
# the text with one big alternation cost ~3 ms per message (every position tries every term); a
# substring test first leaves the regular expression to the few terms a text may contain.
_JARGON = [(term, re.compile(pattern, re.IGNORECASE), _hints(pattern)) for term, pattern in JARGON.items()]


@functools.cache
def translations(language: str) -> Translations:
    """The gettext catalogue of one language: the alert texts' and, later, the portal's pages'."""
    if language not in LANGUAGES:
        raise ValueError(f"no catalogue for language {language!r}; one of {', '.join(LANGUAGES)}")
    found = Translations.load(str(TRANSLATIONS_DIR), [language], DOMAIN)
    if not isinstance(found, Translations):  # load() falls back to NullTranslations: English, silently
        raise RuntimeError(f"the compiled catalogue for {language!r} is missing from {TRANSLATIONS_DIR}")
    return found


@functools.cache
def _environment(language: str) -> Environment:
    """One environment per language: gettext is installed on the environment, so sharing one across
    languages would let two threads swap each other's catalogue mid-render."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html"], default_for_string=False, default=False),
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # templates ship with the code: no stat() of every file on every render
    )
    env.policies["ext.i18n.trimmed"] = True
    # install_gettext_translations is added to the environment by the i18n extension, unknown to mypy.
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(
        language=language, gap=_SENTENCE_GAP.get(language, " "), max_steps=MAX_STEPS, max_description=MAX_DESCRIPTION,
        answer_order=[state.value for state in AlertState], tlp_levels=[level.value for level in Tlp])
    env.filters["number"] = functools.partial(format_decimal, locale=language)
    return env


def _local(moment: datetime, timezone: str) -> datetime:
    return moment.astimezone(ZoneInfo(timezone))


@functools.lru_cache(maxsize=4096)  # a batch says the same publication time to many readers: format it once
def when(moment: datetime, timezone: str, language: str) -> str:
    """A date and time as the reader writes them, in their time zone, named by its city in their language."""
    local = _local(moment, timezone)
    pattern = str(get_datetime_format("long", locale=language))
    stamp = pattern.replace("{1}", format_date(local, "long", locale=language)).replace(
        "{0}", format_time(local, "short", locale=language))
    if timezone in ("UTC", "Etc/UTC"):
        return f"{stamp} UTC"
    city = get_timezone_location(local.tzinfo, locale=language, return_city=True)
    return translations(language).gettext("%(datetime)s, %(city)s time") % {"datetime": stamp, "city": city}


def _restricted(message: Message) -> Message:
    """What of a TLP:RED message may travel by mail or webhook: who sent it, where to read it, how urgent."""
    return dataclasses.replace(
        message, asset="", matched="", title=None, description=None, steps=(), software=None,
        exploited=False, port=None, service=None, sector=None, answer_urls={})


def _withheld(message: Message) -> Message:
    """What of a withheld alert (its asset is not verified yet) may be said: which asset to confirm, by whom."""
    return dataclasses.replace(_restricted(message), asset=message.asset)


def _kind(message: Message) -> str:
    if message.withheld:
        return "verify"
    if message.tlp == "red":
        return "red"
    return "cleared" if message.cleared else message.kind.value


def _item(message: Message, language: str) -> dict[str, Any]:
    """The template context of one message: the message as it may be shown and its words."""
    env = _environment(language)  # first: it refuses a language we have no words for
    shown = _withheld(message) if message.withheld else _restricted(message) if message.tlp == "red" else message
    kind = _kind(message)
    local = _local(message.published_at, message.timezone)
    context: dict[str, Any] = {"m": shown, "kind": kind, "when": when(message.published_at, message.timezone, language),
                               "day": format_date(local, "long", locale=language)}
    context["k"] = env.get_template(f"kinds/{kind}.j2").make_module(context)
    context["steps"] = list(shown.steps or context["k"].steps)
    return context


def _jargon_in(text: str) -> list[str]:
    """The jargon terms a text uses, in the order of ``JARGON``."""
    lowered = text.lower()
    return [term for term, pattern, hints in _JARGON
            if any(hint in lowered for hint in hints) and pattern.search(text)]


def _render(language: str, layout: str, context: dict[str, Any], *, html: bool = True) -> Rendered:
    """Subject first (the layouts show it), then the text, whose jargon decides the glossary that ends
    both bodies; the HTML body only when asked for (``html``)."""
    env = _environment(language)
    context["subject"] = _one_line(env.get_template(f"{layout}.subject").render(context))
    text = env.get_template(f"{layout}.txt").render(context)
    glossary = _jargon_in(text)
    return Rendered(subject=context["subject"],
                    text=_tidy(text + env.get_template("glossary.txt").render(glossary=glossary)),
                    html=env.get_template(f"{layout}.html").render(context, glossary=glossary) if html else "")


def _tidy(text: str) -> str:
    """At most one blank line in a row, one newline at the end: what the conditional sections leave."""
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def render(message: Message, language: str, *, html: bool = True) -> Rendered:
    """One alert (or all-clear) in one language; TLP:RED says only that there is something to read, and where.
    ``html=False`` leaves the HTML body empty, at half the cost: for a page that shows the text (the web alert)."""
    return _render(language, "message", _item(message, language), html=html)


def render_digest(messages: Sequence[Message], language: str, *, organisation: str, period: str) -> Rendered:
    """A daily or weekly summary (``period`` is "daily" or "weekly"): one short section per alert, most
    severe first, then newest first. An empty digest is a caller's mistake (nothing to send): ValueError."""
    if period not in PERIODS:
        raise ValueError(f"period must be one of {', '.join(PERIODS)}, not {period!r}")
    if not messages:
        raise ValueError("a digest needs at least one message")
    ordered = sorted(messages, key=lambda m: (-SEVERITY_ORDER[m.severity], -m.published_at.timestamp()))
    items = [_item(message, language) for message in ordered]
    return _render(language, "digest", {"items": items, "organisation": organisation, "period": period})


def _one_line(subject: str) -> str:
    subject = re.sub(r"\s*[\r\n]+\s*|[ \t]+", " ", subject).strip()
    return subject if len(subject) <= MAX_SUBJECT else subject[:MAX_SUBJECT - 1].rstrip() + "…"


# What a subject depends on: every field of the message but its links.
_SUBJECT_FIELDS = tuple(f.name for f in dataclasses.fields(Message) if f.name != "answer_urls")


def subject(message: Message, language: str) -> str:
    """Only the subject ``render`` gives, at an eighth of its cost: for lists of alerts (the web inbox).

    Remembered per message and language: an inbox shows the same page of subjects at every visit, and
    rendering them was two thirds of the page's time. The key is the message itself, as the caller composed
    it for its reader through the read rule, so nothing one reader may not read is kept for another."""
    return _subject(tuple(getattr(message, name) for name in _SUBJECT_FIELDS), language)


@functools.lru_cache(maxsize=8192)
def _subject(values: tuple[Any, ...], language: str) -> str:
    message = Message(**dict(zip(_SUBJECT_FIELDS, values, strict=True)))
    return _one_line(_environment(language).get_template("message.subject").render(_item(message, language)))
