"""Every word a person reads, in English and French: one gettext catalogue per language, numbers and dates by Babel.

    from interdit import i18n
    i18n.text("fr", "status.title")                  # a message, by its stable key
    i18n.say("fr", "web.login_wait", seconds=30)     # with its {placeholders} filled
    i18n.plural("fr", "unit.devices", 0)             # "0 appareil": Babel's plural rule (French: 0 and 1 singular)
    i18n.number(1234, "fr")                          # "1 234" (no-break space)
    i18n.percent(0.875, "fr")                        # "87,5 %" ("—" when there is no rate)
    i18n.date(date(2023, 3, 1), "fr")                # "1er mars 2023"

The catalogues are `locale/<locale>/LC_MESSAGES/interdit.po` beside this file, compiled to `.mo` (shipped in the
package; `python scripts/i18n.py compile` rebuilds them, a test fails when one is out of date). The languages
people pick stay "en" and "fr"; they are the locales en_CA and fr_CA. Message ids are stable keys
("status.title", "web.sign_in"), never English sentences, so changing a word never changes a key. A plural is
one entry: msgid "<key>.one", msgid_plural "<key>.other", one msgstr per plural form of the language.

French messages follow French typography (`typeset_fr`), applied to the catalogue's own words when it is loaded,
never to the values put in them (a device name is shown as its source wrote it). Catalogues load lazily, once.
"""

from __future__ import annotations

from datetime import date as _date
from datetime import datetime as _datetime
from functools import cache
from typing import Any

from interdit.errors import ConfigError

LANGS: tuple[str, ...] = ("en", "fr")
LOCALES: dict[str, str] = {"en": "en_CA", "fr": "fr_CA"}
DOMAIN = "interdit"
NBSP = "\u00a0"
NNBSP = "\u202f"  # narrow no-break space
NO_RATE = "—"  # what people see where a rate has no denominator ("no device in scope": never "100 %" of nothing)
_FR_SPACES = ((" :", NBSP + ":"), (" ;", NNBSP + ";"), (" !", NNBSP + "!"), (" ?", NNBSP + "?"),
              ("« ", "«" + NBSP), (" »", NBSP + "»"))


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ConfigError(f"unknown language {lang!r}",
                          fix="use one of: " + ", ".join(LANGS) + " (for example --lang fr)")
    return lang


def typeset_fr(text: str) -> str:
    """French typography: the plain space before : ; ! ? and », and after «, becomes a no-break one (narrow
    before ; ! ?), so a line never begins with the mark."""
    for plain, fixed in _FR_SPACES:
        text = text.replace(plain, fixed)
    return text


class _Catalogue:
    """One language's messages, read once from its compiled catalogue."""

    def __init__(self, lang: str) -> None:
        from importlib.resources import files

        from babel.support import Translations

        locale = LOCALES[lang]
        path = files("interdit.i18n").joinpath(f"locale/{locale}/LC_MESSAGES/{DOMAIN}.mo")
        with path.open("rb") as fp:
            translations = Translations(fp, domain=DOMAIN)
        fix = typeset_fr if lang == "fr" else (lambda s: s)
        raw: dict[Any, str] = translations._catalog  # msgid -> text; (msgid, form) -> text for a plural
        self.words: dict[str, str] = {}
        self.forms: dict[str, list[str]] = {}
        for key, value in raw.items():
            if isinstance(key, tuple):
                self.forms.setdefault(key[0], []).append("")
            elif key:  # the empty msgid is the header
                self.words[key] = fix(value)
        for (msgid, form), value in ((k, v) for k, v in raw.items() if isinstance(k, tuple)):
            self.forms[msgid][form] = fix(value)
        self.plural_form = translations.plural


@cache
def _catalogue(lang: str) -> _Catalogue:
    return _Catalogue(check_lang(lang))


def has(lang: str, key: str) -> bool:
    return key in _catalogue(lang).words


