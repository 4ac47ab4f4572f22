"""Languages of the reports: message catalogues (templates/messages.<lang>.json), numbers and dates.

    t = Translator("fr")
    t("status.title")                 # a message
    t.n("unit.devices", 1234)         # "1 234 appareils" (the plural form chosen by count)
    t.pct(0.875)                      # "87,5 %"
    t.pct(None)                       # "—": no device in scope, so no rate (never "100 %" of nothing)
    t.date(date(2023, 3, 1))          # "1er mars 2023"

French numbers use a no-break space (U+00A0) between thousands and before "%", so they never wrap. French
messages follow French typography (`typeset_fr`): a narrow no-break space (U+202F) before ; ! ?, a no-break
space (U+00A0) before : and inside « », so a line never breaks before the mark.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from functools import cache
from importlib.resources import files
from typing import Any

from interdit.errors import ConfigError
from interdit.model import utc

LANGS: tuple[str, ...] = ("en", "fr")
NBSP = "\u00a0"
NNBSP = "\u202f"  # narrow no-break space
_FR_SPACES = ((" :", NBSP + ":"), (" ;", NNBSP + ";"), (" !", NNBSP + "!"), (" ?", NNBSP + "?"),
              ("« ", "«" + NBSP), (" »", NBSP + "»"))
NO_RATE = "—"  # what people see where a rate has no denominator ("no device in scope")


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ConfigError(f"unknown report language {lang!r}",
                          fix="use one of: " + ", ".join(LANGS) + " (for example --lang fr)")
    return lang


@cache
def messages(lang: str) -> dict[str, str]:
    """The message catalogue of `lang` (read once from the package data)."""
    check_lang(lang)
    text = files("interdit.reporting").joinpath(f"templates/messages.{lang}.json").read_text("utf-8")
    loaded: dict[str, str] = json.loads(text)
    if lang == "fr":
        return {k: typeset_fr(v) for k, v in loaded.items()}
    return loaded


def typeset_fr(text: str) -> str:
    """French typography in a message: the plain space before : ; ! ? and », and after «, becomes a no-break
    one (narrow before ; ! ?), so a line never begins with the mark. Applied to the catalogue's own words only,
    never to the values put in them (a device name or an org unit is shown as its source wrote it)."""
    for plain, fixed in _FR_SPACES:
        text = text.replace(plain, fixed)
    return text


class Translator:
    """Messages, numbers and dates in one language."""

    def __init__(self, lang: str) -> None:
        self.lang = check_lang(lang)
        self._messages = messages(lang)

    def __call__(self, key: str, **values: Any) -> str:
        try:
            template = self._messages[key]
        except KeyError:
            raise ConfigError(f"message {key!r} is missing from messages.{self.lang}.json",
                              fix="add it to both message catalogues") from None
        return template.format(**values) if values else template

    def n(self, key: str, count: int, **values: Any) -> str:
        """A message with a count, in the plural form the language needs ("one" or "other")."""
        one = count == 1 or (self.lang == "fr" and count == 0)
        return self(f"{key}.{'one' if one else 'other'}", n=self.num(count), **values)

    def num(self, value: int) -> str:
        text = f"{value:,}"
        return text.replace(",", NBSP) if self.lang == "fr" else text

    def pct(self, rate: float | None) -> str:
        if rate is None:
            return NO_RATE
        text = f"{rate * 100:.1f}"
        return text.replace(".", ",") + NBSP + "%" if self.lang == "fr" else text + "%"

    def date(self, d: date) -> str:
        month = self(f"month.{d.month}")
        if self.lang == "fr":
            return f"{'1er' if d.day == 1 else d.day} {month} {d.year}"
        return f"{d.day} {month} {d.year}"

    def datetime(self, dt: datetime) -> str:
        dt = utc(dt)
        clock = f"{dt.hour}{NBSP}h{NBSP}{dt.minute:02d}" if self.lang == "fr" else f"{dt:%H:%M}"
        return f"{self.date(dt.date())}, {clock} UTC"

    def state(self, state: str) -> str:
        return self(f"state.{state}")

    def kind(self, kind: str) -> str:
        return self(f"kind.{kind}")
