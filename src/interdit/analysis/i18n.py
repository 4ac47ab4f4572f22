"""Every word of an analysis report a person reads, in English and French: the "analysis." messages of the
project's catalogues (interdit.i18n, docs/i18n.md), seen as tables by their key.

Weakness titles and problem titles are keyed by their stable id or code; a test checks that every id and
code the analyzer can produce has both languages. Technical evidence (class names, manifest attributes,
entry names) is shown as found, untranslated.
"""

from __future__ import annotations

from interdit import i18n

LANGUAGES = i18n.LANGS


class Table:
    """The messages under one prefix: `key in table`, `table[key]` -> (English, French)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def message(self, key: str) -> str:
        return f"{self.prefix}.{key}"

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and i18n.has("en", self.message(key))

    def __getitem__(self, key: str) -> tuple[str, str]:
        return i18n.text("en", self.message(key)), i18n.text("fr", self.message(key))


T = Table
WORDS = Table("analysis")
VERDICTS = Table("analysis.verdict")
MATCH_KINDS = Table("analysis.match")
SEVERITIES = Table("analysis.severity")
PROTECTIONS = Table("analysis.protection")
GROUPS = Table("analysis.group")
SDK_CATEGORIES = Table("analysis.sdk_category")
WEAKNESSES = Table("analysis.weakness")
PROBLEMS = Table("analysis.problem")
DETAILS = Table("analysis.detail")
ENTITLEMENTS = Table("analysis.entitlement")
USAGE = Table("analysis.usage")


def pick(table: Table, key: str, lang: str, default: str | None = None) -> str:
    return i18n.text(lang if lang in LANGUAGES else "en", table.message(key), key if default is None else default)


def word(key: str, lang: str, *args: object) -> str:
    return pick(WORDS, key, lang).format(*args)
