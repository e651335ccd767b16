"""Alert wording: every kind in every language with nothing left untranslated, TLP:RED never in the
message, jargon always explained, plain English, localised dates and numbers, safe HTML, and catalogues
in step with the templates and with their compiled form."""

from __future__ import annotations

import configparser
import dataclasses
import functools
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import textstat
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from typer.testing import CliRunner

from exchange import cli
from exchange.alerts import wording
from exchange.alerts.message import Message, Rendered, Sender
from exchange.alerts.models import AlertKind, Severity, SourceGrade

ROOT = Path(__file__).resolve().parents[2]
OTHER_LANGUAGES = [language for language in wording.LANGUAGES if language != "en"]

# Terms a bakery owner may not know, spelled as they reach a text. Kept apart from wording.JARGON on
# purpose: this list is the oracle, so a term wording forgets to explain fails here.
TERMS = {
    "IOC": r"\bIoCs?\b", "STIX": r"\bSTIX\b", "TAXII": r"\bTAXII\b", "TTP": r"\bTTPs?\b", "C2": r"\bC2\b",
    "CVE": r"\bCVE\b", "CVSS": r"\bCVSS\b", "phishing": r"\bphishing\b", "malware": r"\bmalware\b",
    "ransomware": r"\bransomware\b", "botnet": r"\bbotnets?\b", "DDoS": r"\bDDoS\b", "zero-day": r"\bzero-day\b",
    "exploit": r"\bexploit(?:s|ed)?\b", "RDP": r"\bRDP\b", "SMB": r"\bSMB\b", "TLP": r"\bTLP\b",
}
EVERY_TERM = ("Our IOC feed (STIX over TAXII) links this C2 and its TTPs to a botnet that sends phishing and "
              "malware, then ransomware; it exploits CVE-2024-3400 (CVSS 10), a zero-day, plus RDP and SMB, for DDoS.")


def make_message(kind: AlertKind = AlertKind.listed, **changes: Any) -> Message:
    base = Message(
        kind=kind, severity=Severity.high, grade=SourceGrade.probable, tlp="amber",
        organisation="Boulangerie Martin", asset="bakery.example", matched="login-bakery.example",
        published_at=datetime(2026, 12, 5, 23, 30, tzinfo=UTC), sender=Sender("CERT-FR", "cert@cert.example"),
        read_url="https://hub.example/alerts/1",
        answer_urls={"fixed": "https://hub.example/a/fixed", "need-help": "https://hub.example/a/help",
                     "not-ours": "https://hub.example/a/not-ours"},
        software="PAN-OS 10.2.9", port=3389, service="rdp", sector="I", timezone="Europe/Paris")
    return dataclasses.replace(base, **changes)


def variants() -> dict[str, Message]:
    """Every template and every branch in it: each kind, all-clear, TLP:RED, exploited or not."""
    found = {kind.value: make_message(kind) for kind in AlertKind}
    found["software-exploited"] = make_message(AlertKind.software, exploited=True, matched="CVE-2024-3400")
    found["sector-titled"] = make_message(AlertKind.sector, title="Card skimmers in bakeries")
    found["exposure-unknown-service"] = make_message(AlertKind.exposure, service=None, port=None)
    found["cleared"] = make_message(AlertKind.listed, cleared=True)
    found["cleared-sector"] = make_message(AlertKind.sector, cleared=True, matched="I", asset="sector:I")
    found["listed-own"] = make_message(AlertKind.listed, matched="bakery.example")
    found["red"] = make_message(AlertKind.listed, tlp="red")
    found["withheld"] = make_message(AlertKind.listed, withheld=True, title="Fake login page", description="Secret")
    found["many-steps"] = make_message(AlertKind.listed, steps=tuple(f"Step {n}." for n in range(7)))
    found["every-term"] = make_message(AlertKind.listed, description=EVERY_TERM)
    for grade in SourceGrade:
        found[f"grade-{grade.value}"] = make_message(grade=grade)
    for severity in Severity:
        found[f"severity-{severity.value}"] = make_message(severity=severity)
    for level in ("clear", "green", "amber+strict"):
        found[f"tlp-{level}"] = make_message(tlp=level)
    return found


