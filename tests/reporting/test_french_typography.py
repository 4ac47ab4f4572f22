"""French as it is printed: no plain space before : ; ! ? », none after «, right plurals, no article guessed
before an organisation's name, in every French report format and in the French golden files."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from builders.page_text import PageText
from interdit.reporting.base import formats
from interdit.reporting.i18n import NBSP, NNBSP, Translator, messages, typeset_fr
from interdit.testing.reports import report_data

GOLDEN = Path(__file__).parent / "golden"
# a plain (breakable) space where French needs a no-break one
BAD = re.compile(r" [:;!?»]|« ")


def readable(name: str, text: str) -> str:
    if name.endswith("html"):
        parser = PageText()
        parser.feed(text)
        return "\n".join(parser.parts)
    return text


def offences(text: str) -> list[str]:
    return [text[max(m.start() - 30, 0):m.end() + 10] for m in BAD.finditer(text)]


def test_the_french_golden_files_have_no_breakable_space_before_a_mark() -> None:
    files = sorted(p for p in GOLDEN.glob("*.fr.*") if p.suffix in (".html", ".txt"))
    assert {p.name for p in files} >= {"html.fr.html", "table.fr.txt", "findings-table.fr.txt"}
    for path in files:
        text = readable(path.name, path.read_text("utf-8"))
        assert ":" in text
        assert offences(text) == [], path.name


@pytest.mark.parametrize("fmt", ["html", "table", "findings-table"])
def test_every_french_format_typesets_its_own_words(fmt: str) -> None:
    text = readable(fmt, formats.get(fmt)().render(report_data(), "fr"))
    assert offences(text) == []
    assert fmt == "findings-table" or NBSP + ":" in text


def test_every_french_message_is_typeset() -> None:
    for key, value in messages("fr").items():
        assert offences(value) == [], key
    assert typeset_fr("Note : « oui » ; non ! quoi ?") == (
        f"Note{NBSP}: «{NBSP}oui{NBSP}»{NNBSP}; non{NNBSP}! quoi{NNBSP}?")


def test_values_are_shown_as_their_source_wrote_them() -> None:
    # an org unit with a plain space before a colon is the organisation's own text: kept as it is
    data = report_data()
    odd = "/Sécurité : terrain"
    data = dataclasses.replace(data, findings=tuple(dataclasses.replace(f, org_unit=odd) for f in data.findings))
    assert odd in formats.get("findings-table")(width=200).render(data, "fr")  # type: ignore[call-arg]


def test_french_counts_take_the_right_plural() -> None:
    t = Translator("fr")
    assert t.n("card.compliant", 1, in_scope=t.n("unit.devices_in_scope", 1)) == (
        "appareil conforme, sur 1 appareil visé")
    assert t.n("card.compliant", 2, in_scope=t.n("unit.devices_in_scope", 3)) == (
        "appareils conformes, sur 3 appareils visés")
    data = report_data()
    one = dataclasses.replace(data, summary=dataclasses.replace(data.summary, compliant=1, devices_in_scope=1))
    table = formats.get("table")().render(one, "fr")
    assert "(1 conforme sur 1 appareil visé)" in table and "1 conformes" not in table
    html = formats.get("html")().render(one, "fr")
    assert "appareil conforme, sur 1 appareil visé" in html
    assert "1 conformes" not in html and "appareils conformes, sur" not in html


def test_no_article_is_guessed_before_the_organisation_name() -> None:
    for organisation in ("Ministère de la Cybersécurité et du Numérique", "Agence du revenu", "Hydro-Québec"):
        data = dataclasses.replace(report_data(), organisation=organisation)
        html = formats.get("html")().render(data, "fr")
        lead = re.search(r'<p class="lead">(.*?)</p>', html, re.S)
        assert lead is not None and lead.group(1).startswith(organisation + " — au ")
        assert f"de {organisation}" not in lead.group(1)
    for text in messages("fr").values():
        assert "inconnu(e)" not in text and "(s)" not in text
