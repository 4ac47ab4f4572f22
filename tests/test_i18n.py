"""The catalogues: shipped compiled and up to date, every message in both locales with the same placeholders,
Babel's plural rules, numbers and dates, and French typography on the catalogue's words."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from interdit import i18n
from interdit.errors import ConfigError
from interdit.i18n import build


@pytest.mark.parametrize("locale", sorted(i18n.LOCALES.values()))
def test_the_shipped_mo_is_compiled_from_its_po(locale: str) -> None:
    assert build.mo_path(locale).read_bytes() == build.compiled(locale), \
        f"{build.mo_path(locale)} is out of date: run python scripts/i18n.py compile"


def test_every_message_is_in_both_locales_with_the_same_placeholders() -> None:
    assert build.problems() == []
    assert set(i18n.keys("en")) == set(i18n.keys("fr"))
    assert len(i18n.keys("en")) > 900


def test_a_placeholder_missing_from_one_locale_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    real = build.texts

    def altered(locale: str) -> dict[str, list[str]]:
        table = real(locale)
        if locale == "fr_CA":
            table["web.login_wait"] = ["Réessayez plus tard."]
            del table["web.sign_in"]
        return table

    monkeypatch.setattr(build, "texts", altered)
    found = build.problems()
    assert any(p.startswith("web.login_wait: placeholders differ") for p in found)
    assert "web.sign_in: missing from fr_CA" in found


def test_plurals_follow_each_language_rule() -> None:
    assert i18n.plural("en", "unit.devices", 0) == "0 devices"
    assert i18n.plural("en", "unit.devices", 1) == "1 device"
    assert i18n.plural("fr", "unit.devices", 0) == "0 appareil"
    assert i18n.plural("fr", "unit.devices", 1) == "1 appareil"
    assert i18n.plural("fr", "unit.devices", 2) == "2 appareils"
    assert i18n.plural("fr", "unit.devices", 1_000_000) == "1\u00a0000\u00a0000 appareils"


def test_numbers_percentages_and_dates_the_canadian_way() -> None:
    assert i18n.number(1234567, "en") == "1,234,567" and i18n.number(1234567, "fr") == "1\u00a0234\u00a0567"
    assert i18n.number(1234.5, "fr") == "1\u00a0234,5"
    assert i18n.percent(0.875, "en") == "87.5%" and i18n.percent(0.875, "fr") == "87,5\u00a0%"
    assert i18n.percent(None, "fr") == i18n.NO_RATE
    assert i18n.date(date(2023, 3, 1), "fr") == "1er mars 2023"
    assert i18n.date(date(2023, 3, 2), "fr") == "2 mars 2023"
    assert i18n.date(date(2023, 3, 1), "en") == "1 March 2023"
    assert i18n.datetime(datetime(2023, 3, 1, 14, 5, tzinfo=UTC), "fr") == "1er mars 2023, 14\u00a0h\u00a005 UTC"


def test_french_words_are_typeset_but_not_the_values_put_in_them() -> None:
    assert i18n.text("fr", "card.no_scope") == "aucun appareil visé\u00a0: pas de taux"
    assert i18n.say("fr", "web.sign_in_with", provider="A : B") == "Se connecter avec A : B"
    assert ":" in i18n.text("en", "card.no_scope") and "\u00a0" not in i18n.text("en", "card.no_scope")


def test_a_missing_message_or_language_is_an_error_with_a_fix() -> None:
    with pytest.raises(ConfigError, match="fix:"):
        i18n.text("fr", "no.such.key")
    assert i18n.text("fr", "no.such.key", default="x") == "x"
    with pytest.raises(ConfigError, match="fix:"):
        i18n.text("de", "status.title")
    with pytest.raises(ConfigError, match="fix:"):
        i18n.plural("fr", "status.title", 2)


def test_a_section_is_its_messages_by_short_key() -> None:
    assert i18n.section("fr", "web")["sign_in"] == i18n.text("fr", "web.sign_in") == "Se connecter"


def test_the_package_ships_the_catalogues() -> None:
    import fnmatch
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    patterns = tomllib.loads((root / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"]["package-data"]
    package = root / "src" / "interdit"
    for locale in i18n.LOCALES.values():
        for path in (build.po_path(locale), build.mo_path(locale)):
            name = path.relative_to(package).as_posix()
            assert any(fnmatch.fnmatch(name, p) for p in patterns["interdit"]), name


def test_the_french_po_keeps_plain_spaces_before_marks() -> None:
    """Typography is applied when the catalogue is read: the .po a person edits has plain spaces, never an
    invisible no-break one that only some messages would have."""
    text = build.po_path("fr_CA").read_text("utf-8")
    assert not any(mark in text for mark in ("\u00a0:", "\u202f;", "\u00a0;", "\u202f!", "\u202f?", "«\u00a0",
                                              "\u00a0»"))
    assert " : " in text and "« " in text
