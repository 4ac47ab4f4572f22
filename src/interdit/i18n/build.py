"""Building and checking the catalogues (used by scripts/i18n.py and the tests, never at run time).

    compiled(locale)   the .mo bytes the locale's .po compiles to
    problems()         every message missing from a locale, or whose placeholders differ between locales
"""

from __future__ import annotations

import io
import string
from pathlib import Path

from interdit.i18n import DOMAIN, LOCALES

LOCALE_DIR = Path(__file__).parent / "locale"


def po_path(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def mo_path(locale: str) -> Path:
    return po_path(locale).with_suffix(".mo")


def read(locale: str) -> object:
    from babel.messages.pofile import read_po

    with po_path(locale).open("rb") as fp:
        return read_po(fp, locale=locale, domain=DOMAIN)


def compiled(locale: str) -> bytes:
    from babel.messages.mofile import write_mo

    out = io.BytesIO()
    write_mo(out, read(locale))  # type: ignore[arg-type]
    return out.getvalue()


def placeholders(text: str) -> set[str]:
    """The {fields} of a str.format template ("{n:,}" counts as "n")."""
    return {field.split(":")[0].split("!")[0] for _, field, _, _ in string.Formatter().parse(text)
            if field is not None}


def texts(locale: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for m in read(locale):  # type: ignore[attr-defined]
        if not m.id:
            continue
        key = m.id[0] if isinstance(m.id, tuple | list) else m.id
        out[key] = list(m.string) if isinstance(m.string, tuple | list) else [m.string]
    return out


def problems() -> list[str]:
    found: list[str] = []
    tables = {locale: texts(locale) for locale in LOCALES.values()}
    every = set().union(*tables.values())
    for key in sorted(every):
        shapes = {}
        for locale, table in tables.items():
            if key not in table:
                found.append(f"{key}: missing from {locale}")
                continue
            if any(not t for t in table[key]):
                found.append(f"{key}: empty in {locale}")
            shapes[locale] = set().union(*(placeholders(t) for t in table[key]))
        if len({frozenset(s - {"n"}) for s in shapes.values()}) > 1:
            found.append(f"{key}: placeholders differ: " + ", ".join(f"{loc} {sorted(s)}"
                                                                       for loc, s in shapes.items()))
    return found
