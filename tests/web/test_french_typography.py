"""French as it is printed on the dashboard: no breakable space before : ; ! ? », none after «, on every page a
person reads in French (the same rule as the reports' check, tests/reporting/test_french_typography.py)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from builders.page_text import PageText
from interdit.server.web import i18n
from web.test_pages import _sign_in

BAD = re.compile(r" [:;!?»]|« ")


def _offences(html: str) -> list[str]:
    parser = PageText()
    parser.feed(html)
    text = "\n".join(parser.parts)
    return [text[max(m.start() - 40, 0):m.end() + 10] for m in BAD.finditer(text)]


def test_every_french_word_of_the_dashboard_is_typeset() -> None:
    t = i18n.translator("fr")
    for key in i18n.words("en"):
        assert BAD.findall(t(key)) == [], key
    assert t("login_wait", seconds=5) == "Trop de connexions échouées\u00a0: réessayez dans 5 secondes."
    assert i18n.translator("en")("login_wait", seconds=5) == "Too many failed sign-ins: try again in 5 seconds."


def test_every_french_page_keeps_french_typography(client: TestClient) -> None:
    login = client.get("/login", headers={"accept-language": "fr"})
    assert "Se connecter" in login.text and _offences(login.text) == []
    _sign_in(client, "admin", lang="fr")
    client.cookies.set("interdit_lang", "fr")
    finding = client.get("/api/v1/findings?state=violation").json()["items"][0]
    pages = ["/", "/?as_of=2023-03-01", "/violations", "/violations?state=not_evaluable", "/catalogue",
             "/exceptions", "/sightings", "/apks", "/audit", "/jobs",
             f"/devices/{finding['source']}/{finding['device_id']}"]
    for url in pages:
        r = client.get(url)
        assert r.status_code == 200 and 'lang="fr"' in r.text, url
        assert _offences(r.text) == [], url
