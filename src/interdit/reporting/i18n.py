"""Languages of the reports: the project's catalogues (interdit.i18n) seen through one object per language.

    t = Translator("fr")
    t("status.title")                 # a message
    t.n("unit.devices", 1234)         # "1 234 appareils" (the plural form chosen by count)
    t.pct(0.875)                      # "87,5 %"
    t.pct(None)                       # "—": no device in scope, so no rate (never "100 %" of nothing)
    t.date(date(2023, 3, 1))          # "1er mars 2023"

Numbers, dates and plural rules come from Babel (fr_CA, en_CA); French messages follow French typography
(`typeset_fr`). See docs/i18n.md.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from interdit import i18n
from interdit.errors import ConfigError
from interdit.i18n import LANGS, NBSP, NNBSP, NO_RATE, typeset_fr

__all__ = ["LANGS", "NBSP", "NNBSP", "NO_RATE", "Translator", "check_lang", "messages", "typeset_fr"]


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ConfigError(f"unknown report language {lang!r}",
                          fix="use one of: " + ", ".join(LANGS) + " (for example --lang fr)")
    return lang


def messages(lang: str) -> dict[str, str]:
    """Every message of `lang`, by key (French already typeset)."""
    return i18n.words(check_lang(lang))


class Translator:
    """Messages, numbers and dates in one language."""

    def __init__(self, lang: str) -> None:
        self.lang = check_lang(lang)

    def __call__(self, key: str, /, **values: Any) -> str:
        return i18n.say(self.lang, key, **values)

    def n(self, key: str, count: int, /, **values: Any) -> str:
        """A message with a count, in the plural form the language's rule chooses (French: 0 and 1 singular)."""
        return i18n.plural(self.lang, key, count, **values)

    def num(self, value: int) -> str:
        return i18n.number(value, self.lang)

    def pct(self, rate: float | None) -> str:
        return i18n.percent(rate, self.lang)

    def date(self, d: date) -> str:
        return i18n.date(d, self.lang)

    def datetime(self, dt: datetime) -> str:
        return i18n.datetime(dt, self.lang)

    def state(self, state: str) -> str:
        return self(f"state.{state}")

    def kind(self, kind: str) -> str:
        return self(f"kind.{kind}")