@functools.cache
def renderings(language: str) -> dict[str, Rendered]:
    found = {name: wording.render(message, language) for name, message in variants().items()}
    for period in wording.PERIODS:
        found[f"digest-{period}"] = wording.render_digest(
            list(variants().values()), language, organisation="Boulangerie Martin", period=period)
        found[f"digest-{period}-one"] = wording.render_digest(
            [make_message()], language, organisation="Boulangerie Martin", period=period)
    return found


def catalogue(language: str | None) -> Catalog:
    """The template (``None``) or one language's catalogue, as committed."""
    path = wording.TRANSLATIONS_DIR / (f"{language}/LC_MESSAGES/messages.po" if language else "messages.pot")
    with path.open("rb") as po:
        return read_po(po, locale=language)


def forms(value: object) -> tuple[str, ...]:
    """A message id or string as its forms: one, or singular and plurals (babel gives str, tuple or list)."""
    if isinstance(value, str):
        return (value,) if value else ()
    return tuple(str(form) for form in value) if isinstance(value, list | tuple) else ()


def english_fragments() -> set[str]:
    """Pieces of every English message long enough (two words) to betray a missing translation."""
    pieces: set[str] = set()
    for message in catalogue(None):
        for msgid in forms(message.id):
            pieces.update(part.strip(" .,:;?()") for part in re.split(r"%\(\w+\)s", msgid))
    return {piece for piece in pieces if len(piece.split()) >= 2}


def unexplained(text: str) -> list[str]:
    """Terms the text uses without a line or bracket that explains them in a few words."""
    missing = []
    for term, pattern in TERMS.items():
        if not re.search(pattern, text, re.IGNORECASE):
            continue
        listed = re.search(rf"^- {re.escape(term)}\s*[:：]\s*\S.{{8,}}$", text, re.MULTILINE | re.IGNORECASE)
        bracketed = re.search(rf"{pattern}\S*\s?[(（][^)）]{{8,}}[)）]", text, re.IGNORECASE)
        if not (listed or bracketed):
            missing.append(term)
    return missing


@pytest.mark.parametrize("language", OTHER_LANGUAGES)
def test_every_template_renders_with_nothing_left_in_english(language: str) -> None:
    english = english_fragments()
    assert len(english) > 50  # the oracle has something to find
    for name, rendered in renderings(language).items():
        for part in (rendered.subject, rendered.text, rendered.html):
            left = sorted(piece for piece in english if piece in part)
            assert left == [], f"{language} {name}: untranslated {left}"
            assert "%(" not in part, f"{language} {name}: a placeholder left"
            assert "None" not in part, f"{language} {name}: a missing value"


@pytest.mark.parametrize("language", wording.LANGUAGES)
def test_every_template_renders_every_section(language: str) -> None:
    rendered = wording.render(make_message(AlertKind.lookalike, title="Fake shop", description="Words."), language)
    for value in ("login-bakery.example", "Fake shop", "Words.", "CERT-FR", "cert@cert.example", "TLP:AMBER",
                  "https://hub.example/alerts/1", "https://hub.example/a/fixed", "https://hub.example/a/help"):
        assert value in rendered.text, (language, value)
        assert value in rendered.html, (language, value)
    assert re.search(r"^1\. .+\n2\. .+\n3\. .+", rendered.text, re.MULTILINE)  # numbered steps
    assert rendered.html.count("<li") >= 3 + 2


