"""What the policy loader tells a person, in English and French: (message, fix) templates by key, the
"policy." messages of the project's catalogues (docs/i18n.md).

The language is the policy's own `language:` when it can be read, else English.
"""

from __future__ import annotations

from typing import Any

from interdit import i18n


def _lang(lang: str) -> str:
    return lang if lang in i18n.LANGS else "en"


def say(lang: str, msg: str, /, **values: Any) -> tuple[str, str]:
    """The (message, fix) for `msg` in `lang` (English when the language is unknown): the catalogues' messages
    "policy.<msg>" and "policy.<msg>.fix" (either may be empty, never both)."""
    lang = _lang(lang)
    fix = i18n.text(lang, f"policy.{msg}.fix", "")
    message = i18n.text(lang, f"policy.{msg}", "" if fix else None)
    return message.format(**values), fix.format(**values)


def word(lang: str, key: str, /) -> str:
    return i18n.text(_lang(lang), f"policy.word.{key}", key)
