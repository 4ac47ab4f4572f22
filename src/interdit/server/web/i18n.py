"""The dashboard's words in English and French (the "web." messages of the project's catalogues, docs/i18n.md),
and how numbers and dates are written in each."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from interdit import i18n
from interdit.i18n import LANGS, typeset_fr

__all__ = ["LANGS", "number", "percent", "pick_lang", "translator", "typeset_fr", "when", "words"]


def words(lang: str) -> dict[str, str]:
    """The dashboard's messages in `lang`, by their short key (French already typeset)."""
    return i18n.section(lang if lang in LANGS else "en", "web")


def pick_lang(cookie: str | None, accept_language: str | None) -> str:
    """The cookie's choice, else the browser's preferred of en/fr (by q value), else English."""
    if cookie in LANGS:
        return cookie
    best, best_q = "en", -1.0
    for part in (accept_language or "").split(",")[:20]:
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                continue
        if not 0 < q <= 1:
            continue
        base = tag.strip().lower().split("-")[0]
        if base in LANGS and q > best_q:
            best, best_q = base, q
    return best


def translator(lang: str) -> Callable[..., str]:
    table = words(lang)

    def t(key: str, **values: object) -> str:
        text = table.get(key, key)
        return text.format(**values) if values else text

    return t


def number(value: float | int, lang: str) -> str:
    return i18n.number(value, lang if lang in LANGS else "en")


def percent(rate: float | None, lang: str) -> str:
    """"87.5%" / "87,5 %"; "—" when there is no rate (no device in scope: never a 100 % of nothing)."""
    return i18n.percent(rate, lang if lang in LANGS else "en")


def when(value: datetime | date | None, lang: str) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    return value.isoformat()