@pytest.mark.parametrize("language", OTHER_LANGUAGES)
def test_catalogue_is_complete_and_its_placeholders_match(language: str) -> None:
    translated = catalogue(language)
    template_ids = {forms(message.id) for message in catalogue(None) if message.id}
    assert {forms(message.id) for message in translated if message.id} == template_ids
    for message in translated:
        if not message.id:
            continue
        msgid = forms(message.id)[0]
        strings = forms(message.string)
        assert strings, f"{language}: no translation for {msgid!r}"
        assert all(strings), f"{language}: a plural form of {msgid!r} is empty"
        assert not message.fuzzy, f"{language}: {msgid!r} is marked fuzzy (needs review)"
        words = re.findall(r"[A-Za-z]+", re.sub(r"%\(\w+\)s", "", msgid))
        assert len(words) <= 1 or strings[0] != msgid, f"{language}: {msgid!r} is left in English"
        for string in strings:
            assert set(re.findall(r"%\(\w+\)s", string)) == set(re.findall(r"%\(\w+\)s", msgid)), (language, msgid)


def test_the_catalogue_template_matches_the_templates_and_code() -> None:
    """A string added to a template or to wording.py without `pybabel extract` + `update` would go out in
    English to every reader: the committed catalogue template must list exactly what the sources say."""
    config = configparser.ConfigParser()
    config.read(ROOT / "babel.cfg")
    sections = [(section.split(":", 1)[1].strip(), section.split(":", 1)[0].strip(), section)
                for section in config.sections()]
    method_map = [(pattern, method) for pattern, method, _ in sections]
    options_map = {pattern: dict(config[section]) for pattern, _, section in sections}
    extracted = {forms(message) for _, _, message, _, _ in extract_from_dir(str(ROOT), method_map, options_map)}
    assert extracted == {forms(message.id) for message in catalogue(None) if message.id}


def translated_pairs(messages: Catalog) -> dict[tuple[str, ...], tuple[str, ...]]:
    """msgid -> msgstr of the messages that would be used (an untranslated plural is compiled as its
    English forms, which is what an empty one means anyway)."""
    pairs = {forms(message.id): forms(message.string) for message in messages if message.id and not message.fuzzy}
    return {msgid: string for msgid, string in pairs.items() if string != msgid and any(string)}


def compiled(language: str) -> Catalog:
    with (wording.TRANSLATIONS_DIR / f"{language}/LC_MESSAGES/messages.mo").open("rb") as mo:
        return read_mo(mo)


@pytest.mark.parametrize("language", wording.LANGUAGES)
def test_compiled_catalogue_matches_its_po(language: str) -> None:
    """The .mo is what runs; a .po edited without `pybabel compile` must fail here, not in a reader's inbox."""
    assert translated_pairs(compiled(language)) == translated_pairs(catalogue(language))


def test_a_stale_compiled_catalogue_is_caught() -> None:
    """The comparison above sees a changed translation (so its silence means something)."""
    edited = catalogue("fr")
    edited["What happened"].string = "Ce qui est arrivé"
    assert translated_pairs(compiled("fr")) != translated_pairs(edited)


SECRETS = {"title": "Operation Croissant", "description": "Seen on 10.9.8.7 by our sensor",
           "matched": "secret-login.bakery.example", "steps": ("Unplug the till server",),
           "software": "SecretSoft 4.2", "service": "secret-service", "asset": "till.bakery.example"}


@pytest.mark.parametrize("language", wording.LANGUAGES)
@pytest.mark.parametrize("kind", list(AlertKind))
def test_tlp_red_says_where_to_read_and_nothing_else(language: str, kind: AlertKind) -> None:
    red = make_message(kind, tlp="red", **SECRETS)
    for rendered in (wording.render(red, language), wording.render(dataclasses.replace(red, cleared=True), language),
                     wording.render_digest([red, make_message()], language, organisation="B", period="daily")):
        for part in (rendered.subject, rendered.text, rendered.html):
            assert "https://hub.example/alerts/1" in part or part is rendered.subject
            for secret in ("Croissant", "10.9.8.7", "secret-login", "Unplug", "SecretSoft", "secret-service", "till."):
                assert secret not in part, f"{language} {kind}: {secret} leaked"
        assert "TLP:RED" in rendered.text


