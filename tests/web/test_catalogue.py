"""The portal's gettext catalogue: it lists exactly what the templates and code say, every language translates
every message with the same placeholders, and the compiled .mo files are what the .po files say; dates are
written as babel writes them in each language."""

from __future__ import annotations

import configparser
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.dates import format_datetime
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from hypothesis import given, settings
from hypothesis import strategies as st

from exchange.alerts.wording import LANGUAGES
from exchange.web import render
from exchange.web.render import TRANSLATIONS_DIR

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {**DEFAULT_KEYWORDS, "gettext": (2,), "N_": None}  # `pybabel extract -k gettext:2 -k N_`


def catalogue(language: str | None) -> Catalog:
    path = TRANSLATIONS_DIR / (f"{language}/LC_MESSAGES/web.po" if language else "web.pot")
    with path.open("rb") as po:
        return read_po(po, locale=language)


def test_the_template_lists_exactly_what_the_sources_say() -> None:
    config = configparser.ConfigParser()
    config.read(ROOT / "exchange/web/babel.cfg")
    sections = [(s.split(":", 1)[1].strip(), s.split(":", 1)[0].strip(), s) for s in config.sections()]
    extracted = {message for _, _, message, _, _ in extract_from_dir(
        str(ROOT), [(pattern, method) for pattern, method, _ in sections],
        {pattern: dict(config[section]) for pattern, _, section in sections}, keywords=KEYWORDS)}
    assert extracted == {message.id for message in catalogue(None) if message.id}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated_with_its_placeholders(language: str) -> None:
    template = {message.id for message in catalogue(None) if message.id}
    translated = catalogue(language)
    assert {message.id for message in translated if message.id} == template
    for message in translated:
        if not message.id:
            continue
        msgid, string = str(message.id), str(message.string)  # the portal has no plurals
        assert string, f"{language}: no translation for {msgid!r}"
        assert not message.fuzzy
        assert set(re.findall(r"%\(\w+\)s", string)) == set(re.findall(r"%\(\w+\)s", msgid))
        if language != "en" and len(msgid.split()) > 2:
            assert string != msgid, f"{language}: {msgid!r} is left in English"


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_catalogue_is_the_po(language: str) -> None:
    with (TRANSLATIONS_DIR / f"{language}/LC_MESSAGES/web.mo").open("rb") as mo:
        compiled = {m.id: m.string for m in read_mo(mo) if m.id}
    assert compiled == {m.id: m.string for m in catalogue(language) if m.id}


@settings(max_examples=300, deadline=None)
@given(moment=st.integers(min_value=0, max_value=4_102_444_800_000_000), language=st.sampled_from(LANGUAGES))
def test_dates_are_written_as_babel_writes_them(moment: int, language: str) -> None:
    """``render.moment`` keeps babel's patterns per language instead of parsing them for each row: the same text."""
    when = datetime.fromtimestamp(moment / 1_000_000, tz=UTC)
    assert render.moment(moment, language) == format_datetime(when, "medium", tzinfo=UTC, locale=language) + " UTC"
