"""Naming a legacy code page from a short export: a French Windows-1252 file is read as Windows-1252 (not Big5,
not Windows-1250), and text in other alphabets keeps the code page the detector recognised."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from interdit.inventory._encoding import detect, display_name

HEAD = "device_id;platform;name;org_unit\n"


@pytest.mark.parametrize(("text", "encoding"), [
    ("A1;android;Éducation générale;/Québec\n", "cp1252"),
    ("A1;ios;Ministère de l'Économie;très élevé, à côté, « œuvre » – 12 €\n", "cp1252"),
    ("A1;android;Québec;/MCN\n", "cp1252"),
    ("A1;android;Straße;Müller, Ørsted, Ålesund\n", "cp1252"),
    ("A1;android;Černá Hora;Žďár nad Sázavou, příliš žluťoučký kůň\n", "cp1250"),
    ("A1;android;Υπουργείο Οικονομικών;/Αθήνα\n", "cp1253"),
])
def test_a_short_export_is_named_by_its_own_code_page(text: str, encoding: str) -> None:
    found = detect((HEAD + text).encode(encoding), complete=True)
    assert found is not None
    assert display_name(found.encoding) == display_name(encoding)
    assert (HEAD + text).encode(encoding).decode(found.encoding) == HEAD + text


_WORDS = st.sampled_from(["Québec", "Montréal", "Ministère", "Sécurité", "Santé", "Éducation", "Français", "Gaspésie",
                          "Trois-Rivières", "Lévis", "Chaudière", "île", "Forêt", "Hôtel", "Noël", "Zoë", "Cœur",
                          "Téléphone", "Équipe", "appareil", "TikTok", "WeChat", "cellulaire", "à", "où"])


@settings(max_examples=150, deadline=None)
@given(rows=st.lists(st.lists(_WORDS, min_size=1, max_size=4).map(" ".join), min_size=1, max_size=6))
def test_french_text_in_windows_1252_reads_back_exactly(rows: list[str]) -> None:
    text = HEAD + "".join(f"A{i};android;{row};/MCN\n" for i, row in enumerate(rows))
    found = detect(text.encode("cp1252"), complete=True)
    assert found is not None and found.encoding in ("cp1252", "utf-8")
    assert text.encode("cp1252").decode(found.encoding) == text