@pytest.mark.parametrize("language", wording.LANGUAGES)
@pytest.mark.parametrize("kind", list(AlertKind))
def test_a_withheld_alert_names_the_asset_to_confirm_and_nothing_of_the_object(language: str,
                                                                               kind: AlertKind) -> None:
    withheld = make_message(kind, withheld=True, **SECRETS)
    rendered = wording.render(withheld, language)
    for part in (rendered.text, rendered.html):
        assert "till.bakery.example" in part, "the asset to confirm is named"
        for secret in ("Croissant", "10.9.8.7", "secret-login", "Unplug", "SecretSoft", "secret-service"):
            assert secret not in part, f"{language} {kind}: {secret} leaked"
        assert "https://hub.example/a/" not in part, "a withheld alert cannot be answered"


@pytest.mark.parametrize("language", wording.LANGUAGES)
def test_no_jargon_goes_unexplained(language: str) -> None:
    for name, rendered in renderings(language).items():
        assert unexplained(rendered.text) == [], f"{language} {name}"
        html_terms = [term for term, pattern in TERMS.items() if re.search(pattern, rendered.html, re.IGNORECASE)]
        assert all(f"<dt style=\"font-weight:bold;\">{term}</dt>" in rendered.html for term in html_terms), name


def test_the_jargon_check_sees_an_unexplained_term() -> None:
    assert unexplained("Block this IOC and patch CVE-2024-1 now.") == ["IOC", "CVE"]
    assert unexplained("Block this IOC (a clue of an attack) now.\n- CVE: a flaw's public number.") == []
    rendered = wording.render(make_message(description=EVERY_TERM), "en")
    assert unexplained(rendered.text.split("Words used in this message")[0]) == list(TERMS)


ONE_OF_EACH = ["listed", "lookalike", "software-exploited", "exposure", "sector-titled", "cleared", "red"]


@pytest.mark.parametrize("name", [*(kind.value for kind in AlertKind), *ONE_OF_EACH, "every-term"])
def test_english_reads_easily(name: str) -> None:
    assert textstat.flesch_reading_ease(wording.render(variants()[name], "en").text) >= 60


@pytest.mark.parametrize("period", wording.PERIODS)
def test_english_digest_reads_easily(period: str) -> None:
    """A digest of one alert of each template (the full variant set repeats one kind twenty times)."""
    digest = wording.render_digest([variants()[name] for name in ONE_OF_EACH], "en", organisation="Boulangerie Martin",
                                   period=period)
    assert textstat.flesch_reading_ease(digest.text) >= 60


@pytest.mark.parametrize(("language", "date", "time"), [
    ("en", "December 6, 2026", "8:30 AM"), ("fr", "6 décembre 2026", "08:30"), ("de", "6. Dezember 2026", "08:30"),
    ("it", "6 dicembre 2026", "08:30"), ("ja", "2026年12月6日", "8:30")])
def test_dates_are_localised_in_the_readers_time_zone(language: str, date: str, time: str) -> None:
    rendered = wording.render(make_message(timezone="Asia/Tokyo"), language)  # 23:30 UTC is 08:30 the next day
    text = rendered.text.replace("\u202f", " ")  # CLDR puts a narrow no-break space before AM/PM
    assert date in text
    assert time in text
    assert date in rendered.html


@pytest.mark.parametrize(("language", "count"), [("en", "1,200"), ("de", "1.200"), ("fr", "1\u202f200")])
def test_numbers_are_localised(language: str, count: str) -> None:
    many = [make_message(published_at=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=n)) for n in range(1200)]
    assert count in wording.render_digest(many, language, organisation="B", period="weekly").subject


