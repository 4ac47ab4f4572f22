"""Languages: both message catalogues say the same things, numbers and dates read the local way, and an
unknown language is refused with a fix."""

from __future__ import annotations

import re
import string
from datetime import date
from pathlib import Path

import pytest

from interdit import i18n
from interdit.errors import ConfigError
from interdit.reporting.base import formats
from interdit.reporting.i18n import LANGS, NBSP, Translator, messages
from interdit.testing.reports import report_data

SOURCES = Path(__file__).resolve().parents[2] / "src" / "interdit" / "reporting"


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_key_exists_in_both_languages_with_the_same_placeholders() -> None:
    en, fr = messages("en"), messages("fr")
    assert set(en) == set(fr), sorted(set(en) ^ set(fr))
    for key in en:
        assert en[key].strip() and fr[key].strip(), key
        assert _fields(en[key]) == _fields(fr[key]), key


def test_every_key_the_code_uses_exists() -> None:
    used: set[str] = set()
    for path in [*SOURCES.glob("*.py"), *SOURCES.glob("templates/*.j2")]:
        used |= set(re.findall(r"""\bt(?:\.n)?\(\s*["']([a-z_]+\.[a-z_.]+)["']""", path.read_text("utf-8")))
    assert len(used) > 50
    plural = {k.rsplit(".", 1)[0] for k in i18n.keys("en") if k.endswith(".one")}
    missing = sorted(k for k in used if k not in messages("en") and k not in plural)
    assert not missing, missing


# words spelled the same in both languages (proper names, technical terms, French words English shares)
SAME_IN_BOTH = {"Date", "Directive", "Directives", "Source", "Sources", "SOURCE", "Organisation", "site", "interdit",
                "API", "Action", "Score", "Verdict", "Version", "Signature", "Signatures",
                "SHA-256", "Protection", "protection", "signature", "acceptable", "Acceptable", "info", "Points",
                "Identification", "adoption", "directive", "true/false", "{how}", "App Transport Security",
                "Apple Pay", "Bluetooth", "Contacts", "Face ID", "Siri"}


def test_french_is_not_english() -> None:
    en, fr = messages("en"), messages("fr")
    same = {en[k] for k in en if en[k] == fr[k]}
    assert same <= SAME_IN_BOTH, same - SAME_IN_BOTH


@pytest.mark.parametrize("name", ["table", "json", "findings-table", "findings-json", "csv", "html"])
@pytest.mark.parametrize("lang", ["de", "", "EN", "fr-CA"])
def test_unknown_language_is_refused_with_a_fix(name: str, lang: str) -> None:
    with pytest.raises(ConfigError) as info:
        formats.get(name)().render(report_data(), lang)
    assert "fix:" in str(info.value) and "fr" in str(info.value)


def test_numbers_and_percentages() -> None:
    en, fr = Translator("en"), Translator("fr")
    assert en.num(1234567) == "1,234,567"
    assert fr.num(1234567) == f"1{NBSP}234{NBSP}567"
    assert en.pct(0.875) == "87.5%"
    assert fr.pct(0.875) == f"87,5{NBSP}%"
    assert fr.pct(1.0) == f"100,0{NBSP}%"


def test_dates() -> None:
    assert Translator("en").date(date(2023, 3, 15)) == "15 March 2023"
    assert Translator("fr").date(date(2023, 3, 15)) == "15 mars 2023"
    assert Translator("fr").date(date(2023, 3, 1)) == "1er mars 2023"
    assert Translator("fr").date(date(2023, 8, 2)) == "2 août 2023"


def test_plurals() -> None:
    en, fr = Translator("en"), Translator("fr")
    assert en.n("unit.devices", 1) == "1 device" and en.n("unit.devices", 0) == "0 devices"
    assert fr.n("unit.devices", 0) == "0 appareil" and fr.n("unit.devices", 2) == "2 appareils"
    assert fr.n("unit.devices", 1500) == f"1{NBSP}500 appareils"


def test_langs() -> None:
    assert LANGS == ("en", "fr")