def keys(lang: str, prefix: str = "") -> list[str]:
    """The message keys of `lang` that begin with `prefix` (plurals by their ".one" key)."""
    cat = _catalogue(lang)
    return sorted(k for k in (*cat.words, *cat.forms) if k.startswith(prefix))


def text(lang: str, key: str, default: str | None = None) -> str:
    """The message `key` in `lang`. A missing key is a packaging bug: an error, unless a `default` is given."""
    found = _catalogue(lang).words.get(key)
    if found is not None:
        return found
    if default is not None:
        return default
    raise ConfigError(f"message {key!r} is missing from the {LOCALES.get(lang, lang)} catalogue",
                      fix="add it to both catalogues (src/interdit/i18n/locale, docs/i18n.md)")


def say(lang: str, key: str, /, *args: Any, **values: Any) -> str:
    """The message `key` with its placeholders filled ({name} from `values`, {0} from `args`)."""
    template = text(lang, key)
    return template.format(*args, **values) if args or values else template


def plural(lang: str, key: str, count: int, /, **values: Any) -> str:
    """The message `key` in the plural form `count` needs, by the language's rule, with {n} the count written
    as a number of the language. `key` names the entry without its ".one"."""
    cat = _catalogue(lang)
    forms = cat.forms.get(f"{key}.one")
    if not forms:
        raise ConfigError(f"plural message {key!r} is missing from the {LOCALES[lang]} catalogue",
                          fix="add it to both catalogues with msgid_plural (docs/i18n.md)")
    template = forms[min(cat.plural_form(count), len(forms) - 1)]
    return template.format(n=number(count, lang), **values)


def words(lang: str) -> dict[str, str]:
    """Every singular message of `lang`, keyed (for a template that looks words up itself)."""
    return _catalogue(lang).words


def number(value: float, lang: str, decimals: int | None = None) -> str:
    """1,234 / 1 234 (no-break space): an int as it is, a float with one decimal unless told."""
    from babel.numbers import format_decimal

    places = decimals if decimals is not None else (0 if isinstance(value, int) else 1)
    pattern = "#,##0" + ("." + "0" * places if places else "")
    return format_decimal(value, pattern, locale=LOCALES[check_lang(lang)])


def percent(rate: float | None, lang: str) -> str:
    """"87.5%" / "87,5 %" (no-break space before %), one decimal; NO_RATE when there is no rate."""
    if rate is None:
        return NO_RATE
    from babel import Locale
    from babel.numbers import format_percent

    locale = LOCALES[check_lang(lang)]
    pattern = Locale.parse(locale).percent_formats[None].pattern.replace("#,##0", "#,##0.0")
    return format_percent(rate, pattern, locale=locale)


def date(d: _date, lang: str) -> str:
    """"1 March 2023" / "1er mars 2023". Babel's CLDR form for fr_CA writes "1 mars"; French usage (and the
    Office québécois de la langue française) writes the first day of a month as the ordinal "1er"."""
    from babel.dates import format_date

    text_ = format_date(d, "d MMMM y", locale=LOCALES[check_lang(lang)])
    if lang == "fr" and d.day == 1:
        text_ = "1er" + text_[1:]
    return text_


def datetime(dt: _datetime, lang: str) -> str:
    """"1 March 2023, 14:05 UTC" / "1er mars 2023, 14 h 05 UTC" (the Québec way of writing the hour)."""
    from interdit.model import utc

    dt = utc(dt)
    clock = f"{dt.hour}{NBSP}h{NBSP}{dt.minute:02d}" if lang == "fr" else f"{dt:%H:%M}"
    return f"{date(dt.date(), lang)}, {clock} UTC"


@cache
def section(lang: str, prefix: str) -> dict[str, str]:
    """The singular messages under `prefix` (without "prefix."), for a module that looks its words up by the
    short key: `section("fr", "cli.worker")["job"]` is the message "cli.worker.job"."""
    start = prefix + "."
    return {k[len(start):]: v for k, v in _catalogue(lang).words.items() if k.startswith(start)}