def test_html_escapes_what_the_publisher_and_the_reader_wrote() -> None:
    hostile = "<script>alert(1)</script>"
    rendered = wording.render(make_message(title=hostile, description=hostile, organisation=hostile,
                                           sender=Sender(hostile, hostile), matched=hostile), "en")
    digest = wording.render_digest([make_message(matched=hostile)], "en", organisation=hostile, period="daily")
    for html in (rendered.html, digest.html):
        assert "<script" not in html
        assert "&lt;script&gt;" in html


@pytest.mark.parametrize("language", wording.LANGUAGES)
def test_html_is_self_contained_and_declares_its_language(language: str) -> None:
    for rendered in renderings(language).values():
        assert f'<html lang="{language}">' in rendered.html
        assert not re.search(r"<img|<link|<script|<iframe|\ssrc=|url\(|@import", rendered.html)


def test_publisher_steps_replace_the_templates_and_are_capped() -> None:
    few = wording.render(make_message(steps=("Call your bank.", "Close the shop site.", "Ring us.")), "en")
    assert "1. Call your bank.\n2. Close the shop site.\n3. Ring us.\n\n" in few.text
    many = wording.render(variants()["many-steps"], "en")
    assert "5. Step 4." in many.text
    assert "Step 5." not in many.text
    assert "2 more steps are in the full alert." in many.text


def test_long_publisher_text_is_cut_and_an_all_clear_asks_for_no_answer() -> None:
    long = wording.render(make_message(description="word " * 1000, title="T" * 500), "en")
    assert "word " * 290 in long.text
    assert "word " * 310 not in long.text
    assert "T" * 210 not in long.text
    cleared = wording.render(make_message(cleared=True), "en")
    assert "https://hub.example/a/" not in cleared.text + cleared.html
    assert "https://hub.example/alerts/1" in cleared.text


def test_a_sector_all_clear_names_the_advice_not_the_match_key() -> None:
    untitled = wording.render(variants()["cleared-sector"], "en")
    titled = wording.render(dataclasses.replace(variants()["cleared-sector"], title="Card skimmers"), "en")
    assert "sector:I" not in untitled.text + titled.text
    assert "All clear: the warning about Card skimmers has ended" in titled.text


def test_a_long_or_multi_line_value_makes_a_short_one_line_subject() -> None:
    long = wording.render(make_message(matched="https://shop.bakery.example/" + "a" * 900), "en").subject
    assert len(long) <= wording.MAX_SUBJECT
    assert long.startswith("Important: https://shop.bakery.example/aaa")
    split = wording.render(make_message(matched="evil.example\r\nBcc: victim@example.org"), "en").subject
    assert split == "Important: evil.example Bcc: victim@example.org is on a list of bad addresses"


def test_digest_puts_the_most_severe_first() -> None:
    low = make_message(AlertKind.sector, severity=Severity.low)
    critical = make_message(AlertKind.software, severity=Severity.critical)
    medium = make_message(AlertKind.lookalike, severity=Severity.medium)
    text = wording.render_digest([low, critical, medium], "en", organisation="B", period="daily").text
    assert text.index("1. PAN-OS") < text.index("2. Someone uses") < text.index("3. Security tips")


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="language"):
        wording.render(make_message(), "xx")
    with pytest.raises(ValueError, match="period"):
        wording.render_digest([make_message()], "en", organisation="B", period="hourly")
    with pytest.raises(ValueError, match="at least one"):
        wording.render_digest([], "en", organisation="B", period="daily")


def test_the_catalogue_loader_is_the_one_for_the_language() -> None:
    """The portal reuses ``translations``; it must hand back the language asked for."""
    assert wording.translations("ja").gettext("What happened") == "何が起きたか"
    assert wording.translations("en").gettext("What happened") == "What happened"


def test_the_benchmark_renders_every_sample_in_every_language() -> None:
    result = CliRunner().invoke(cli.app, ["bench", "wording", "-n", "7", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [row["language"] for row in rows] == list(wording.LANGUAGES)
    assert all(row["messages"] == 7 and row["messages_per_second"] > 0 for row in rows)
